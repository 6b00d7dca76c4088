using System.Text.Json;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The engine's options and bench verbs from the command line: the pivot tolerance on
/// NIST's Filip problem (oracle: NIST's certified values, 7 digits), its refusal at R's
/// default, a bad tolerance, a header that is not echoed, and the bench verbs' JSON shape
/// (their numbers are timings, so only their presence and sign are checked).
/// </summary>
public class EngineCliTests
{
    private static Task<(int Exit, string Out, string Err)> Run(params string[] args) => CliRunner.Run(args);

    private static readonly string Filip = Path.Combine(Reference.Dir, "strd", "filip.csv");

    private static string Powers(int degree) =>
        string.Join(",", Enumerable.Range(1, degree).Select(d => string.Join("*", Enumerable.Repeat("x", d))));

    [Fact]
    public async Task RegressReachesFilipsCertifiedValuesWithASmallTolerance()
    {
        var (exit, stdout, stderr) = await Run(
            "regress",
            "--data",
            Filip,
            "--y",
            "y",
            "--x",
            Powers(10),
            "--vce",
            "classical",
            "--tolerance",
            "1e-10",
            "--format",
            "json"
        );
        Assert.True(exit == 0, stderr);
        var certified = JsonDocument
            .Parse(File.ReadAllText(Path.Combine(Reference.Dir, "strd", "certified.json")))
            .RootElement.GetProperty("filip");
        var beta = certified.GetProperty("beta").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var coefs = JsonDocument.Parse(stdout).RootElement.GetProperty("coefficients").EnumerateArray().ToArray();
        // Response order: slopes x, x², …, then _cons; certified order: intercept first.
        for (int d = 1; d <= 10; d++)
            Reference.Close(beta[d], coefs[d - 1].GetProperty("estimate").GetDouble(), 1e-7, $"filip beta{d}");
        Reference.Close(beta[0], coefs[10].GetProperty("estimate").GetDouble(), 1e-7, "filip beta0");
    }

    [Fact]
    public async Task AtRsDefaultToleranceFilipIsRefusedNamingTheAliasedPower()
    {
        var (exit, _, stderr) = await Run("regress", "--data", Filip, "--y", "y", "--x", Powers(10));
        Assert.Equal(1, exit);
        Assert.Contains("collinear", stderr);
        Assert.Contains("x*x*x*x*x*x*x*x*x*x", stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("-1e-7")]
    [InlineData("NaN")]
    public async Task AToleranceOutsideItsRangeIsOneSentenceNamingTheLimits(string tolerance)
    {
        var (exit, _, stderr) = await Run("regress", "--data", Filip, "--y", "y", "--x", "x", "--tolerance", tolerance);
        Assert.Equal(1, exit);
        Assert.Contains("pivot tolerance must be at least 1e-15 and below 1", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task AFileThatIsNoCsvIsNotEchoedInTheError()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("resilience-engine-").FullName, "secret.txt");
        File.WriteAllText(path, "root:$y$j9T$SECRETHASHVALUE:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n");
        var (exit, _, stderr) = await Run("regress", "--data", path, "--y", "y", "--x", "x");
        Assert.Equal(1, exit);
        Assert.DoesNotContain("SECRETHASH", stderr);
        Assert.Contains("no column 'y'", stderr);
    }

    [Theory]
    [InlineData("ols")]
    [InlineData("bootstrap")]
    public async Task ANegativeThreadCountIsAUsageError(string verb)
    {
        // It used to run with one thread per core, as if 0 had been given.
        var (exit, stdout, stderr) = await Run("bench", verb, "--threads", "-1", "--n", "100", "--runs", "1");
        Assert.Equal(ResilienceGrpc.Cli.CommandLineApp.ExitUsage, exit);
        Assert.Empty(stdout);
        Assert.Contains("--threads must be 0 (one per core) or more; -1 was given.", stderr);
    }

    [Theory]
    [InlineData("ols", "--n", "5000", "--k", "4", "--threads", "1")]
    [InlineData("ols", "--grpc", "--n", "20000", "--k", "3")]
    [InlineData("bootstrap", "--n", "38", "--k", "3", "--b", "199")]
    public async Task EveryBenchVerbPrintsOneJsonLineWithItsTimings(params string[] args)
    {
        var (exit, stdout, stderr) = await Run(["bench", .. args, "--runs", "3", "--warmup", "1"]);
        Assert.True(exit == 0, stderr);
        var line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var json = JsonDocument.Parse(line).RootElement;
        foreach (var field in new[] { "median_ms", "min_ms", "max_ms" })
            Assert.True(json.GetProperty(field).GetDouble() > 0, field);
        Assert.Equal(3, json.GetProperty("runs").GetInt32());
        Assert.True(json.GetProperty("cores").GetInt32() >= 1);
        Assert.True(json.GetProperty("min_ms").GetDouble() <= json.GetProperty("max_ms").GetDouble());
    }

    [Fact]
    public async Task BenchStudyCountsTheSpecificationsOfTheSpecItRan()
    {
        var spec = Path.Combine(Directory.CreateTempSubdirectory("resilience-bench-").FullName, "spec.json");
        File.WriteAllText(
            spec,
            """{"bootstrap": {"replications": 0}, "multiverse": {"covarianceTypes": ["COVARIANCE_TYPE_HC3"], "dropOneCity": false}}"""
        );
        var (exit, stdout, stderr) = await Run("bench", "study", "--spec", spec, "--runs", "2", "--warmup", "0");
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(2, json.GetProperty("specifications").GetInt32()); // the study's HC1 is added to HC3
        Assert.Equal("embedded-warm", json.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task BenchThroughputReportsFitsPerSecondWithNoFailures()
    {
        var (exit, stdout, stderr) = await Run(
            "bench",
            "throughput",
            "--concurrency",
            "4",
            "--seconds",
            "1",
            "--warmup-seconds",
            "0.5"
        );
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(0.5, json.GetProperty("warmup_seconds").GetDouble());
        Assert.True(json.GetProperty("fits").GetInt64() > 0);
        Assert.Equal(0, json.GetProperty("failed").GetInt64());
        Assert.True(json.GetProperty("p50_ms").GetDouble() <= json.GetProperty("p99_ms").GetDouble());
    }
}
