using System.Globalization;
using System.Text;
using System.Text.Json;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;

namespace ResilienceGrpc.Client.Sample;

/// <summary>The true parameters of the sample's structural model (written to <c>model.json</c>).</summary>
public sealed record StructuralModel(
    ulong Seed,
    double Intercept,
    IReadOnlyDictionary<string, double> DimensionEffects,
    double DensityEffect,
    double FirstTierIndexEffect,
    double NoiseSd,
    double RecoveryIntercept,
    double RecoveryIndexEffect,
    double RecoveryNoiseSd
)
{
    /// <summary>The export-resilience equation's regressors and their true coefficients, as study variables.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<(string Variable, double Coefficient)> ExportEquation =>
        [
            .. DimensionEffects.Select(d => ($"ln_res_{d.Key}", d.Value)),
            ("ln_x", DensityEffect),
            ("ln_rescity*d_first", FirstTierIndexEffect),
        ];
}

/// <summary>
/// Makes the synthetic sample: 38 customs cities in the shape of docs/method.md §1, from a
/// stated structural model (see the sample's README.md) and a seed. The index and the
/// counterfactual are computed by the indexing and projection services, so the
/// generator holds no study mathematics of its own.
/// </summary>
/// <remarks>
/// The model. Each city has a latent development level c = N(0,1) plus a tier shift
/// (first 1.3, new first-tier 0.6), and four dimension factors f = 0.6c + 0.8·N(0,1).
/// Each of the 20 indicators is a monotone function of its dimension's factor plus
/// noise (negative ones fall with it). Density: ln X = 8.3 + 0.35c + N(0, 0.35).
/// Export resilience, with the services' entropy index and dimension scores:
/// ln R = α + Σ β_d ln Res_d + γ ln X + θ D_first ln Rescity + ε, ε ~ N(0, σ²);
/// β_economy, β_ecology &gt; 0, β_infrastructure = β_society = 0, θ &lt; 0.
/// Recovery months: k = round(a + b (ln Rescity − mean) + u), b &lt; 0; k ≤ 0 never dips,
/// k &gt; 12 never recovers inside 2020–2021 (censored). Indicators are redrawn until every
/// city's dimension scores are at least 2% of the dimension's weight.
/// </remarks>
public static partial class SampleGenerator
{
    public const ulong DefaultSeed = 20200123;

