using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// Each service over a real HTTP/2 channel to Kestrel on loopback: health, reflection,
/// and the reference cases (same oracles and tolerances as the domain tests).
/// </summary>
public class ServiceTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    [Theory]
    [InlineData("indexing", "resilience.indexing.v1.IndexingService")]
    [InlineData("projection", "resilience.projection.v1.ProjectionService")]
    [InlineData("regression", "resilience.regression.v1.RegressionService")]
    public async Task HealthAnswersServingAtOnceAndReflectionListsTheService(string name, string fullName)
    {
        var host = name switch
        {
            "indexing" => services.Indexing,
            "projection" => services.Projection,
            _ => services.Regression,
        };
        using var channel = GrpcChannels.Create(host.Address);
        var health = new Health.HealthClient(channel);
        Assert.Equal(
            HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest())).Status
        );
        Assert.Equal(
            HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = fullName })).Status
        );

        var reflection = new ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var listed = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains(fullName, listed);
        Assert.Contains("grpc.health.v1.Health", listed);
    }

    [Theory]
    [InlineData("entropy_6x4")]
    [InlineData("entropy_10x6")]
    [InlineData("entropy_38x20")]
    public async Task IndexOverGrpcMatchesTheEntropyReference(string caseName)
    {
        var json = Reference.Json(caseName);
        var client = new IndexingService.IndexingServiceClient(services.IndexingChannel);
        var r = await client.ComputeIndexAsync(Requests.Index(caseName));
        foreach (var w in r.Indicators)
        {
            Reference.Close(
                json.GetProperty("weights").GetProperty(w.Id).GetDouble(),
                w.Weight,
                1e-10,
                $"weight {w.Id}"
            );
            Reference.Close(
                json.GetProperty("entropy").GetProperty(w.Id).GetDouble(),
                w.Entropy,
                1e-10,
                $"entropy {w.Id}"
            );
        }
        foreach (var d in r.Dimensions)
            Reference.Close(
                json.GetProperty("dimension_weights").GetProperty(d.Dimension).GetDouble(),
                d.Weight,
                1e-10,
                $"dimension {d.Dimension}"
            );
        var composite = json.GetProperty("scores")
            .GetProperty("composite")
            .EnumerateArray()
            .Select(e => e.GetDouble())
            .ToArray();
        for (int i = 0; i < composite.Length; i++)
            Reference.Close(composite[i], r.Units[i].Composite, 1e-10, $"composite {r.Units[i].UnitId}");
    }

    [Theory]
    [InlineData(WeightingMethod.Entropy)]
    [InlineData(WeightingMethod.Critic)]
    public async Task TheDimensionMeanCompositeIsTheMeanOfWithinDimensionScores(WeightingMethod method)
    {
        var client = new IndexingService.IndexingServiceClient(services.IndexingChannel);
        var request = Requests.Index("entropy_38x20", method);
        request.WithinDimension = true;
        var global = await client.ComputeIndexAsync(request);
        request.CompositeRule = CompositeRule.DimensionMean;
        var mean = await client.ComputeIndexAsync(request);
        Assert.Equal(CompositeRule.Global, global.CompositeRule);
        Assert.Equal(CompositeRule.DimensionMean, mean.CompositeRule);

        var dimensions = mean.Dimensions.Select(d => d.Dimension).ToList();
        for (int i = 0; i < mean.Units.Count; i++)
        {
            // Each dimension score from the standardised values and the within-dimension weights, computed here.
            for (int d = 0; d < dimensions.Count; d++)
            {
                double score = 0;
                for (int j = 0; j < request.Indicators.Count; j++)
                {
                    var ind = request.Indicators[j];
                    if (ind.Dimension != dimensions[d])
                        continue;
                    double min = ind.Values.Min(),
                        max = ind.Values.Max();
                    double z =
                        (ind.Direction == Direction.Positive ? ind.Values[i] - min : max - ind.Values[i]) / (max - min)
                        + 0.0001;
                    score += mean.Indicators[j].WithinDimensionWeight * z;
                }
                Reference.Close(
                    score,
                    mean.Units[i].DimensionScores[d].Score,
                    1e-12,
                    $"unit {i} dimension {dimensions[d]}"
                );
                Assert.Equal(global.Units[i].DimensionScores[d].Score, mean.Units[i].DimensionScores[d].Score);
            }
            Reference.Close(
                mean.Units[i].DimensionScores.Average(s => s.Score),
                mean.Units[i].Composite,
                1e-12,
                $"composite {i}"
            );
        }
        // The global composite is untouched by the rule's existence, and differs from the mean.
        Assert.NotEqual(global.Units[0].Composite, mean.Units[0].Composite);
        Assert.Equal(global.Indicators.Select(w => w.Weight), mean.Indicators.Select(w => w.Weight));
    }

    [Fact]
    public async Task ProjectionOverGrpcMatchesTheAnnualReference()
    {
        var json = Reference.Json("export_annual");
        var client = new ProjectionService.ProjectionServiceClient(services.ProjectionChannel);
        var r = await client.ProjectExportsAsync(Requests.AnnualExports());
        Assert.Equal(2020, r.ShockYear);
        foreach (var c in r.Cities)
        {
            var e = json.GetProperty("results").GetProperty(c.CityId);
            Reference.Close(e.GetProperty("cagr").GetDouble(), c.BaseGrowth, 1e-12, $"{c.CityId} cagr");
            Reference.Close(e.GetProperty("projected_2020").GetDouble(), c.Projected, 1e-12, $"{c.CityId} projected");
            Reference.Close(e.GetProperty("ratio").GetDouble(), c.Ratio, 1e-12, $"{c.CityId} ratio");
            Reference.Close(e.GetProperty("growth_2020").GetDouble(), c.GrowthRate, 1e-12, $"{c.CityId} growth");
            Assert.Equal(RecoveryStatus.Unavailable, c.Recovery.Status);
            Assert.False(c.Recovery.HasMonths);
        }
    }

    [Fact]
    public async Task MonthlyProjectionReportsAPathAndARecovery()
    {
        var client = new ProjectionService.ProjectionServiceClient(services.ProjectionChannel);
        var r = await client.ProjectExportsAsync(
            new ProjectExportsRequest
            {
                Kind = SeriesKind.Monthly,
                GrowthMethod = GrowthMethod.Geometric,
                Series = { Requests.Monthly("wuhan") },
            }
        );
        var c = r.Cities.Single();
        Assert.Equal(24, c.Monthly.Count);
        Assert.Equal("2020-01", c.Monthly[0].Period);
        // By construction (see Requests.Monthly): expected = same month of 2019 × 1.05, so the ratio is
        // 1.02 in January, below 1 from February to May and 1.1 from June: M = 2020-02, N = 4.
        Assert.Equal("2020-02", c.Recovery.DipPeriod);
        Assert.Equal(RecoveryStatus.Recovered, c.Recovery.Status);
        Assert.Equal(4, c.Recovery.Months);
        Assert.Equal("2020-06", c.Recovery.RecoveryPeriod);
        Assert.Equal(1.02, c.Monthly[0].Ratio, 12);
    }

    [Theory]
    [InlineData("longley", CovarianceType.Classical)]
    [InlineData("longley", CovarianceType.Hc3)]
    [InlineData("stackloss", CovarianceType.Hc2)]
    [InlineData("city38", CovarianceType.Hc1)]
    [InlineData("city38_interact", CovarianceType.Hc0)]
    public async Task FitOverGrpcMatchesTheRegressionReference(string caseName, CovarianceType type)
    {
        var json = Reference.Json(caseName);
        var client = new RegressionService.RegressionServiceClient(services.RegressionChannel);
        var r = await client.FitAsync(Requests.Fit(caseName, type));
        Assert.Equal(json.GetProperty("n").GetInt32(), r.Model.NObs);
        Assert.Equal("_cons", r.Coefficients.Last().Term);
        Requests.AssertMatches(
            json,
            Requests.Vce(type),
            r.Coefficients.Select(c => (c.Term, c.Estimate, c.StdError, c.TValue, c.PValue))
        );
        Reference.Close(json.GetProperty("r2").GetDouble(), r.Model.RSquared, 1e-9, "R²");
        if (type == CovarianceType.Classical)
            Reference.Close(json.GetProperty("f_nonrobust").GetDouble(), r.Model.FStatistic, 1e-9, "F");
    }

    [Fact]
    public async Task StreamingAFitInChunksGivesTheSameAnswerAsOneMessage()
    {
        var client = new RegressionService.RegressionServiceClient(services.RegressionChannel);
        var whole = Requests.Fit("stackloss", CovarianceType.Hc1);
        var unary = await client.FitAsync(whole);
        var streamed = await Cli.Verbs.Stream(
            client,
            whole,
            null,
            DateTime.UtcNow.AddMinutes(1),
            CancellationToken.None
        );
        Assert.Equal(unary, streamed);
    }

    [Fact]
    public async Task ConcurrentStreamsReusingPooledBlocksEachGetTheirOwnDataSAnswer()
    {
        // Six streams at once, twice over, each of other data and another length (140,000 to
        // 160,000 rows: past a column's first block, so the pooled 8 MiB blocks are lent, given
        // back and lent again to another stream). Each answer must be the one a single message
        // of the same data gets, which never touches the pool.
        var client = new RegressionService.RegressionServiceClient(services.RegressionChannel);
        for (int round = 0; round < 2; round++)
        {
            var requests = Enumerable
                .Range(0, 6)
                .Select(i =>
                {
                    int n = 140_000 + 4_000 * ((i + 3 * round) % 6);
                    var rng = new Random(1000 * round + i);
                    var x = new double[n];
                    var z = new double[n];
                    var y = new double[n];
                    for (int r = 0; r < n; r++)
                    {
                        x[r] = rng.NextDouble() * (i + 1);
                        z[r] = rng.NextDouble() - 0.5;
                        y[r] = i + (0.5 - i) * x[r] + 2 * z[r] + rng.NextDouble();
                    }
                    return new FitRequest
                    {
                        Dependent = "y",
                        Regressors = { "x", "z" },
                        CovarianceType = CovarianceType.Hc3,
                        Columns =
                        {
                            new Column { Name = "y", Values = { y } },
                            new Column { Name = "x", Values = { x } },
                            new Column { Name = "z", Values = { z } },
                        },
                    };
                })
                .ToList();
            var streamed = await Task.WhenAll(
                requests.Select(r =>
                    Task.Run(() => Cli.Verbs.Stream(client, r, null, DateTime.UtcNow.AddMinutes(2), CancellationToken.None))
                )
            );
            for (int i = 0; i < requests.Count; i++)
                Assert.Equal(await client.FitAsync(requests[i]), streamed[i]);
        }
    }

    [Fact]
    public async Task AMillionRowFitStreamsPastTheMessageLimit()
    {
        const int n = 1_000_000;
        var rng = new Random(12345);
        var x1 = new double[n];
        var x2 = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x1[i] = rng.NextDouble() * 10;
            x2[i] = rng.NextDouble() * 4 - 2;
            y[i] = 1.0 + 2.0 * x1[i] - 0.5 * x2[i] + (rng.NextDouble() - 0.5);
        }
        var request = new FitRequest
        {
            Dependent = "y",
            Regressors = { "x1", "x2" },
            CovarianceType = CovarianceType.Hc1,
            Columns =
            {
                new Column { Name = "y", Values = { y } },
                new Column { Name = "x1", Values = { x1 } },
                new Column { Name = "x2", Values = { x2 } },
            },
        };
        Assert.True(request.CalculateSize() > 4 * 1024 * 1024);
        var client = new RegressionService.RegressionServiceClient(services.RegressionChannel);

        var tooBig = await Assert.ThrowsAsync<RpcException>(() => client.FitAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);

        var r = await Cli.Verbs.Stream(client, request, null, DateTime.UtcNow.AddMinutes(5), CancellationToken.None);
        Assert.Equal(n, r.Model.NObs);
        // The model's true coefficients lie inside the 95% intervals (true for 95% of seeds; this seed is fixed).
        var truth = new Dictionary<string, double>
        {
            ["x1"] = 2.0,
            ["x2"] = -0.5,
            ["_cons"] = 1.0,
        };
        foreach (var c in r.Coefficients)
            Assert.InRange(truth[c.Term], c.CiLow, c.CiHigh);
    }

    [Fact]
    public async Task ACallPastItsDeadlineEndsWithDeadlineExceeded()
    {
        // A million bootstrap replications on 20,000 rows is minutes of work: far past 300 ms
        // on any machine, however fast the engine gets. The default budget refuses it, so
        // this replica's is raised.
        await using var generous = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?> { ["Limits:Regression:MaxBootstrapWork"] = "1000000000000" }
        );
        using var channel = GrpcChannels.Create(generous.Address);
        var client = new RegressionService.RegressionServiceClient(channel);
        var rng = new Random(5);
        var x = Enumerable.Range(0, 20_000).Select(_ => rng.NextDouble()).ToArray();
        var request = new FitRequest
        {
            Dependent = "y",
            Regressors = { "x" },
            CovarianceType = CovarianceType.Hc1,
            Columns =
            {
                new Column { Name = "y", Values = { x.Select(v => 2 * v + rng.NextDouble()) } },
                new Column { Name = "x", Values = { x } },
            },
            Bootstrap = new BootstrapOptions { Replications = 1_000_000, Seed = 1 },
        };
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            client.FitAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync
        );
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
    }
}
