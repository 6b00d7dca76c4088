using System.Diagnostics;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The study server's own entry point (the study image's): configured by the environment,
/// it runs a study against the services; a missing or malformed setting stops it at start,
/// naming the key; its health verb answers for container health checks.
/// </summary>
public class StudyServerTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    private Dictionary<string, string> Environment() =>
        new()
        {
            ["Services__indexing"] = backends.Indexing.Address.ToString(),
            ["Services__projection"] = backends.Projection.Address.ToString(),
            ["Services__regression"] = backends.Regression.Address.ToString(),
            ["Server__Port"] = "0",
            ["Server__Bind"] = "127.0.0.1",
        };

    [Fact]
    public async Task TheStudyServerProcessRunsAStudyFromItsEnvironmentAndAnswersHealth()
    {
        await using var server = await ChildProcess.StartAsync("ResilienceGrpc.Study.dll", Environment());
        var (report, _) = await Hosts.RunAsync(
            server.Address,
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec
                {
                    Bootstrap = new BootstrapOptions { Replications = 0 },
                    Multiverse = new MultiverseSpec { Disabled = true },
                },
            }
        );
        Assert.All(report.Tables.SelectMany(t => t.Models), m => Assert.Equal("", m.Error));
        var (exit, err) = await Run(new(), "health", "--address", server.Address.ToString());
        Assert.True(exit == 0, err);
        Assert.Contains("Serving", err);
    }

    [Theory]
    [InlineData("Services__regression", "", "Services:regression is not set")]
    [InlineData("Services__indexing", "ftp://x", "Services:indexing = 'ftp://x' is not an address")]
    [InlineData("Server__Port", "70000", "Server:Port = '70000' is not a TCP port")]
    [InlineData("Cache__OperationTimeoutMs", "-1", "Cache:OperationTimeoutMs = '-1'")]
    [InlineData("ConnectionStrings__redis", "localhost:99999", "The Redis address 'localhost:99999'")]
    [InlineData("ConnectionStrings__redis", ":::::", "The Redis address ':::::'")]
    public async Task ABadSettingStopsTheServerAtStartNamingTheKey(string key, string value, string expected)
    {
        var env = Environment();
        env[key] = value;
        var (exit, err) = await Run(env);
        Assert.Equal(2, exit);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
    }

    private static Task<(int Exit, string Err)> Run(Dictionary<string, string> env, params string[] args) =>
        ResilienceGrpc.Tests.Support.CliRunner.RunProcess("ResilienceGrpc.Study.dll", args, env, limit: TimeSpan.FromSeconds(60));
}
