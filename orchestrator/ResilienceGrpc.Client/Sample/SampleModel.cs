using System.Globalization;
using System.Text;
using System.Text.Json;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;

namespace ResilienceGrpc.Client.Sample;

/// <summary>The sample's structural model: cities, indicators and the effects behind the numbers.</summary>
public static partial class SampleGenerator
{
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
}
