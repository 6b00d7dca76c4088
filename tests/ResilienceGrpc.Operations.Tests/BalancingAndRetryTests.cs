using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// Client-side load balancing over regression replicas, and the single retry layer
/// (service config, UNAVAILABLE only) riding out a restarted service.
/// </summary>
public class BalancingAndRetryTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    [Fact]
    public async Task TwoRegressionReplicasBehindOneAddressBothServeAStudy()
    {
        var a = new CallCounter();
        var b = new CallCounter();
        await using var replicaA = await Hosts.Start(RegressionGrpcService.Module, a);
        await using var replicaB = await Hosts.Start(RegressionGrpcService.Module, b);
        // One logical address for both replicas: static:/// with round-robin (dns:/// in Kubernetes).
        var endpoints = new StudyEndpoints(
            backends.Indexing.Address.ToString(),
            backends.Projection.Address.ToString(),
            $"{replicaA.Address},{replicaB.Address}"
        );
        await using var study = await Hosts.Study(endpoints);
        var request = new RunStudyRequest
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0 },
                Multiverse = new MultiverseSpec { Disabled = true },
            },
        };

        // The first study may start while one replica's connection is still being made (round-robin
        // only picks ready ones): every fit still lands on a replica. The second, with both
        // connected, is spread between them.
        var (first, _) = await Hosts.RunAsync(study, request);
        int firstFits = first.Tables.Sum(t => t.Models.Count);
        Assert.Equal(firstFits, a.Count + b.Count);
        int a0 = a.Count,
            b0 = b.Count;

        var (report, _) = await Hosts.RunAsync(study, request);
        int fits = report.Tables.Sum(t => t.Models.Count);
        int da = a.Count - a0,
            db = b.Count - b0;
        Assert.Equal(fits, da + db);
        Assert.True(da > 0 && db > 0, $"calls: {da} and {db}");
        Assert.True(Math.Abs(da - db) <= fits / 2, $"round-robin should spread the calls: {da} and {db}");
    }

    [Fact]
    public async Task AServiceRestartedMidStudyIsRetriedAndTheStudyCompletes()
    {
        int port = RedisServer.FreePort();
        var before = new CallCounter();
        var after = new CallCounter();
        var regression = await Hosts.Start(RegressionGrpcService.Module, before, port);
        await using var study = await Hosts.Study(
            new StudyEndpoints(backends.Indexing.Address, backends.Projection.Address, regression.Address)
        );

        Task? restart = null;
        var (report, _) = await Hosts.RunAsync(
            study,
            new RunStudyRequest
            {
                Dataset = "sample",
                // Enough work that regressions remain when the service goes away.
                Spec = new StudySpec
                {
                    Bootstrap = new BootstrapOptions { Replications = 5_000, Seed = 1 },
                },
            },
            p =>
            {
                if (p.Stage == "regressions" && restart is null)
                    restart = Task.Run(async () =>
                    {
                        // The service goes down: it stops listening at once and drains its calls in flight;
                        // the calls the study sends meanwhile are refused and wait to be retried.
                        await regression.DisposeAsync();
                        // A new one comes up on the same port, and is awaited by its health, not by a sleep.
                        regression = await Hosts.Start(RegressionGrpcService.Module, after, port);
                        await Hosts.WaitUntilServingAsync(regression.Address);
                    });
                return Task.CompletedTask;
            }
        );
        await restart!;
        await regression.DisposeAsync();

        Assert.All(report.Tables.SelectMany(t => t.Models), m => Assert.Equal("", m.Error));
        Assert.True(after.Count > 0, "the restarted service served the rest of the study");
        Assert.True(after.Retries > 0, "calls refused during the outage reached the restarted service as retries");
        Assert.True(before.Count + after.Count >= report.Tables.Sum(t => t.Models.Count));
    }
}
