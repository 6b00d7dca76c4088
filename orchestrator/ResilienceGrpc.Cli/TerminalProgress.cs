using System.Diagnostics;

namespace ResilienceGrpc.Cli;

/// <summary>
/// Progress on the terminal for long work: one line on stderr, rewritten in place, with
/// the elapsed time. Silent when stderr is not a terminal (pipes, CI logs, tests) unless
/// forced with <c>--progress</c>, in which case each update is its own line.
/// </summary>
public sealed class TerminalProgress : IDisposable
{
    private readonly TextWriter _err;
    private readonly bool _enabled;
    private readonly bool _inPlace;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private Timer? _ticker;
    private string _message = "";
    private bool _dirty;

    public TerminalProgress(TextWriter err, bool force)
    {
        _err = err;
        _inPlace = ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected;
        _enabled = _inPlace || force;
    }

    /// <summary>Shows a message; on a terminal it keeps ticking the elapsed time until the next report.</summary>
    public void Report(string message)
    {
        if (!_enabled)
            return;
        lock (_gate)
        {
            _message = message;
            Write();
            if (_inPlace)
                _ticker ??= new Timer(
                    _ =>
                    {
                        lock (_gate)
                            Write();
                    },
                    null,
                    500,
                    500
                );
        }
    }

    private void Write()
    {
        string line = $"{_message} [{_clock.Elapsed.TotalSeconds:0.0} s]";
        if (_inPlace)
        {
            _err.Write("\r\u001b[K" + line);
            _dirty = true;
        }
        else
            _err.WriteLine(line);
    }

    /// <summary>Ends the progress line.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _ticker?.Dispose();
            _ticker = null;
            if (_dirty)
            {
                _err.Write("\r\u001b[K");
                _dirty = false;
            }
        }
    }
}
