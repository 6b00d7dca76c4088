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
public static class SampleGenerator
{
    public const ulong DefaultSeed = 20200123;

    /// <summary>The 38 customs cities: id, name, tier (first-tier; new first-tier per the 2020 list; other).</summary>
    public static readonly (string Id, string Name, string Tier)[] Cities =
    [
        ("beijing", "Beijing", "first"),
        ("shanghai", "Shanghai", "first"),
        ("guangzhou", "Guangzhou", "first"),
        ("shenzhen", "Shenzhen", "first"),
        ("chengdu", "Chengdu", "new_first"),
        ("chongqing", "Chongqing", "new_first"),
        ("hangzhou", "Hangzhou", "new_first"),
        ("wuhan", "Wuhan", "new_first"),
        ("xian", "Xi'an", "new_first"),
        ("tianjin", "Tianjin", "new_first"),
        ("nanjing", "Nanjing", "new_first"),
        ("zhengzhou", "Zhengzhou", "new_first"),
        ("changsha", "Changsha", "new_first"),
        ("shenyang", "Shenyang", "new_first"),
        ("qingdao", "Qingdao", "new_first"),
        ("hefei", "Hefei", "new_first"),
        ("shijiazhuang", "Shijiazhuang", "other"),
        ("taiyuan", "Taiyuan", "other"),
        ("hohhot", "Hohhot", "other"),
        ("dalian", "Dalian", "other"),
        ("changchun", "Changchun", "other"),
        ("harbin", "Harbin", "other"),
        ("ningbo", "Ningbo", "other"),
        ("fuzhou", "Fuzhou", "other"),
        ("xiamen", "Xiamen", "other"),
        ("nanchang", "Nanchang", "other"),
        ("jinan", "Jinan", "other"),
        ("zhuhai", "Zhuhai", "other"),
        ("shantou", "Shantou", "other"),
        ("haikou", "Haikou", "other"),
        ("zhanjiang", "Zhanjiang", "other"),
        ("nanning", "Nanning", "other"),
        ("guiyang", "Guiyang", "other"),
        ("kunming", "Kunming", "other"),
        ("lanzhou", "Lanzhou", "other"),
        ("xining", "Xining", "other"),
        ("yinchuan", "Yinchuan", "other"),
        ("urumqi", "Urumqi", "other"),
    ];

    private delegate double IndicatorModel(double factor, Func<double, double> noise);

