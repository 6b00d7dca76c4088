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
        for (int i = 0; i < 200 && !(m = Listening().Match(stderr.ToString())).Success; i++)
            await Task.Delay(50);
        Assert.True(m.Success, "the server did not say where it listens: " + stderr);
        var url = m.Groups[1].Value;

        using (var channel = GrpcChannels.Create(new Uri(url)))
        {
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        if (service == "regression")
        {
            var (exit, stdout, err) = await CliTests.Run(
                "regress",
                "--data",
                Path.Combine(ResilienceGrpc.Tests.Support.Reference.Dir, "stackloss.csv"),
                "--y",
                "stack.loss",
                "--x",
                "Air.Flow,Water.Temp,Acid.Conc.",
                "--format",
                "json",
                "--regression",
                url
            );
            Assert.True(exit == 0, err);
            Assert.Equal(21, Google.Protobuf.JsonParser.Default.Parse<FitResponse>(stdout).Model.NObs);
        }
        stop.Cancel();
        Assert.Equal(CommandLineApp.ExitOk, await server.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("missing-tls", "the file does not exist")]
    [InlineData("garbage-tls", "they are not a PEM certificate and its private key")]
    [InlineData("missing-token", "the file does not exist")]
    public async Task AnUnusableTlsOrTokenFileIsNamedWithAReasonInWords(string what, string reason)
    {
        var dir = Directory.CreateTempSubdirectory("resilience-serve-").FullName;
        try
        {
            var garbage = Path.Combine(dir, "garbage.pem");
            File.WriteAllText(garbage, "not a certificate\n");
            var missing = Path.Combine(dir, "missing.pem");
            string[] args = what switch
            {
                "missing-tls" => ["--tls-cert", missing, "--tls-key", missing],
                "garbage-tls" => ["--tls-cert", garbage, "--tls-key", garbage],
                _ => ["--token-file", missing],
            };
            var (exit, _, err) = await CliTests.Run(["serve", "regression", "--port", "0", .. args]);
            Assert.Equal(CommandLineApp.ExitUsage, exit);
            ResilienceGrpc.Tests.Support.CliRunner.AssertOneSentence(err);
            Assert.Contains(reason, err);
            Assert.DoesNotContain("Exception", err); // it used to end "(FileNotFoundException)"
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--port")]
    [InlineData("--http-port")]
    [InlineData("same")]
    [InlineData("--bind")]
    public async Task APortThatIsTakenIsOneSentenceWithoutAStackTrace(string which)
    {
        // A separate process, so that the host's own logging (to the console) is seen as a user sees it.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var args = which switch
        {
            "--port" => new[] { "--port", $"{taken}" },
            "--http-port" => ["--port", "0", "--http-port", $"{taken}"],
            // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
            "--bind" => ["--bind", "192.0.2.1", "--port", "0"],
            _ => ["--port", "5999", "--http-port", "5999"],
        };
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "resilience.dll"), "serve", "regression" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var child = System.Diagnostics.Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        await child.StandardOutput.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1)); // a hang guard
        await child.WaitForExitAsync(guard.Token);
        var err = await stderr;
        Assert.Equal(CommandLineApp.ExitUsage, child.ExitCode);
        ResilienceGrpc.Tests.Support.CliRunner.AssertOneSentence(err);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
        if (which == "same")
            Assert.Contains("both 5999", err);
        else if (which == "--bind")
            Assert.Contains("Cannot listen on 192.0.2.1: no network interface of this machine has that address", err);
        else
            Assert.Contains($"127.0.0.1:{taken}", err);
    }

    [Fact]
    public async Task ReflectionIsSwitchedOffByConfigurationAndNoResponseNamesTheServer()
    {
        await using var host = await ServiceHosting.StartAsync(
            [Regression.Api.RegressionGrpcService.Module],
            new HostOptions(Quiet: true),
            b => b.Configuration[ConfigurationKeys.ReflectionKey] = "false"
        );
        using var channel = GrpcChannels.Create(host.Address);
        var call = new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await call).Status); // health stays on
        Assert.DoesNotContain(await call.ResponseHeadersAsync, h => h.Key == "server");

        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(channel);
        using var stream = reflection.ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30)); // a hang guard: with reflection on, the server would wait for a request
        // An unmapped method is refused on its headers alone: read without writing, so the refusal
        // cannot race a write into a call the server has already ended.
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            stream.ResponseStream.MoveNext(CancellationToken.None)
        );
        Assert.Equal(Grpc.Core.StatusCode.Unimplemented, e.StatusCode);
    }
}
