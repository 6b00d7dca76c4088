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

    /// <summary>An error is one line on stderr, starting "error: ", with no stack trace.</summary>
    public static void AssertOneSentence(string err)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", err);
    }
}
