using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// <c>resilience serve ...</c> as a separate operating-system process (the build's own
/// resilience.dll), for tests that need several processes. Stopped on dispose.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stderr = [];

    public Uri Address { get; private set; } = null!;
    public string Log
    {
        get
        {
            lock (_stderr)
                return string.Join("\n", _stderr);
        }
    }

    private ChildProcess(Process process) => _process = process;

    /// <summary>A line of <c>/proc/PID/status</c> in bytes: <c>VmRSS</c> (resident now) or <c>VmHWM</c> (the peak).</summary>
    public long Memory(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException($"/proc/{_process.Id}/status has no {field}.");
    }

    /// <summary>The processor time the process has used so far (user and system, every thread).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    [GeneratedRegex(@"on (https?://127\.0\.0\.1:\d+/?)")]
    private static partial Regex Listening();

    public static Task<ChildProcess> ServeAsync(
        IReadOnlyDictionary<string, string> environment,
        params string[] args
    ) => StartAsync("resilience.dll", environment, ["serve", .. args, "--port", "0"]);

    /// <summary>Starts <c>dotnet DLL args</c> (a dll of the build) and waits for its "on http://127.0.0.1:PORT" line.</summary>
    public static async Task<ChildProcess> StartAsync(
        string dll,
        IReadOnlyDictionary<string, string> environment,
        params string[] args
    )
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment)
            psi.Environment[k] = v;
        var child = new ChildProcess(Process.Start(psi)!);
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        child._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (child._stderr)
                child._stderr.Add(e.Data);
            var m = Listening().Match(e.Data);
            if (m.Success)
                ready.TrySetResult(new Uri(m.Groups[1].Value));
        };
        child._process.OutputDataReceived += (_, _) => { };
        child._process.BeginErrorReadLine();
        child._process.BeginOutputReadLine();
        // A process that stops at start (a refused setting) is reported at once, with its log.
        var exited = child._process.WaitForExitAsync();
        var done = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (done != ready.Task)
        {
            await child.DisposeAsync();
            throw new InvalidOperationException($"'{dll} {string.Join(' ', args)}' did not start: {child.Log}");
        }
        child.Address = ready.Task.Result;
        return child;
    }

    private int _disposed;

    /// <summary>Kills the process (SIGKILL, as a crash would) and waits for it; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
