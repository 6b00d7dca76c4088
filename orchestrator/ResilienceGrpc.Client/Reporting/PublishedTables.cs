using System.Globalization;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The study's tables as economists publish them: one column per model; each
/// coefficient with stars and its t statistic in parentheses beneath (and the wild
/// bootstrap p-value in brackets); N, R² and adjusted R² at the foot; a note on the
/// standard errors.
/// </summary>
public static class PublishedTables
{
    public static IReadOnlyList<TextTable> For(StudyReport report)
    {
        var tables = new List<TextTable>();
        foreach (var t in report.Tables)
            tables.Add(t.Id == "weights" ? Weights(t, report) : Regression(t, report));
        if (AnalysisTables.Descriptives(report.Analysis) is { } descriptives)
            tables.Add(descriptives);
        return tables;
    }

    private static string F(double v, int d = 3) => v.ToString("F" + d, CultureInfo.InvariantCulture);

    public static TextTable Weights(Table t, StudyReport report)
    {
        var w = t.Weights;
        var rows = new List<Cell[]>();
        foreach (var d in w.Dimensions)
        {
            rows.Add([$"{d.Dimension} (dimension weight)", "", "", F(d.Weight, 7)]);
            foreach (var i in w.Indicators.Where(i => i.Dimension == d.Dimension))
                rows.Add([
                    "  " + (i.Label.Length > 0 ? i.Label : i.Id),
                    i.Direction == Contracts.Indexing.V1.Direction.Negative ? "−" : "+",
                    i.HasEntropy ? F(i.Entropy, 7) : "",
                    F(i.Weight, 7),
                ]);
        }
        var notes = new List<string>
        {
            t.Note,
            "Direction: + more is better, − more is worse (standardised as (max − x)/(max − min)).",
        };
        if (report.Synthetic)
            notes.Add("SYNTHETIC DATA: generated numbers, not statistics of the cities named.");
        return new TextTable(t.Id, t.Title, ["Indicator", "Dir.", "Entropy", "Weight"], rows, notes);
    }

