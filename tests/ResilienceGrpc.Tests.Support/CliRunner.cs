using ResilienceGrpc.Cli;
using Xunit;

namespace ResilienceGrpc.Tests.Support;

/// <summary>Runs the <c>resilience</c> command line in-process and checks its error contract.</summary>
public static class CliRunner
{
    /// <summary>Runs the command line with captured stdout and stderr.</summary>
    public static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await CommandLineApp.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs <c>dotnet DLL args</c> (a dll of the build, such as resilience.dll) as a child process,
    /// for what only a separate process shows: the host's own console logging, the environment,
    /// a thread that cannot be stopped. Killed, and the test failed, after <paramref name="limit"/>
    /// (default 2 minutes), so a hang cannot stall the run.
    /// </summary>
    public static async Task<(int Exit, string Err)> RunProcess(
        string dll,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        TimeSpan? limit = null
    )
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
            psi.WorkingDirectory = workingDirectory;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        using var child = System.Diagnostics.Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = child.StandardOutput.ReadToEndAsync();
        using var guard = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(2));
        try
        {
            await child.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw;
        }
        await stdout;
        return (child.ExitCode, await stderr);
    }

    /// <summary>An error is one line on stderr, starting "error: ", with no stack trace.</summary>
    public static void AssertOneSentence(string err)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", err);
    }
}
