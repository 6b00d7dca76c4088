using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// A study whose service is a black hole (a listener that accepts TCP and never answers)
/// fails at its preflight with UNAVAILABLE naming the service and no .NET text, before any
/// call of the study's work, instead of hanging for minutes.
/// </summary>
public class FailFastTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    [Theory]
    [InlineData("indexing")]
    [InlineData("regression")]
    public async Task ABlackHoleServiceFailsTheStudyAtOnceNamingIt(string silent)
    {
        using var hole = new TcpListener(IPAddress.Loopback, 0);
        hole.Start();
        var accepted = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                    accepted.Add(await hole.AcceptSocketAsync(stop.Token));
            }
            catch (OperationCanceledException) { }
        });
        string address = $"http://127.0.0.1:{((IPEndPoint)hole.LocalEndpoint).Port}";
        var endpoints = new StudyEndpoints(
            silent == "indexing" ? address : backends.Indexing.Address.ToString(),
            backends.Projection.Address.ToString(),
            silent == "regression" ? address : backends.Regression.Address.ToString()
        );
        await using var study = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(endpoints)],
            new HostOptions(Quiet: true)
        );
        using var channel = GrpcChannels.Create(study.Address);

        int before = backends.IndexingCalls.Count + backends.ProjectionCalls.Count + backends.RegressionCalls.Count;
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            StudyStream.RunAsync(
                channel,
                new RunStudyRequest
                {
                    Dataset = "sample",
                    Spec = new StudySpec { Bootstrap = new BootstrapOptions { Replications = 0 } },
                }
            )
        );
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        // The study gave up at its preflight (the event), before any call reached the services that answer.
        Assert.Equal(
            before,
            backends.IndexingCalls.Count + backends.ProjectionCalls.Count + backends.RegressionCalls.Count
        );
        Assert.Contains($"The {silent} service at {address}", e.Status.Detail);
        Assert.Contains("health check", e.Status.Detail);
        Assert.DoesNotContain("Exception", e.Status.Detail);
        Assert.NotEmpty(accepted); // the study did reach the listener
        await stop.CancelAsync();
        await accepting;
        foreach (var s in accepted)
            s.Dispose();
    }
}