    /// <summary>Generates the sample: file name → content.</summary>
    public static async Task<(IReadOnlyDictionary<string, string> Files, StructuralModel Model)> GenerateAsync(
        ulong seed,
        IndexingService.IndexingServiceClient indexing,
        ProjectionService.ProjectionServiceClient projection,
        CancellationToken ct = default
    )
    {
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        double Normal(double sd)
        {
            double u1 = 1.0 - rng.NextDouble(),
                u2 = rng.NextDouble();
            return sd * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        int n = Cities.Length;

        // Latent development and dimension factors.
        var common = Cities
            .Select(c =>
                Normal(1)
                + c.Tier switch
                {
                    "first" => 1.3,
                    "new_first" => 0.6,
                    _ => 0.0,
                }
            )
            .ToArray();
        var factor = DimensionOrder.ToDictionary(d => d, _ => common.Select(c => 0.6 * c + 0.8 * Normal(1)).ToArray());
        double IndicatorNoise(double sd) => Normal(IndicatorNoiseScale * sd);
        var values = new double[Indicators.Length][];
        var lnDensity = common.Select(c => 8.3 + 0.35 * c + Normal(0.35)).ToArray();
        var density = lnDensity.Select(v => Round(Math.Exp(v), 1)).ToArray();

        // Indicators, dimension by dimension, redrawn until every city's score on the dimension is
        // at least 2% of the dimension's weight (a score at the shift would make its log an outlier
        // that dominates every regression on it). Score / weight depends on the dimension's own
        // indicators only, so the indexing service checks each dimension alone.
        foreach (var dimension in DimensionOrder)
        {
            var members = Enumerable
                .Range(0, Indicators.Length)
                .Where(j => Indicators[j].Dimension == dimension)
                .ToArray();
            for (int attempt = 1; ; attempt++)
            {
                if (attempt > 500)
                    throw new InvalidOperationException(
                        $"The sample generator found no draw of the {dimension} indicators without a collapsed score."
                    );
                foreach (var j in members)
                    values[j] = Enumerable
                        .Range(0, n)
                        .Select(i => Round(Indicators[j].Model(factor[dimension][i], IndicatorNoise), 4))
                        .ToArray();
                var check = await indexing.ComputeIndexAsync(
                    IndexRequest(members, values),
                    deadline: DateTime.UtcNow.AddMinutes(1),
                    cancellationToken: ct
                );
                if (check.Units.All(u => u.Composite >= MinimumDimensionShare))
                    break;
            }
        }

        // The index, by the indexing service.
        var index = await indexing.ComputeIndexAsync(
            IndexRequest(Enumerable.Range(0, Indicators.Length), values),
            deadline: DateTime.UtcNow.AddMinutes(1),
            cancellationToken: ct
        );
        var lnRescity = index.Units.Select(u => Math.Log(u.Composite)).ToArray();
        double Dim(int i, string d) => Math.Log(index.Units[i].DimensionScores.Single(s => s.Dimension == d).Score);

        // Export resilience from the structural equation.
        var linear = Enumerable
            .Range(0, n)
            .Select(i =>
                DimensionEffects.Sum(e => e.Value * Dim(i, e.Key))
                + DensityEffect * Math.Log(density[i])
                + (Cities[i].Tier == "first" ? FirstTierIndexEffect * lnRescity[i] : 0)
            )
            .ToArray();
        double intercept = -0.03 - linear.Average();
        var lnR = linear.Select(v => intercept + v + Normal(NoiseSd)).ToArray();

        // Pre-shock exports: level, trend, seasonality, noise.
        var level = common.Select(c => 18000 * Math.Exp(0.9 * c + Normal(0.5))).ToArray();
        var trend = common.Select(c => 0.05 + 0.02 * c + Normal(0.035)).ToArray();
        var jitter = Enumerable
            .Range(0, n)
            .Select(_ => Season.Select(s => s * Math.Exp(Normal(0.03))).ToArray())
            .ToArray();
        var monthly = new double[n][];
        for (int i = 0; i < n; i++)
        {
            monthly[i] = new double[84];
            for (int y = 0; y < 5; y++)
                for (int m = 0; m < 12; m++)
                    monthly[i][y * 12 + m] = Round(
                        level[i] / 12 * Math.Pow(1 + trend[i], y) * jitter[i][m] * Math.Exp(Normal(0.025)),
                        2
                    );
        }

        // The counterfactual path, by the projection service (2020-21 filled with 2019 until known).
        var projectionRequest = new ProjectExportsRequest
        {
            Kind = SeriesKind.Monthly,
            GrowthMethod = GrowthMethod.Geometric,
        };
        for (int i = 0; i < n; i++)
        {
            var s = new ExportSeries { CityId = Cities[i].Id };
            for (int t = 0; t < 84; t++)
            {
                s.Periods.Add(Period(t));
                s.Values.Add(t < 60 ? monthly[i][t] : monthly[i][48 + t % 12]);
            }
            projectionRequest.Series.Add(s);
        }
        var expected = (
            await projection.ProjectExportsAsync(
                projectionRequest,
                deadline: DateTime.UtcNow.AddMinutes(1),
                cancellationToken: ct
            )
        )
            .Cities.Select(c => c.Monthly.Select(p => p.Expected).ToArray())
            .ToArray();

        // Recovery months from the structural recovery equation, then a ratio path with that
        // recovery time whose 2020 total gives exactly R = exp(ln R).
        double meanIndex = lnRescity.Average();
        for (int i = 0; i < n; i++)
        {
            int k = (int)
                Math.Round(
                    RecoveryIntercept + RecoveryIndexEffect * (lnRescity[i] - meanIndex) + Normal(RecoveryNoiseSd)
                );
            var ratio = RatioPath(Math.Exp(lnR[i]), k, expected[i], Normal);
            for (int t = 0; t < 24; t++)
                monthly[i][60 + t] = Round(expected[i][t] * ratio[t], 2);
        }

        var model = new StructuralModel(
            seed,
            intercept,
            DimensionEffects,
            DensityEffect,
            FirstTierIndexEffect,
            NoiseSd,
            RecoveryIntercept,
            RecoveryIndexEffect,
            RecoveryNoiseSd
        );
        return (Render(seed, values, density, monthly, model), model);
    }

    /// <summary>
    /// Monthly ratios actual/expected for 2020-01..2021-12 with the recovery time k: no dip
    /// (k ≤ 0), a dip from February for k months then above 1, or never recovering (k &gt; 20);
    /// the dip depth (or the level after it) is solved so the 2020 ratio is exactly R.
    /// </summary>
    private static double[] RatioPath(double r, int k, double[] expected, Func<double, double> normal)
    {
        var ratio = new double[24];
        double s2020 = expected.Take(12).Sum();
        if (k <= 0 && r >= 1.0)
        {
            for (int t = 0; t < 24; t++)
                ratio[t] = t < 12 ? r : Math.Max(1.005, r + normal(0.01));
            return ratio;
        }
        k = Math.Max(k, 1);
        double jan = 1.01 + Math.Abs(normal(0.01));
        ratio[0] = jan;
        bool censored = k > CensoredAbove;
        int dipEnd = censored ? 24 : 1 + k; // months 1..dipEnd-1 (0-based) are the dip
        double post = 1.04 + Math.Abs(normal(0.02));
        double sDip = 0,
            sPost = 0;
        for (int t = 1; t < 12; t++)
        {
            if (t < dipEnd)
                sDip += expected[t];
            else
                sPost += expected[t];
        }
        double q = (r * s2020 - jan * expected[0] - post * sPost) / sDip;
        if (q > 0.985 || q < 0.3)
        {
            q = Math.Clamp(q, 0.3, 0.985);
            if (sPost > 0)
                post = Math.Max(1.005, (r * s2020 - jan * expected[0] - q * sDip) / sPost);
        }
        for (int t = 1; t < 24; t++)
            ratio[t] =
                t < dipEnd
                    ? (t < 12 ? q : Math.Min(0.985, q + 0.05))
                    : (t < 12 ? post : Math.Max(1.005, post + normal(0.01)));
        return ratio;
    }

    private static ComputeIndexRequest IndexRequest(IEnumerable<int> indicators, double[][] values)
    {
        var r = new ComputeIndexRequest { Method = WeightingMethod.Entropy, UnitIds = { Cities.Select(c => c.Id) } };
        foreach (var j in indicators)
            r.Indicators.Add(
                new Indicator
                {
                    Id = Indicators[j].Id,
                    Dimension = Indicators[j].Dimension,
                    Direction = Indicators[j].Direction,
                    Values = { values[j] },
                }
            );
        return r;
    }

    private static string Period(int t) => $"{2015 + t / 12}-{t % 12 + 1:D2}";

    private static double Clamp(double v, double lo, double hi) => Math.Min(hi, Math.Max(lo, v));

    private static double Round(double v, int digits) => Math.Round(v, digits, MidpointRounding.AwayFromZero);

    private static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