    public static TextTable Regression(Table t, StudyReport report)
    {
        var models = t.Models;
        var style = report.Manifest?.Spec?.TableStyle ?? new TableStyle();
        var spec = report.Manifest?.Spec?.Tables.FirstOrDefault(x => x.Id == t.Id);
        int coefDigits = style.HasDigits ? style.Digits : 4,
            statDigits = style.HasDigits ? style.Digits : 3;
        double[] levels = style.StarLevels.Count > 0 ? [.. style.StarLevels] : [.. Study.StudySpecs.DefaultStarLevels];
        string[] symbols =
            style.StarSymbols.Count > 0
                ? [.. style.StarSymbols]
                : Enumerable.Range(0, levels.Length).Select(i => new string('*', levels.Length - i)).ToArray();
        string Stars(double p)
        {
            for (int i = 0; i < levels.Length; i++)
                if (p < levels[i])
                    return symbols[i];
            return "";
        }
        string Labelled(string term) =>
            style.Labels.TryGetValue(term, out var label) ? label
            : term.Contains('*') ? string.Join(" × ", term.Split('*').Select(Labelled))
            : Label(term);

        // Terms: the style's order first, then the rest in model order, the constant last.
        var found = new List<string>();
        foreach (var m in models)
            foreach (var c in m.Fit?.Coefficients ?? [])
                if (c.Term != "_cons" && !found.Contains(c.Term))
                    found.Add(c.Term);
        found.Add("_cons");
        var terms = style.Order.Where(found.Contains).Distinct().ToList();
        terms.AddRange(found.Where(x => x != "_cons" && !terms.Contains(x)));
        if (!terms.Contains("_cons"))
            terms.Add("_cons");

        var statistic = style.Statistic == TableStatistic.Unspecified ? TableStatistic.T : style.Statistic;
        bool boot = models.Any(m => m.Fit?.Bootstrap is not null);
        var rows = new List<Cell[]>();
        if (style.DependentHeader)
            rows.Add(["Dependent variable", .. models.Select(m => (Cell)Labelled(m.Spec.Dependent))]);
        foreach (var term in terms)
        {
            var coef = new List<Cell> { Labelled(term) };
            var statRow = new List<Cell> { "" };
            var bRow = new List<Cell> { "" };
            foreach (var m in models)
            {
                var c = m.Fit?.Coefficients.FirstOrDefault(x => x.Term == term);
                coef.Add(c is null ? "" : F(c.Estimate, coefDigits) + Stars(c.PValue));
                statRow.Add(
                    c is null ? ""
                    : statistic switch
                    {
                        TableStatistic.Se => $"({F(c.StdError, statDigits)})",
                        TableStatistic.P => $"({F(c.PValue, statDigits)})",
                        TableStatistic.Ci => $"[{F(c.CiLow, statDigits)}, {F(c.CiHigh, statDigits)}]",
                        _ => $"({F(c.TValue, statDigits)})",
                    }
                );
                bRow.Add(c is { HasBootstrapPValue: true } ? $"[{F(c.BootstrapPValue, 3)}]" : "");
            }
            rows.Add([.. coef]);
            rows.Add([.. statRow]);
            if (boot && term != "_cons")
                rows.Add([.. bRow]);
        }
        foreach (var row in spec?.IndicatorRows ?? [])
            rows.Add([row.Label, .. models.Select((_, i) => (Cell)(i < row.Values.Count ? row.Values[i] : ""))]);
        var foot =
            style.FitStatistics.Count > 0
                ? style.FitStatistics.ToList()
                : [FitStatistic.N, FitStatistic.R2, FitStatistic.AdjR2, FitStatistic.F];
        foreach (var f in foot)
            rows.Add(FootRow(f, models));
        if (models.Any(m => m.HasLooMin))
            rows.Add([
                "Leave-one-out range",
                .. models.Select(m => (Cell)(m.HasLooMin ? $"[{F(m.LooMin, 3)}, {F(m.LooMax, 3)}]" : "")),
            ]);

        var cov =
            models.Select(m => m.Fit?.Model?.CovarianceType).FirstOrDefault(c => c is not null) ?? CovarianceType.Hc1;
        string what = statistic switch
        {
            TableStatistic.Se => $"{SeWords(cov)} standard errors in parentheses",
            TableStatistic.P => $"p-values from {SeWords(cov).ToLowerInvariant()} standard errors in parentheses",
            TableStatistic.Ci => $"95% confidence intervals from {SeWords(cov).ToLowerInvariant()} standard errors in brackets",
            _ => $"{SeWords(cov)} t statistics in parentheses",
        };
        string stars = string.Join(
            ", ",
            levels.Select((l, i) => $"{symbols[i]} p < {l.ToString(CultureInfo.InvariantCulture)}")
        );
        var notes = new List<string>
        {
            $"Dependent variable: {string.Join("; ", models.Select(m => m.Spec.Dependent).Distinct())}. {what}; {stars}.",
        };
        if (boot)
        {
            var b = models.First(m => m.Fit?.Bootstrap is not null).Fit.Bootstrap;
            notes.Add(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Brackets: wild-bootstrap p-values (Rademacher weights, null imposed, B = {b.Replications:N0}, seed {b.Seed})."
                )
            );
        }
        if (models.Any(m => m.HasLooMin))
            notes.Add(
                "Leave-one-out range: the smallest and largest first coefficient when one city at a time is left out."
            );
        if (
            models.Any(m =>
                m.Weighting != Contracts.Indexing.V1.WeightingMethod.Entropy
                && !m.Spec.Label.Contains(Study.StudySpecs.Short(m.Weighting), StringComparison.Ordinal)
            )
        )
            notes.Add(
                "Index weighting per column: "
                    + string.Join(", ", models.Select(m => $"{m.Spec.Label} {Study.StudySpecs.Short(m.Weighting)}"))
                    + "."
            );
        foreach (var m in models.Where(m => m.Error.Length > 0))
            notes.Add($"{m.Spec.Label} not fitted: {m.Error}");
        notes.AddRange(style.Notes.Where(n => n.Length > 0));
        if (spec is { Note.Length: > 0 })
            notes.Add(spec.Note);
        if (report.Synthetic)
            notes.Add("SYNTHETIC DATA: generated numbers, not statistics of the cities named.");
        return new TextTable(t.Id, t.Title, ["", .. models.Select(m => m.Spec.Label)], rows, notes);
    }

    private static Cell[] FootRow(FitStatistic f, IEnumerable<RegressionModel> models) =>
        f switch
        {
            FitStatistic.N =>
            [
                "N",
                .. models.Select(m =>
                    (Cell)(m.Fit?.Model is { } s ? s.NObs.ToString(CultureInfo.InvariantCulture) : "—")
                ),
            ],
            FitStatistic.R2 => ["R²", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.RSquared, 3) : ""))],
            FitStatistic.AdjR2 =>
            [
                "Adj. R²",
                .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.AdjRSquared, 3) : "")),
            ],
            FitStatistic.F => ["F", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.FStatistic, 2) : ""))],
            FitStatistic.Rmse => ["RMSE", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.Rmse, 3) : ""))],
            _ =>
            [
                "Bootstrap p",
                .. models.Select(m =>
                    (Cell)(
                        m.Fit?.Coefficients.FirstOrDefault() is { HasBootstrapPValue: true } c
                            ? F(c.BootstrapPValue, 3)
                            : ""
                    )
                ),
            ],
        };

    public static string SeWords(CovarianceType c) =>
        c switch
        {
            CovarianceType.Classical => "Classical",
            CovarianceType.Hc0 => "Robust (HC0)",
            CovarianceType.Hc1 => "Robust (HC1)",
            CovarianceType.Hc2 => "Robust (HC2)",
            CovarianceType.Hc3 => "Robust (HC3)",
            _ => "",
        };

    /// <summary>Variable names as a paper writes them.</summary>
    public static string Label(string term) =>
        term switch
        {
            "_cons" => "Constant",
            "ln_rescity" => "LnRescity",
            "ln_x" => "LnX",
            _ when term.StartsWith("ln_res_", StringComparison.Ordinal) => "LnRes" + term[7..],
            _ when term.Contains('*') => string.Join(" × ", term.Split('*').Select(Label)),
            _ when term.StartsWith("d_", StringComparison.Ordinal) => "D_" + term[2..],
            // Any other log in the paper's style: ln_density → LnDensity, ln_gdp_per_capita → LnGdpPerCapita.
            _ when term.StartsWith("ln_", StringComparison.Ordinal) && term.Length > 3 => "Ln" + Pascal(term[3..]),
            _ => term,
        };

    private static string Pascal(string name) =>
        string.Concat(
            name.Split('_', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => char.ToUpperInvariant(p[0]) + p[1..])
        );
}
