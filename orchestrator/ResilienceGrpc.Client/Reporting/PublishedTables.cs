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
        var terms = new List<string>();
        foreach (var m in models)
            foreach (var c in m.Fit?.Coefficients ?? [])
                if (c.Term != "_cons" && !terms.Contains(c.Term))
                    terms.Add(c.Term);
        terms.Add("_cons");
        bool boot = models.Any(m => m.Fit?.Bootstrap is not null);
        var rows = new List<Cell[]>();
        foreach (var term in terms)
        {
            var coef = new List<Cell> { Label(term) };
            var tRow = new List<Cell> { "" };
            var bRow = new List<Cell> { "" };
            foreach (var m in models)
            {
                var c = m.Fit?.Coefficients.FirstOrDefault(x => x.Term == term);
                coef.Add(c is null ? "" : F(c.Estimate, 4) + ResultTables.Stars(c.PValue));
                tRow.Add(c is null ? "" : $"({F(c.TValue, 3)})");
                bRow.Add(c is { HasBootstrapPValue: true } ? $"[{F(c.BootstrapPValue, 3)}]" : "");
            }
            rows.Add([.. coef]);
            rows.Add([.. tRow]);
            if (boot && term != "_cons")
                rows.Add([.. bRow]);
        }
        rows.Add([
            "N",
            .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? s.NObs.ToString(CultureInfo.InvariantCulture) : "—")),
        ]);
        rows.Add(["R²", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.RSquared, 3) : ""))]);
        rows.Add(["Adj. R²", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.AdjRSquared, 3) : ""))]);
        rows.Add(["F", .. models.Select(m => (Cell)(m.Fit?.Model is { } s ? F(s.FStatistic, 2) : ""))]);
        if (models.Any(m => m.HasLooMin))
            rows.Add([
                "Leave-one-out range",
                .. models.Select(m => (Cell)(m.HasLooMin ? $"[{F(m.LooMin, 3)}, {F(m.LooMax, 3)}]" : "")),
            ]);

        var cov =
            models.Select(m => m.Fit?.Model?.CovarianceType).FirstOrDefault(c => c is not null) ?? CovarianceType.Hc1;
        var notes = new List<string>
        {
            $"Dependent variable: {string.Join("; ", models.Select(m => m.Spec.Dependent).Distinct())}. {SeWords(cov)} t statistics in parentheses; *** p < 0.01, ** p < 0.05, * p < 0.1.",
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
        if (report.Synthetic)
            notes.Add("SYNTHETIC DATA: generated numbers, not statistics of the cities named.");
        return new TextTable(t.Id, t.Title, ["", .. models.Select(m => m.Spec.Label)], rows, notes);
    }

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
            _ => term,
        };
}
