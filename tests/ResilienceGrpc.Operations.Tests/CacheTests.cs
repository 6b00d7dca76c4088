using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Study.Data;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The cache of intermediates against a real redis-server: a second identical study reads
/// the index and the projection from Redis; Redis down at start, or killed mid-run, costs
/// only a recomputation, reported as "unavailable"; failures are never cached.
/// </summary>
public class CacheTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    /// <summary>The tables' indices and projection, and the specification curve's within-dimension indices and arithmetic projection.</summary>
    private static readonly string[] Intermediates =
    [
        "index-critic",
        "index-critic-within",
        "index-entropy",
        "index-entropy-within",
        "index-equal",
        "index-equal-within",
        "projection",
        "projection-arithmetic-2015-2019",
    ];

    /// <summary>Fast studies for the cache tests (the bootstrap is beside the point here).</summary>
    private static RunStudyRequest Request(double shift = 0.0001) =>
        new()
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0 },
                Shift = shift,
            },
        };

    /// <summary>A live Redis: generous timeouts, so a busy test machine is not mistaken for an outage.</summary>
    private static CacheSettings Redis(string address) =>
        new(address, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));

    /// <summary>A dead Redis: the production timeout, whose bound the tests check.</summary>
    private static CacheSettings DeadRedis(string address) => CacheSettings.From(address);

    [RedisFact]
    public async Task ASecondIdenticalStudyReadsTheIndexAndProjectionsFromRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        // Two orchestrators sharing one Redis: the second has an empty memory cache.
        await using (var first = await Hosts.Study(backends.Endpoints, Redis(redis.Address)))
        {
            var (report, _) = await Hosts.RunAsync(first, Request());
            Assert.Equal(Intermediates, report.CacheEvents.Select(e => e.Intermediate));
            Assert.All(report.CacheEvents, e => Assert.Equal(CacheStatus.Miss, e.Status));
            foreach (var e in report.CacheEvents)
                Assert.Equal(":1", await redis.CommandAsync("EXISTS", e.Key));
        }
        int indexCalls = backends.IndexingCalls.Count,
            projectionCalls = backends.ProjectionCalls.Count;

        await using var second = await Hosts.Study(backends.Endpoints, Redis(redis.Address));
        var (again, progress) = await Hosts.RunAsync(second, Request());
        Assert.Equal(Intermediates, again.CacheEvents.Select(e => e.Intermediate));
        Assert.All(
            again.CacheEvents,
            e =>
            {
                Assert.Equal(CacheStatus.Hit, e.Status);
                Assert.Equal("redis", e.Source);
                Assert.True(e.SizeBytes > 0);
            }
        );
        Assert.Equal(indexCalls, backends.IndexingCalls.Count);
        Assert.Equal(projectionCalls, backends.ProjectionCalls.Count);
        Assert.Contains(progress, p => p.Message.Contains("read from the cache (redis)"));
    }

    [RedisFact]
    public async Task TheSameOrchestratorServesARepeatFromMemoryAndAChangedOptionMisses()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var study = await Hosts.Study(backends.Endpoints, Redis(redis.Address));
        await Hosts.RunAsync(study, Request());
        var (repeat, _) = await Hosts.RunAsync(study, Request());
        Assert.All(repeat.CacheEvents, e => Assert.Equal(("memory", CacheStatus.Hit), (e.Source, e.Status)));
        var (changed, _) = await Hosts.RunAsync(study, Request(shift: 0.001));
        Assert.All(
            changed.CacheEvents.Where(e => e.Intermediate.StartsWith("index", StringComparison.Ordinal)),
            e => Assert.Equal(CacheStatus.Miss, e.Status)
        );
        Assert.Equal(CacheStatus.Hit, changed.CacheEvents.Single(e => e.Intermediate == "projection").Status); // the shift does not enter the projection
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:6379")]
    [InlineData("redis:6379,password=secret,abortConnect=false")]
    [InlineData("redis_cache:6379")]
    [InlineData("[::1]:6379")]
    [InlineData("10.0.0.7:6380")]
    public void RedisAddressesStackExchangeTakesAreKept(string redis) =>
        Assert.Equal(redis, CacheSettings.From(redis).Redis);

    [Theory]
    [InlineData("localhost:99999", null)]
    [InlineData(":::::", null)]
    [InlineData("a b", null)]
    [InlineData("localhost:6379,nosuchoption=1", null)]
    [InlineData(null, "-5")]
    [InlineData(null, "abc")]
    public void AnUnusableSettingIsAConfigurationError(string? redis, string? timeout)
    {
        // A configuration error is a usage error (exit 2) in the CLI and at the server's start;
        // the timeout's used to be an ArgumentException, which the CLI reported as unexpected.
        var e = Assert.Throws<ResilienceGrpc.ServiceDefaults.InvalidConfigurationException>(() =>
            CacheSettings.From(redis, timeout)
        );
        Assert.Contains(redis is null ? $"Cache:OperationTimeoutMs = '{timeout}'" : $"The Redis address '{redis}'", e.Message);
    }

    [Fact]
    public async Task RedisDownAtStartCostsOnlyARecomputationReportedAsUnavailable()
    {
        int nothing = RedisServer.FreePort();
        await using var study = await Hosts.Study(backends.Endpoints, DeadRedis($"127.0.0.1:{nothing}"));
        var (report, _) = await Hosts.RunAsync(study, Request());
        Assert.All(report.CacheEvents, e => Assert.Equal(CacheStatus.Unavailable, e.Status));
        Assert.Contains(report.Warnings, w => w.Contains("unavailable") && w.Contains($"127.0.0.1:{nothing}"));
        Assert.All(report.Tables.SelectMany(t => t.Models), m => Assert.Equal("", m.Error));
        // Bounded waiting, counted instead of timed: without the skip, every intermediate would
        // wait twice (its read and its write); with it, the lookups in flight when Redis first
        // fails wait once, and what follows skips Redis.
        var level = SecondLevel(study);
        Assert.InRange(level.Attempts, 1, 2 * report.CacheEvents.Count - 1);
        Assert.True(level.Skipped > 0, "after the failure, Redis is skipped");
    }

    [RedisFact]
    public async Task RedisKilledMidRunLetsTheStudyCompleteByRecomputing()
    {
        var redis = await RedisServer.StartAsync();
        await using var study = await Hosts.Study(backends.Endpoints, DeadRedis(redis.Address));
        await Hosts.RunAsync(study, Request()); // connected and populated

        // Kill Redis while a study is running (at its first progress event), then run a study
        // whose intermediates are not in memory: both complete.
        var (during, _) = await Hosts.RunAsync(
            study,
            Request(shift: 0.002),
            p =>
            {
                if (p.Stage == "load")
                    redis.Kill();
                return Task.CompletedTask;
            }
        );
        Assert.All(
            during.CacheEvents,
            e => Assert.Contains(e.Status, new[] { CacheStatus.Unavailable, CacheStatus.Miss, CacheStatus.Hit })
        );
        Assert.All(during.Tables.SelectMany(t => t.Models), m => Assert.Equal("", m.Error));

        long attempts = SecondLevel(study).Attempts;
        var (after, _) = await Hosts.RunAsync(study, Request(shift: 0.003));
        Assert.All(
            after.CacheEvents.Where(e => e.Intermediate.StartsWith("index", StringComparison.Ordinal)),
            e => Assert.Equal(CacheStatus.Unavailable, e.Status)
        );
        Assert.Equal(
            ("memory", CacheStatus.Hit),
            after.CacheEvents.Where(e => e.Intermediate == "projection").Select(e => (e.Source, e.Status)).Single()
        );
        Assert.Contains(after.Warnings, w => w.Contains("unavailable"));
        Assert.InRange(SecondLevel(study).Attempts - attempts, 0, 2 * after.CacheEvents.Count - 1);

        // What is already in memory is still served.
        var (repeat, _) = await Hosts.RunAsync(study, Request());
        Assert.All(repeat.CacheEvents, e => Assert.Equal(("memory", CacheStatus.Hit), (e.Source, e.Status)));
        await redis.DisposeAsync();
    }

    [RedisFact]
    public async Task RedisKilledAndRestartedUnderSteadyTrafficIsUsedAgain()
    {
        var redis = await RedisServer.StartAsync();
        int port = redis.Port;
        // The production timeout, and a short break so that the test is quick (production: 5 s).
        var settings = new CacheSettings(redis.Address, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2));
        static RunStudyRequest Quick(double shift) =>
            new()
            {
                Dataset = "sample",
                Spec = new StudySpec
                {
                    Bootstrap = new BootstrapOptions { Replications = 0 },
                    Shift = shift,
                    Multiverse = new MultiverseSpec { Disabled = true },
                },
            };
        await using var study = await Hosts.Study(backends.Endpoints, settings);
        double shift = 0.01;
        await Hosts.RunAsync(study, Quick(shift));

        // A steady stream of studies whose intermediates are not in memory, while Redis is down...
        redis.Kill();
        for (int i = 0; i < 5; i++)
        {
            var (down, _) = await Hosts.RunAsync(study, Quick(shift += 0.001));
            Assert.Contains(down.CacheEvents, e => e.Status == CacheStatus.Unavailable);
        }

        // ... goes on after Redis is back on its port. The circuit's probe finds it, and the
        // intermediates are written to it again. The loop is bounded by a count, not a clock;
        // a guard that never lets a probe through under traffic never gets there.
        await using var back = await RedisServer.StartAsync(port);
        bool resumed = false;
        for (int i = 0; i < 300 && !resumed; i++)
        {
            var (report, _) = await Hosts.RunAsync(study, Quick(shift += 0.001));
            // The indices are new (a new shift): missed and stored; the projection is in memory.
            resumed = report.CacheEvents.All(e => e.Status != CacheStatus.Unavailable);
        }
        Assert.True(resumed, "Redis was never used again after its restart");

        // A second orchestrator with an empty memory reads that study's indices from Redis.
        await using var second = await Hosts.Study(backends.Endpoints, settings);
        var (again, _) = await Hosts.RunAsync(second, Quick(shift));
        Assert.All(
            again.CacheEvents.Where(e => e.Intermediate.StartsWith("index", StringComparison.Ordinal)),
            e => Assert.Equal(("redis", CacheStatus.Hit), (e.Source, e.Status))
        );
        await redis.DisposeAsync();
    }

    private static ObservedDistributedCache SecondLevel(ServiceDefaults.RunningService study) =>
        (ObservedDistributedCache)
            study.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();

    [RedisFact]
    public async Task AFailedComputationIsNeverCached()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var study = await Hosts.Study(backends.Endpoints, Redis(redis.Address));
        var data = BundledData.Sample();
        data.Indicators[0].Values[0] = double.NaN;
        var spec = StudySpecs.Complete(new StudySpec(), data);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                Hosts.RunAsync(study, new RunStudyRequest { Data = data })
            );
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }
        var key = IntermediateCache.Key(
            "index-entropy",
            StudyPlan.IndexRequest(data, spec, new IndexVariant(Contracts.Indexing.V1.WeightingMethod.Entropy, false))
        );
        Assert.Equal(":0", await redis.CommandAsync("EXISTS", key));
    }
}

