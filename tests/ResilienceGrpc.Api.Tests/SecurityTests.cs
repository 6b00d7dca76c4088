using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Configuration;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// TLS with a certificate made here, and bearer tokens: every call but health needs the
/// token, a missing or wrong one is UNAUTHENTICATED, the study forwards its own token to the
/// services, and the command line sends a token from a file and trusts a given certificate.
/// </summary>
public sealed class SecurityTests(ServiceStack services) : IClassFixture<ServiceStack>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private const string Token = "s3cret-token-for-the-tests-0123456789";

    private (string Cert, string Key, X509Certificate2 Certificate) SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(
            DateTimeOffset.UtcNow.AddMinutes(-5),
            DateTimeOffset.UtcNow.AddDays(1)
        );
        string cert = Path.Combine(_dir, "server.crt"),
            keyFile = Path.Combine(_dir, "server.key");
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyFile, X509CertificateLoader.LoadCertificate(certificate.RawData));
    }

    private string TokenFile(string token = Token)
    {
        var path = Path.Combine(_dir, $"token-{Guid.NewGuid():N}");
        File.WriteAllText(path, token + "\n");
        return path;
    }

    private static FitRequest City38() => BadFitInputTests.SmallFit();

    /// <summary>A regression service serving TLS with a fresh self-signed certificate.</summary>
    private async Task<(RunningService Host, X509Certificate2 Certificate)> TlsRegression()
    {
        var (cert, key, certificate) = SelfSigned();
        var host = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?>
            {
                [ServerSecurity.CertificateKey] = cert,
                [ServerSecurity.PrivateKeyKey] = key,
            }
        );
        return (host, certificate);
    }

    [Fact]
    public async Task TlsServesTheSameFitToATrustingClientAndNoOther()
    {
        var (host, certificate) = await TlsRegression();
        await using var _ = host;
        Assert.Equal("https", host.Address.Scheme);

        using var trusting = GrpcChannels.Create(host.Address.ToString(), new ChannelSecurity(null, certificate));
        var overTls = await new RegressionService.RegressionServiceClient(trusting).FitAsync(City38());
        var overH2c = await new RegressionService.RegressionServiceClient(services.RegressionChannel).FitAsync(
            City38()
        );
        Assert.Equal(overH2c.ToByteString(), overTls.ToByteString());

        // A client that does not trust the certificate, and a cleartext client, get nothing.
        using var untrusting = GrpcChannels.Create(host.Address.ToString());
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            new RegressionService.RegressionServiceClient(untrusting)
                .FitAsync(City38(), deadline: DateTime.UtcNow.AddSeconds(30))
                .ResponseAsync
        );
        Assert.NotEqual(StatusCode.OK, e.StatusCode); // the client's own TLS failure (Grpc.Net.Client reports INTERNAL)
        Assert.Contains("SSL", e.Status.Detail);
        using var cleartext = GrpcChannels.Create(new UriBuilder(host.Address) { Scheme = "http" }.Uri.ToString());
        e = await Assert.ThrowsAsync<RpcException>(() =>
            new RegressionService.RegressionServiceClient(cleartext)
                .FitAsync(City38(), deadline: DateTime.UtcNow.AddSeconds(30))
                .ResponseAsync
        );
        Assert.NotEqual(StatusCode.OK, e.StatusCode);
    }

    [Fact]
    public async Task OverTlsAnHttp2JsonBodyOverItsLimitGetsTheSame413()
    {
        // Over TLS, HTTP/JSON shares the gRPC port and a client may speak HTTP/2 to it, where
        // a response may not carry a Connection header.
        var (host, certificate) = await TlsRegression();
        await using var _ = host;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var http = new HttpClient(handler);
        var body = new byte[ServiceDefaultsExtensions.MaxJsonBodyBytes + 1];
        body.AsSpan().Fill((byte)' ');
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.Address, "/v1/regression:fit"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("\"code\": 8", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EveryCallButHealthNeedsTheBearerToken()
    {
        await using var host = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?> { [ServerSecurity.TokenKey] = TokenFile() }
        );
        using var anonymous = GrpcChannels.Create(host.Address.ToString());
        using var wrong = GrpcChannels.Create(
            host.Address.ToString(),
            new ChannelSecurity("not-the-token-0123456789", null)
        );
        using var right = GrpcChannels.Create(host.Address.ToString(), new ChannelSecurity(Token, null));

        foreach (var channel in new[] { anonymous, wrong })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                new RegressionService.RegressionServiceClient(channel).FitAsync(City38()).ResponseAsync
            );
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
            Assert.DoesNotContain(Token, e.Status.Detail);
            var stream = new RegressionService.RegressionServiceClient(channel).FitStream();
            var s = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, s.StatusCode);
        }
        Assert.Equal(
            3,
            (await new RegressionService.RegressionServiceClient(right).FitAsync(City38())).Coefficients.Count
        );

        var health = await new Health.HealthClient(anonymous).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task TheStudyForwardsItsOwnTokenToTheServices()
    {
        var settings = new Dictionary<string, string?> { [ServerSecurity.TokenKey] = TokenFile() };
        await using var indexing = await Hosts.Start(IndexingGrpcService.Module, settings: settings);
        await using var projection = await Hosts.Start(ProjectionGrpcService.Module, settings: settings);
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, settings: settings);
        await using var study = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(new StudyEndpoints(indexing.Address, projection.Address, regression.Address))],
            new HostOptions(Quiet: true, Settings: settings)
        );
        var request = new RunStudyRequest
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0 },
                Multiverse = new MultiverseSpec { Disabled = true },
            },
        };

        using var anonymous = GrpcChannels.Create(study.Address.ToString());
        var e = await Assert.ThrowsAsync<RpcException>(() => StudyStream.RunAsync(anonymous, request));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        using var right = GrpcChannels.Create(study.Address.ToString(), new ChannelSecurity(Token, null));
        var (report, _) = await StudyStream.RunAsync(right, request);
        Assert.All(report.Tables.SelectMany(t => t.Models), m => Assert.NotNull(m.Fit));

        // A study server without the services' token is a deployment fault, said as such.
        await using var tokenless = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(new StudyEndpoints(indexing.Address, projection.Address, regression.Address))],
            new HostOptions(Quiet: true)
        );
        using var toTokenless = GrpcChannels.Create(tokenless.Address.ToString());
        e = await Assert.ThrowsAsync<RpcException>(() => StudyStream.RunAsync(toTokenless, request));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("refused the study server's token", e.Status.Detail);
    }

    [Fact]
    public async Task TheCommandLineSendsItsTokenFromAFileAndTrustsTheGivenCertificate()
    {
        var (cert, key, _) = SelfSigned();
        var token = TokenFile();
        await using var host = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?>
            {
                [ServerSecurity.CertificateKey] = cert,
                [ServerSecurity.PrivateKeyKey] = key,
                [ServerSecurity.TokenKey] = token,
            }
        );
        var data = Path.Combine(Reference.Dir, Reference.Json("city38").GetProperty("data").GetString()!);
        string[] fit =
        [
            "regress",
            "--data",
            data,
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity",
            "--regression",
            host.Address.ToString(),
            "--tls-ca",
            cert,
        ];

        var (exit, _, err) = await CliRunner.Run([.. fit, "--token-file", token]);
        Assert.True(exit == 0, err);

        (exit, _, err) = await CliRunner.Run(fit);
        Assert.NotEqual(0, exit);
        Assert.Contains("bearer token", err);
        CliRunner.AssertOneSentence(err);

        (exit, _, err) = await CliRunner.Run([.. fit, "--token-file", Path.Combine(_dir, "missing")]);
        Assert.Equal(2, exit);
        Assert.Contains("cannot be read", err);
    }

    [Theory]
    [InlineData("token-only-cert", "TLS needs both Tls:CertificateFile and Tls:KeyFile")]
    [InlineData("missing-token-file", "Auth:TokenFile")]
    [InlineData("short-token", "at least 16 printable ASCII characters")]
    [InlineData("empty-token-file", "holds no token")]
    public void BadSecuritySettingsStopTheServerNamingTheKey(string what, string expected)
    {
        var settings = what switch
        {
            "token-only-cert" => new Dictionary<string, string?>
            {
                [ServerSecurity.CertificateKey] = SelfSigned().Cert,
            },
            "missing-token-file" => new() { [ServerSecurity.TokenKey] = Path.Combine(_dir, "nowhere") },
            "short-token" => new() { [ServerSecurity.TokenKey] = TokenFile("short") },
            _ => new() { [ServerSecurity.TokenKey] = TokenFile("   ") },
        };
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var e = Assert.Throws<InvalidConfigurationException>(() => ServerSecurity.From(config));
        Assert.Contains(expected, e.Message);
    }
}
