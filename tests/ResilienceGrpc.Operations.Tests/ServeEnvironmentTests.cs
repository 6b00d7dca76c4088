using Grpc.Core;
using Grpc.Net.Client;
using ResilienceGrpc.Contracts.Regression.V1;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// <c>resilience serve</c> configured the way deploy/ configures it: the environment names the
/// token file (<c>Auth__TokenFile</c>) and the TLS files (<c>Tls__*</c>), the command line does not.
/// Null entries for the options not given used to hide those variables, so every deployed
/// service ran without a token and without TLS.
/// </summary>
public class ServeEnvironmentTests
{
    [Fact]
    public async Task AuthTokenFileInTheEnvironmentIsEnforcedAsTheManifestsExpect()
    {
        var dir = Directory.CreateTempSubdirectory("resilience-serve-env-").FullName;
        var tokenFile = Path.Combine(dir, "token");
        const string token = "a-token-of-the-deployment-0123456789";
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        await using var server = await ChildProcess.ServeAsync(
            new Dictionary<string, string> { ["Auth__TokenFile"] = tokenFile },
            "regression"
        );
        Assert.Contains("bearer token needed", server.Log);

        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new RegressionService.RegressionServiceClient(channel);
        var without = await Assert.ThrowsAsync<RpcException>(async () => await client.FitAsync(new FitRequest()));
        Assert.Equal(StatusCode.Unauthenticated, without.StatusCode);

        // With the token the call reaches the service, which refuses the empty request itself.
        var headers = new Metadata { { "authorization", "Bearer " + token } };
        var with = await Assert.ThrowsAsync<RpcException>(async () => await client.FitAsync(new FitRequest(), headers));
        Assert.Equal(StatusCode.InvalidArgument, with.StatusCode);
    }

    [Fact]
    public async Task TlsFilesInTheEnvironmentAreServedOrRefused()
    {
        // A certificate file that is not PEM must stop the server, not be skipped for h2c.
        var dir = Directory.CreateTempSubdirectory("resilience-serve-env-").FullName;
        var notPem = Path.Combine(dir, "cert.pem");
        await File.WriteAllTextAsync(notPem, "not a certificate\n");
        var start = ChildProcess.ServeAsync(
            new Dictionary<string, string> { ["Tls__CertificateFile"] = notPem, ["Tls__KeyFile"] = notPem },
            "regression"
        );
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await (await start).DisposeAsync());
        Assert.Contains("Tls:CertificateFile", e.Message);
    }
    [Theory]
    [InlineData("study")]
    [InlineData("bench", "ols", "--grpc", "--n", "2000", "--k", "3", "--runs", "1", "--warmup", "0")]
    public async Task EmbeddedServicesIgnoreTheDeploymentsTokenInTheEnvironment(params string[] args)
    {
        // A shell or container that exports Auth__TokenFile for its services: the command line's
        // embedded services take their security from the command line only. The embedded
        // backends used to demand the token that the embedded study service never sent ("The
        // indexing service ... refused the study server's token").
        var dir = Directory.CreateTempSubdirectory("resilience-serve-env-").FullName;
        var tokenFile = Path.Combine(dir, "token");
        await File.WriteAllTextAsync(tokenFile, "a-token-of-the-deployment-0123456789\n");
        var (exit, err) = await ResilienceGrpc.Tests.Support.CliRunner.RunProcess(
            "resilience.dll",
            args,
            new Dictionary<string, string> { ["Auth__TokenFile"] = tokenFile },
            workingDirectory: dir,
            limit: TimeSpan.FromMinutes(3)
        );
        Assert.True(exit == 0, err);
    }
}