/// <summary>Intermediates far above HybridCache's 1 MiB default payload limit are cached too.</summary>
public class LargePayloadTests
{
    [RedisFact]
    public async Task AnIntermediateOfSeveralMegabytesIsCachedInRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        var request = new Contracts.Indexing.V1.ComputeIndexRequest
        {
            Method = Contracts.Indexing.V1.WeightingMethod.Entropy,
            UnitIds = { "big" },
        };
        var big = new Contracts.Indexing.V1.ComputeIndexResponse();
        for (int i = 0; i < 100_000; i++)
            big.Units.Add(
                new Contracts.Indexing.V1.UnitScore
                {
                    UnitId = $"unit-{i:D6}",
                    Composite = i,
                    DimensionScores =
                    {
                        new Contracts.Indexing.V1.DimensionScore { Dimension = "economy", Score = i },
                    },
                }
            );
        Assert.True(big.CalculateSize() > 3 * 1024 * 1024);

        IntermediateCache NewCache()
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddIntermediateCache(
                new CacheSettings(redis.Address, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5))
            );
            return services.BuildServiceProvider().GetRequiredService<IntermediateCache>();
        }

        var (_, first) = await NewCache()
            .GetOrComputeAsync("index-entropy", request, _ => Task.FromResult(big), CancellationToken.None);
        Assert.Equal(CacheStatus.Miss, first.Status);
        Assert.Equal(":1", await redis.CommandAsync("EXISTS", first.Key));

        var (value, second) = await NewCache()
            .GetOrComputeAsync<Contracts.Indexing.V1.ComputeIndexResponse>(
                "index-entropy",
                request,
                _ => throw new InvalidOperationException("a cached value must not be recomputed"),
                CancellationToken.None
            );
        Assert.Equal((CacheStatus.Hit, "redis"), (second.Status, second.Source));
        Assert.Equal(big, value);
    }
}
