using System.Globalization;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>Turns the services' responses into tables for the command line.</summary>
public static class ResultTables
{
    public static IReadOnlyList<TextTable> Index(ComputeIndexResponse r)
    {
        string method = Words(r.Method);
        var weights = new TextTable(
            "weights",
            $"Indicator weights ({method})",
            ["indicator", "label", "dimension", "direction", "weight", "entropy", "weight_in_dimension"],
            r.Indicators.Select(i =>
                    new Cell[]
                    {
                        i.Id,
                        i.Label,
                        i.Dimension,
                        i.Direction == Direction.Positive ? "positive" : "negative",
                        i.Weight,
                        i.HasEntropy ? i.Entropy : Cell.Empty,
                        i.WithinDimensionWeight,
                    }
                )
                .ToList(),
            [string.Create(CultureInfo.InvariantCulture, $"Shift s = {r.Shift}; weights sum to 1.")]
        );
        var dims = new TextTable(
            "dimensions",
            "Dimension weights",
            ["dimension", "indicators", "weight"],
            r.Dimensions.Select(d =>
                    new Cell[] { d.Dimension, d.IndicatorCount.ToString(CultureInfo.InvariantCulture), d.Weight }
                )
                .ToList()
        );
        var scores = new TextTable(
            "scores",
            "Scores by unit",
            ["unit", "composite", .. r.Dimensions.Select(d => d.Dimension)],
            r.Units.Select(u =>
                    new Cell[] { u.UnitId, u.Composite }
                        .Concat(u.DimensionScores.Select(s => (Cell)s.Score))
                        .ToArray()
                )
                .ToList(),
            r.WithinDimension ? ["Dimension scores use weights re-derived within each dimension."] : null
        );
        return [weights, dims, scores];
    }

    public static IReadOnlyList<TextTable> Projection(ProjectExportsResponse r)
    {
        int y0 = r.BaseWindow.StartYear,
            y1 = r.BaseWindow.EndYear,
            s = r.ShockYear;
        var rows = r
            .Cities.Select(c =>
                new Cell[]
                {
                    c.CityId,
                    c.BaseStartValue,
                    c.BaseEndValue,
                    c.BaseGrowth,
                    c.Projected,
                    c.Actual,
                    c.Ratio,
                    c.GrowthRate,
                    c.Recovery.HasMonths ? c.Recovery.Months.ToString(CultureInfo.InvariantCulture) : "",
                    Words(c.Recovery.Status),
                    c.Recovery.DipPeriod,
                    c.Recovery.RecoveryPeriod,
                }
            )
            .ToList();
        var notes = new List<string>
        {
            $"growth: {Words(r.GrowthMethod)} over {y0}-{y1}; projected {s} = E{y1}·(1 + g); ratio = actual / projected; growth_rate = E{s}/E{y1} − 1.",
        };
        notes.AddRange(
            r.Cities.Where(c => c.Recovery.Status == RecoveryStatus.Censored).Select(c => c.Recovery.Reason)
        );
        return
        [
            new TextTable(
                "projections",
                $"Export resilience: projected against actual {s}",
                [
                    "city",
                    $"exports_{y0}",
                    $"exports_{y1}",
                    "base_growth",
                    $"projected_{s}",
                    $"actual_{s}",
                    "ratio",
                    "growth_rate",
                    "recovery_months",
                    "recovery",
                    "dip_month",
                    "recovery_month",
                ],
                rows,
                notes
            ),
        ];
    }

    public static IReadOnlyList<TextTable> Regression(FitResponse r)
    {
        bool boot = r.Bootstrap is not null;
        var rows = r
            .Coefficients.Select(c =>
            {
                var cells = new List<Cell>
                {
                    c.Term,
                    c.Estimate,
                    c.StdError,
                    c.TValue,
                    c.PValue,
                    c.CiLow,
                    c.CiHigh,
                    Stars(c.PValue),
                };
                if (boot)
                    cells.Add(c.HasBootstrapPValue ? c.BootstrapPValue : Cell.Empty);
                return cells.ToArray();
            })
            .ToList();
        var m = r.Model;
        var notes = new List<string>
        {
            string.Create(
                CultureInfo.InvariantCulture,
                $"N = {m.NObs}, R² = {m.RSquared:0.0000}, adj. R² = {m.AdjRSquared:0.0000}, F({m.FDfNum}, {m.FDfDen}) = {m.FStatistic:0.000} ({(m.FType == FTestType.Wald ? "Wald, " + Words(m.CovarianceType) : "classical")}), Prob > F = {m.FPValue:0.0000}."
            ),
            $"Standard errors: {Words(m.CovarianceType)}; p-values from Student t({m.DfResid}); *** p < 0.01, ** p < 0.05, * p < 0.1.",
        };
        if (boot)
            notes.Add(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"boot_p: wild bootstrap (Rademacher, null imposed), B = {r.Bootstrap!.Replications:N0}, seed {r.Bootstrap.Seed}."
                )
            );
        notes.AddRange(r.Warnings);
        string[] columns = boot
            ? ["term", "coef", "std_err", "t", "p", "ci_low", "ci_high", "sig", "boot_p"]
            : ["term", "coef", "std_err", "t", "p", "ci_low", "ci_high", "sig"];
        return [new TextTable("coefficients", $"OLS: {m.Dependent} (N = {m.NObs})", columns, rows, notes)];
    }

    /// <summary>Significance stars: *** p &lt; 0.01, ** p &lt; 0.05, * p &lt; 0.1.</summary>
    public static string Stars(double p) =>
        p < 0.01 ? "***"
        : p < 0.05 ? "**"
        : p < 0.1 ? "*"
        : "";

    public static string Words(CovarianceType t) =>
        t switch
        {
            CovarianceType.Classical => "classical",
            CovarianceType.Hc0 => "HC0",
            CovarianceType.Hc1 => "HC1 (robust)",
            CovarianceType.Hc2 => "HC2",
            CovarianceType.Hc3 => "HC3",
            _ => "unspecified",
        };

    public static string Words(WeightingMethod m) =>
        m switch
        {
            WeightingMethod.Entropy => "entropy weight method",
            WeightingMethod.Equal => "equal weights",
            WeightingMethod.Critic => "CRITIC",
            _ => "unspecified",
        };

    public static string Words(GrowthMethod g) => g == GrowthMethod.Arithmetic ? "arithmetic mean" : "geometric (CAGR)";

    public static string Words(RecoveryStatus s) =>
        s switch
        {
            RecoveryStatus.Recovered => "recovered",
            RecoveryStatus.NoDip => "no dip",
            RecoveryStatus.Censored => "censored",
            RecoveryStatus.Unavailable => "unavailable",
            _ => "",
        };
}
