using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The specification curve fanned out over real regression replicas on loopback: the same
/// results.json (apart from timings) with 1, 2 or 5 replicas, a fair share of the fits for
/// each, and a replica killed mid-curve (SIGKILL of a separate process) costing nothing.
/// </summary>
public class MultiverseScalingTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    /// <summary>The default curve (1,872 specifications), each with a small bootstrap of its own seed; the tables without one.</summary>
    private static RunStudyRequest Request() =>
        new()
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0, Seed = 5 },
                Multiverse = new MultiverseSpec
                {
                    Weightings = { MultiversePlan.Default().Weightings },
                    WithinDimension = { false, true },
                    GrowthMethods = { MultiversePlan.Default().GrowthMethods },
                    CovarianceTypes = { MultiversePlan.Default().CovarianceTypes },
                    Bootstrap = 49,
                },
            },
        };

    /// <summary>results.json without the run's start time and duration.</summary>
    private static string Untimed(StudyReport report)
    {
        var copy = report.Clone();
        copy.Manifest.StartedAt = "";
        copy.Manifest.ElapsedSeconds = 0;
        return ReportWriter.ResultsJson(copy);
    }

    private async Task<(string Results, CallCounter[] Counters)> RunWith(int replicas)
    {
        var counters = Enumerable.Range(0, replicas).Select(_ => new CallCounter()).ToArray();
        var hosts = new List<ServiceDefaults.RunningService>();
        try
        {
            foreach (var c in counters)
                hosts.Add(await Hosts.Start(RegressionGrpcService.Module, c));
            var endpoints = new StudyEndpoints(
                backends.Indexing.Address.ToString(),
                backends.Projection.Address.ToString(),
                string.Join(",", hosts.Select(h => h.Address.ToString()))
            );
            await using var study = await Hosts.Study(endpoints);
            var (report, _) = await Hosts.RunAsync(study, Request());
            Assert.Equal(1872, report.Multiverse.Specifications.Count);
            Assert.All(report.Multiverse.Specifications, s => Assert.True(s.Error == "" && s.HasBootstrapPValue));
            return (Untimed(report), counters);
        }
        finally
        {
            foreach (var h in hosts)
                await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task OneTwoAndFiveReplicasGiveTheSameResultsAndEachServesAFairShare()
    {
        var (one, _) = await RunWith(1);
        foreach (int replicas in new[] { 2, 5 })
        {
            var (results, counters) = await RunWith(replicas);
            Assert.Equal(one, results);
            int models = counters.Sum(c => c.Models);
            Assert.Equal(1872, models);
            // Round-robin over batches of equal size: every replica gets at least half its even share.
            Assert.All(
                counters,
                c =>
                    Assert.True(
                        c.Models >= models / replicas / 2,
                        $"{replicas} replicas received {string.Join(", ", counters.Select(x => x.Models))} of {models} fits"
                    )
            );
        }
    }

    [Fact]
    public async Task AReplicaKilledMidCurveStillCompletesTheStudyWithTheSameResults()
    {
        var (reference, _) = await RunWith(1);

        var survivor = new CallCounter();
        await using var a = await Hosts.Start(RegressionGrpcService.Module, survivor);
        var b = await ChildProcess.ServeAsync(new Dictionary<string, string>(), "regression");
        try
        {
            var endpoints = new StudyEndpoints(
                backends.Indexing.Address.ToString(),
                backends.Projection.Address.ToString(),
                $"{a.Address},{b.Address}"
            );
            await using var study = await Hosts.Study(endpoints);
            Task? kill = null;
            var (report, progress) = await Hosts.RunAsync(
                study,
                Request(),
                p =>
                {
                    // The first batch back: the rest of the curve is queued or in flight on both replicas.
                    if (p.Stage == "multiverse" && kill is null)
                        kill = b.DisposeAsync().AsTask();
                    return Task.CompletedTask;
                }
            );
            Assert.NotNull(kill);
            await kill!;
            Assert.Equal(reference, Untimed(report));
            Assert.True(progress.Count(p => p.Stage == "multiverse") > 1, "the curve went on after the kill");
            Assert.True(
                survivor.Models > 1872 / 2,
                $"the surviving replica took over the curve: {survivor.Models} fits"
            );
        }
        finally
        {
            await b.DisposeAsync();
        }
    }
}