    /// <summary>The 20 indicators: id, label, dimension, direction, and how each follows its dimension's factor.</summary>
    private static readonly (
        string Id,
        string Label,
        string Dimension,
        Direction Direction,
        IndicatorModel Model
    )[] Indicators =
    [
        (
            "urbanization_rate",
            "Urbanization rate",
            "society",
            Direction.Positive,
            (f, n) => Clamp(0.62 + 0.09 * f + n(0.03), 0.35, 0.99)
        ),
        (
            "hospital_beds_per_10k",
            "Hospital beds per 10,000 people",
            "society",
            Direction.Positive,
            (f, n) => 60 * Math.Exp(0.15 * f + n(0.10))
        ),
        (
            "avg_wage_yuan",
            "Average wage (yuan)",
            "society",
            Direction.Positive,
            (f, n) => 85000 * Math.Exp(0.18 * f + n(0.06))
        ),
        (
            "higher_edu_students",
            "Students in higher education",
            "society",
            Direction.Positive,
            (f, n) => 300000 * Math.Exp(0.6 * f + n(0.30))
        ),
        (
            "pension_coverage_rate",
            "Pension insurance coverage",
            "society",
            Direction.Positive,
            (f, n) => Clamp(0.86 + 0.05 * f + n(0.03), 0.5, 1.0)
        ),
        (
            "road_area_per_capita_m2",
            "Road area per capita (m²)",
            "infrastructure",
            Direction.Positive,
            (f, n) => 15 * Math.Exp(0.15 * f + n(0.12))
        ),
        (
            "internet_users_per_100",
            "Broadband users per 100 people",
            "infrastructure",
            Direction.Positive,
            (f, n) => 45 * Math.Exp(0.2 * f + n(0.10))
        ),
        (
            "gas_penetration_rate",
            "Gas penetration rate",
            "infrastructure",
            Direction.Positive,
            (f, n) => Clamp(0.95 + 0.03 * f + n(0.02), 0.7, 1.0)
        ),
        (
            "public_transport_passengers",
            "Public transport passengers",
            "infrastructure",
            Direction.Positive,
            (f, n) => 8e8 * Math.Exp(0.7 * f + n(0.30))
        ),
        (
            "gdp_per_capita_yuan",
            "GDP per capita (yuan)",
            "economy",
            Direction.Positive,
            (f, n) => 95000 * Math.Exp(0.25 * f + n(0.10))
        ),
        (
            "gdp_total_mn_yuan",
            "GDP (million yuan)",
            "economy",
            Direction.Positive,
            (f, n) => 8e5 * Math.Exp(0.7 * f + n(0.30))
        ),
        (
            "tertiary_share",
            "Tertiary industry share of GDP",
            "economy",
            Direction.Positive,
            (f, n) => Clamp(0.55 + 0.07 * f + n(0.03), 0.35, 0.85)
        ),
        (
            "fdi_usd_mn",
            "Foreign direct investment (million USD)",
            "economy",
            Direction.Positive,
            (f, n) => 3000 * Math.Exp(0.8 * f + n(0.40))
        ),
        (
            "retail_sales_mn_yuan",
            "Retail sales (million yuan)",
            "economy",
            Direction.Positive,
            (f, n) => 3.5e5 * Math.Exp(0.7 * f + n(0.25))
        ),
        (
            "green_coverage_rate",
            "Green coverage of built-up area",
            "ecology",
            Direction.Positive,
            (f, n) => Clamp(0.40 + 0.03 * f + n(0.02), 0.25, 0.6)
        ),
        (
            "garbage_treatment_rate",
            "Harmless garbage treatment rate",
            "ecology",
            Direction.Positive,
            (f, n) => Clamp(0.97 + 0.03 * f + n(0.02), 0.8, 1.0)
        ),
        (
            "park_green_per_capita_m2",
            "Park green area per capita (m²)",
            "ecology",
            Direction.Positive,
            (f, n) => 13 * Math.Exp(0.15 * f + n(0.10))
        ),
        (
            "so2_emission_t",
            "Industrial SO2 emissions (t)",
            "ecology",
            Direction.Negative,
            (f, n) => 20000 * Math.Exp(-0.5 * f + n(0.35))
        ),
        (
            "wastewater_discharge_t",
            "Industrial wastewater discharge (10k t)",
            "ecology",
            Direction.Negative,
            (f, n) => 4000 * Math.Exp(-0.4 * f + n(0.30))
        ),
        (
            "dust_emission_t",
            "Industrial dust emissions (t)",
            "ecology",
            Direction.Negative,
            (f, n) => 15000 * Math.Exp(-0.5 * f + n(0.35))
        ),
    ];

    /// <summary>Seasonality of Chinese monthly exports (Spring Festival trough, year-end peak).</summary>
    private static readonly double[] Season = [0.86, 0.62, 0.95, 1.00, 1.02, 1.03, 1.06, 1.07, 1.06, 1.02, 1.09, 1.22];

    private static readonly string[] DimensionOrder = ["society", "infrastructure", "economy", "ecology"];

    /// <summary>The structural parameters (the intercept α is set from the data so that mean ln R ≈ −0.03).</summary>
    private static readonly Dictionary<string, double> DimensionEffects = new()
    {
        ["economy"] = 0.12,
        ["ecology"] = 0.06,
        ["infrastructure"] = -0.02,
        ["society"] = -0.03,
    };
    private const double DensityEffect = 0.02,
        FirstTierIndexEffect = -0.06,
        NoiseSd = 0.05;
    private const double RecoveryIntercept = 5.0,
        RecoveryIndexEffect = -5.0,
        RecoveryNoiseSd = 2.5;
    private const double IndicatorNoiseScale = 2.0;

    /// <summary>Smallest dimension score allowed, as a share of the dimension's weight.</summary>
    private const double MinimumDimensionShare = 0.02;

    /// <summary>Recovery times above this never recover inside the data (censored).</summary>
    public const int CensoredAbove = 12;

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

