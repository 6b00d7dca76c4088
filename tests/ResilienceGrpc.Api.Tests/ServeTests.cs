using System.Text.RegularExpressions;
using Grpc.Health.V1;
using ResilienceGrpc.Cli;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary><c>resilience serve</c> runs one service as a standalone server that other clients (and the CLI) can call.</summary>
public partial class ServeTests
{
    [GeneratedRegex(@"on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [Theory]
    [InlineData("indexing")]
    [InlineData("projection")]
    [InlineData("regression")]
    public async Task ServeRunsAStandaloneServerUntilStopped(string service)
    {
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var server = CommandLineApp.RunAsync(["serve", service, "--port", "0"], TextWriter.Null, stderr, stop.Token);
        Match m = Match.Empty;
        for (int i = 0; i < 200 && !(m = Listening().Match(stderr.ToString())).Success; i++) await Task.Delay(50);
        Assert.True(m.Success, "the server did not say where it listens: " + stderr);
        var url = m.Groups[1].Value;

        using (var channel = GrpcChannels.Create(new Uri(url)))
        {
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        if (service == "regression")
        {
            var (exit, stdout, err) = await CliTests.Run("regress", "--data", Path.Combine(ResilienceGrpc.Tests.Support.Reference.Dir, "stackloss.csv"),
                "--y", "stack.loss", "--x", "Air.Flow,Water.Temp,Acid.Conc.", "--format", "json", "--regression", url);
            Assert.True(exit == 0, err);
            Assert.Equal(21, Google.Protobuf.JsonParser.Default.Parse<FitResponse>(stdout).Model.NObs);
        }
        stop.Cancel();
        Assert.Equal(CommandLineApp.ExitOk, await server.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
