using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Indexing.Domain;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using CovarianceType = ResilienceGrpc.Regression.Domain.CovarianceType;

namespace ResilienceGrpc.Benchmarks;

/// <summary>The regression domain: one small fit, the wild bootstrap (fast path against refitting), a million rows.</summary>
[MemoryDiagnoser]
public class RegressionBenchmarks
{
    private RegressionData _city38 = null!;
    private readonly ModelSpec _model = new("ln_resexport", ["ln_rescity", "ln_x"]);
    private OlsFit _fit = null!;
    private OlsInferenceResult _inference = null!;
    private RegressionData _million = null!;

    [GlobalSetup]
    public void Setup()
    {
        _city38 = new RegressionData(
            new[] { "ln_resexport", "ln_rescity", "ln_x" }
                .Select(n => new NamedColumn(n, Reference.Column("city38.csv", n)))
                .ToList()
        );
        _fit = OlsFit.Fit(DesignMatrix.Build(_city38, _model));
        _inference = OlsInference.Infer(_fit, CovarianceType.HC1);
        var rng = new Random(1);
        int n = 1_000_000;
        var x1 = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var x2 = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var y = x1.Zip(x2, (a, b) => 1 + 2 * a - b + rng.NextDouble()).ToArray();
        _million = new RegressionData([new("y", y), new("x1", x1), new("x2", x2)]);
    }

    [Benchmark(Description = "OLS + HC1 inference, n = 35, k = 3")]
    public OlsInferenceResult FitCity38() =>
        OlsInference.Infer(OlsFit.Fit(DesignMatrix.Build(_city38, _model)), CovarianceType.HC1);

    [Benchmark(Description = "wild bootstrap B = 999, fast path (fixed X)")]
    public IReadOnlyList<BootstrapPValue> BootstrapFast() =>
        WildBootstrap.SlopePValues(_fit, CovarianceType.HC1, _inference.Coefficients, 999, 7);

    /// <summary>The same bootstrap (both slopes) by rebuilding and refitting every sample with the ordinary code.</summary>
    [Benchmark(Description = "wild bootstrap B = 999, refitting every sample")]
    public int BootstrapRefit()
    {
        var rng = new Random(7);
        int exceed = 0;
        var design = _fit.Design;
        for (int j = 1; j <= 2; j++)
        {
            var other = design.Column(3 - j).ToArray();
            var restricted = OlsFit.Fit(
                DesignMatrix.Build(new RegressionData([new("y", design.Y), new("o", other)]), new ModelSpec("y", ["o"]))
            );
            var fitted = design.Y.Zip(restricted.Residuals, (y, e) => y - e).ToArray();
            for (int b = 0; b < 999; b++)
            {
                var yStar = fitted
                    .Select((f, i) => f + (rng.Next(2) == 0 ? -1 : 1) * restricted.Residuals[i])
                    .ToArray();
                var data = new RegressionData([
                    new("y", yStar),
                    new("a", design.Column(1).ToArray()),
                    new("x", design.Column(2).ToArray()),
                ]);
                var t = OlsInference
                    .Infer(OlsFit.Fit(DesignMatrix.Build(data, new ModelSpec("y", ["a", "x"]))), CovarianceType.HC1)
                    .Coefficients[j]
                    .TValue;
                if (Math.Abs(t) >= Math.Abs(_inference.Coefficients[j].TValue))
                    exceed++;
            }
        }
        return exceed;
    }

    [Benchmark(Description = "OLS + HC1 inference, n = 1,000,000, k = 3")]
    public OlsInferenceResult FitMillion() =>
        OlsInference.Infer(
            OlsFit.Fit(DesignMatrix.Build(_million, new ModelSpec("y", ["x1", "x2"]))),
            CovarianceType.HC1
        );
}

/// <summary>The entropy index of 38 cities × 20 indicators.</summary>
[MemoryDiagnoser]
public class IndexBenchmarks
{
    private string[] _units = null!;
    private Indicator[] _indicators = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (header, rows) = Reference.Csv("entropy_38x20.csv");
        _units = rows.Select(r => r[0]).ToArray();
        _indicators = header
            .Skip(1)
            .Select(
                (h, j) =>
                    new Indicator(
                        h,
                        j < 10 ? "a" : "b",
                        j % 7 == 6 ? IndicatorDirection.Negative : IndicatorDirection.Positive,
                        rows.Select(r => Reference.Number(r[j + 1])).ToArray()
                    )
            )
            .ToArray();
    }

    [Benchmark(Description = "entropy index, 38 × 20")]
    public IndexResult Entropy() =>
        CompositeIndex.Compute(_units, _indicators, new IndexOptions(WeightingMethod.Entropy));

    [Benchmark(Description = "CRITIC index, 38 × 20")]
    public IndexResult Critic() =>
        CompositeIndex.Compute(_units, _indicators, new IndexOptions(WeightingMethod.Critic));
}

/// <summary>
/// The whole default study over real gRPC on loopback (four hosts in this process), with
/// B = 9,999 on every model; and the same study served from the orchestrator's cache.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class StudyBenchmarks
{
    private readonly List<RunningService> _hosts = [];
    private Grpc.Net.Client.GrpcChannel _channel = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var options = new HostOptions(Quiet: true, Telemetry: false);
        var i = await ServiceHosting.StartAsync([IndexingGrpcService.Module], options);
        var p = await ServiceHosting.StartAsync([ProjectionGrpcService.Module], options);
        var r = await ServiceHosting.StartAsync([RegressionGrpcService.Module], options);
        var s = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(new StudyEndpoints(i.Address, p.Address, r.Address))],
            options
        );
        _hosts.AddRange([i, p, r, s]);
        _channel = GrpcChannels.Create(s.Address);
    }

    private async Task<StudyReport> Run(StudySpec? spec)
    {
        using var call = new StudyService.StudyServiceClient(_channel).RunStudy(
            new RunStudyRequest { Dataset = "sample", Spec = spec }
        );
        StudyReport? report = null;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            if (call.ResponseStream.Current.EventCase == RunStudyResponse.EventOneofCase.Report)
                report = call.ResponseStream.Current.Report;
        return report!;
    }

    [Benchmark(Description = "default study (11 models, B = 9,999 each)")]
    public Task<StudyReport> DefaultStudy() => Run(null);

    [Benchmark(Description = "default study without the bootstrap")]
    public Task<StudyReport> StudyWithoutBootstrap() =>
        Run(new StudySpec { Bootstrap = new BootstrapOptions { Replications = 0 } });

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _channel.Dispose();
        foreach (var h in _hosts)
            await h.DisposeAsync();
    }
}