    private static IReadOnlyDictionary<string, string> Render(
        ulong seed,
        double[][] values,
        double[] density,
        double[][] monthly,
        StructuralModel model
    )
    {
        string header =
            $"# SYNTHETIC sample data: generated by 'resilience sample --seed {seed}' from a stated structural model (see README.md); not real statistics.\n";
        var files = new Dictionary<string, string>(StringComparer.Ordinal);

        var sb = new StringBuilder(header).Append("city,").AppendLine(string.Join(",", Indicators.Select(i => i.Id)));
        for (int i = 0; i < Cities.Length; i++)
            sb.Append(Cities[i].Id).Append(',').AppendLine(string.Join(",", values.Select(v => N(v[i]))));
        files["indicators.csv"] = sb.ToString();

        sb = new StringBuilder(header).AppendLine("indicator,dimension,direction,label");
        foreach (var ind in Indicators)
            sb.AppendLine(
                $"{ind.Id},{ind.Dimension},{(ind.Direction == Direction.Positive ? "positive" : "negative")},\"{ind.Label}\""
            );
        files["catalogue.csv"] = sb.ToString();

        sb = new StringBuilder(header).AppendLine("city,period,exports");
        for (int i = 0; i < Cities.Length; i++)
        for (int t = 0; t < 84; t++)
            sb.Append(Cities[i].Id).Append(',').Append(Period(t)).Append(',').AppendLine(N(monthly[i][t]));
        files["exports.csv"] = sb.ToString();

        sb = new StringBuilder(header).AppendLine("city,name,tier,density");
        for (int i = 0; i < Cities.Length; i++)
            sb.AppendLine($"{Cities[i].Id},{Cities[i].Name},{Cities[i].Tier},{N(density[i])}");
        files["cities.csv"] = sb.ToString();

        files["model.json"] =
            JsonSerializer.Serialize(
                model,
                new JsonSerializerOptions
                {
                    WriteIndented = true,
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                }
            ) + "\n";
        files["README.md"] = Readme(seed, model);
        return files;
    }

    private static string Readme(ulong seed, StructuralModel m) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"""
            # SYNTHETIC sample data (seed {seed})

            **These numbers are synthetic.** They were generated by `resilience sample --seed {seed}`
            from the structural model below, so that the study runs out of the box. They are not
            statistics of the cities named, and no result computed from them says anything
            about those cities. Every report made from them says so.

            Files (the shape of METHOD.md §1; real data of the same shape loads the same way):

            | file | content |
            |---|---|
            | `indicators.csv` | 38 cities × 20 indicators for the index year |
            | `catalogue.csv` | indicator, dimension (society, infrastructure, economy, ecology), direction, label |
            | `exports.csv` | monthly exports 2015-01 to 2021-12 (million USD), long form |
            | `cities.csv` | name, tier (first, new_first, other) and non-agricultural population density (persons/km²) |
            | `model.json` | the true parameters below |

            ## The model

            Each city has a latent development level c ~ N(0, 1) shifted by tier (first-tier +1.3,
            new first-tier +0.6) and four dimension factors f_d = 0.6 c + 0.8 u_d. Each indicator
            follows its dimension's factor with noise (emissions and discharges fall with it, so
            they are negative indicators); rates are capped at 1, which leaves ties at the maximum.
            The indicators are redrawn until every city scores at least 2% of each dimension's
            weight (a score at the shift would make its log an outlier that dominates every
            regression on it).
            Density: ln X = 8.3 + 0.35 c + N(0, 0.35²).

            With Rescity and Res_d the entropy index and dimension scores of these indicators (computed
            by the indexing service), export resilience R = E2020 / P2020 follows

                ln R = α + Σ_d β_d ln Res_d + γ ln X + θ D_first ln Rescity + ε,  ε ~ N(0, σ²)

            with α = {m.Intercept:0.######}, β_economy = {m.DimensionEffects[
                "economy"
            ]}, β_ecology = {m.DimensionEffects["ecology"]},
            β_infrastructure = {m.DimensionEffects["infrastructure"]}, β_society = {m.DimensionEffects[
                "society"
            ]}, γ = {m.DensityEffect},
            θ = {m.FirstTierIndexEffect} (first-tier cities gain less from resilience), σ = {m.NoiseSd}.

            Pre-shock exports grow at a city trend with a seasonal profile (Spring Festival trough,
            year-end peak) and noise; P2020 and the expected months are the projection service's.
            Recovery time k = round({m.RecoveryIntercept} + ({m.RecoveryIndexEffect}) (ln Rescity − mean) + u), u ~ N(0, {m.RecoveryNoiseSd}²):
            the monthly ratio dips from February for k months and then stays above 1; k ≤ 0 never
            dips (when R ≥ 1); k > {CensoredAbove} never recovers inside the data (censored). The dip depth is solved so that
            the 2020 total gives R exactly.

            The tables of a study on these data therefore resemble the paper's in sign, by
            construction of the model, not by copying its numbers.
            """
        ) + "\n";
}
