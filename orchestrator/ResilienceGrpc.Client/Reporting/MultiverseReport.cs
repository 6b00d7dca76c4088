using System.Text;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The specification curve in the report: a summary table (overall and by each choice),
/// <c>multiverse.csv</c> with every specification, and the figure's data (estimates
/// sorted, with the choices each one used).
/// </summary>
public static class MultiverseReport
{
    public const string CsvFile = "multiverse.csv";

    /// <summary>The choice a specification made on each axis, as (axis, value) labels in a fixed order.</summary>
    public static IEnumerable<(string Axis, string Value)> Choices(Specification s)
    {
        yield return ("weighting", StudySpecs.Short(s.Weighting));
        yield return ("scoring", s.WithinDimension ? "within-dimension" : "global");
        yield return ("growth", MultiversePlan.Word(s.GrowthMethod));
        yield return ("base window", $"{s.BaseWindow.StartYear}-{s.BaseWindow.EndYear}");
        yield return ("covariance", Covariance(s.CovarianceType));
        yield return ("controls", s.Controls.Count == 0 ? "none" : string.Join(" + ", s.Controls));
        yield return ("sample", s.DroppedCity.Length == 0 ? "all cities" : "one city left out");
    }

    public static string Covariance(CovarianceType c) =>
        c == CovarianceType.Classical ? "classical" : c.ToString().ToUpperInvariant();

    /// <summary>The summary: every specification, then each value of every axis that varies.</summary>
    public static TextTable Summary(Multiverse m)
    {
        var rows = new List<Cell[]> { Row("All specifications", m.Specifications) };
        var specs = m.Specifications;
        var axes = specs
            .SelectMany(Choices)
            .GroupBy(c => c.Axis)
            .Where(g => g.Select(c => c.Value).Distinct().Count() > 1)
            .Select(g => g.Key)
            .ToList();
        foreach (var axis in axes)
            foreach (var value in specs.Select(s => Choices(s).First(c => c.Axis == axis).Value).Distinct())
                rows.Add(
                    Row($"{axis}: {value}", specs.Where(s => Choices(s).First(c => c.Axis == axis).Value == value).ToList())
                );
        var s = m.Summary;
        var notes = new List<string>
        {
            $"Each specification regresses {m.Dependent} on {m.Term} (and its controls); the estimate is {m.Term}'s coefficient. "
                + $"Baseline (the paper's choices, all cities): {NumberText.Fixed(s.BaselineEstimate, 4)}. Range over the fitted specifications: "
                + $"[{NumberText.Fixed(s.MinEstimate, 4)}, {NumberText.Fixed(s.MaxEstimate, 4)}].",
            "Positive: the paper's sign (more resilient cities kept more of their exports). Significant: two-sided p < 0.05 under each specification's own covariance.",
        };
        if (s.Fitted < s.Specifications)
            notes.Add(
                $"{s.Specifications - s.Fitted:N0} specifications could not be fitted and are left out of the shares."
            );
        if (s.HasShareBootstrapSignificant)
            notes.Add(
                $"Wild-bootstrap p < 0.05 in {Percent(s.ShareBootstrapSignificant)} of the fitted specifications."
            );
        notes.Add($"Every specification is listed in {CsvFile} and in results.json (multiverse.specifications).");
        return new TextTable(
            "multiverse",
            "Specification curve: the main coefficient across every specification",
            ["Choice", "Specifications", "Median estimate", "Positive", "Significant (5%)"],
            rows,
            notes
        );
    }

    private static Cell[] Row(string label, IReadOnlyList<Specification> specs)
    {
        var fitted = specs.Where(s => s.Error.Length == 0).Select(s => s.Estimate).Order().ToArray();
        var sig = specs.Count(s => s.Error.Length == 0 && s.PValue < 0.05);
        int n = fitted.Length;
        Cell median = n == 0 ? Cell.Empty : NumberText.Fixed(MultiversePlan.Median(fitted), 4);
        return
        [
            label,
            specs.Count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
            median,
            n == 0 ? Cell.Empty : Percent((double)fitted.Count(e => e > 0) / n),
            n == 0 ? Cell.Empty : Percent((double)sig / n),
        ];
    }

    private static string Percent(double share) => NumberText.Fixed(100 * share, 1) + "%";

    /// <summary><c>multiverse.csv</c>: one row per specification, full precision.</summary>
    public static string Csv(Multiverse m)
    {
        var sb = new StringBuilder(
            "id,baseline,weighting,within_dimension,growth_method,base_window,covariance_type,controls,dropped_city,estimate,std_error,ci_low,ci_high,p_value,bootstrap_p_value,n_obs,error\n"
        );
        foreach (var s in m.Specifications)
        {
            var choices = Choices(s).ToDictionary(c => c.Axis, c => c.Value);
            string[] cells =
            [
                s.Id,
                s.Baseline ? "true" : "false",
                choices["weighting"],
                s.WithinDimension ? "true" : "false",
                choices["growth"],
                choices["base window"],
                choices["covariance"],
                string.Join(" ", s.Controls),
                s.DroppedCity,
                s.Error.Length == 0 ? NumberText.Exact(s.Estimate) : "",
                s.Error.Length == 0 ? NumberText.Exact(s.StdError) : "",
                s.Error.Length == 0 ? NumberText.Exact(s.CiLow) : "",
                s.Error.Length == 0 ? NumberText.Exact(s.CiHigh) : "",
                s.Error.Length == 0 ? NumberText.Exact(s.PValue) : "",
                s.HasBootstrapPValue ? NumberText.Exact(s.BootstrapPValue) : "",
                s.Error.Length == 0 ? s.NObs.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                s.Error,
            ];
            sb.Append(string.Join(",", cells.Select(Quote))).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>RFC 4180 quoting; text that a spreadsheet would read as a formula is prefixed with an apostrophe.</summary>
    internal static string Quote(string s)
    {
        if (
            s.Length > 0
            && "=+-@".Contains(s[0])
            && !double.TryParse(
                s,
                System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture,
                out _
            )
        )
            s = "'" + s;
        return s.IndexOfAny([',', '"', '\n', '\r', '\'']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }

    /// <summary>The figure's data: fitted specifications sorted by estimate, with their choices and the axes that vary.</summary>
    public static object FigureData(Multiverse m)
    {
        var fitted = m
            .Specifications.Where(s => s.Error.Length == 0)
            .OrderBy(s => s.Estimate)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .ToList();
        var choices = fitted.Select(s => Choices(s).ToArray()).ToList();
        // Rows in the plan's order (axis by axis, the study's own choice first), whatever the sort.
        var rows = m
            .Specifications.SelectMany(Choices)
            .Distinct()
            .GroupBy(c => c.Axis)
            .Where(g => g.Count() > 1)
            .SelectMany(g => g)
            .Select(c => $"{c.Axis}: {c.Value}")
            .ToList();
        return new
        {
            term = m.Term,
            dependent = m.Dependent,
            estimate = fitted.Select(s => s.Estimate),
            low = fitted.Select(s => s.CiLow),
            high = fitted.Select(s => s.CiHigh),
            significant = fitted.Select(s => s.PValue < 0.05),
            baseline = fitted.FindIndex(s => s.Baseline),
            id = fitted.Select(s => s.Id),
            rows,
            // For each indicator row, the ranks of the specifications that made that choice.
            used = rows.Select(r =>
                choices.Select((c, i) => (c, i)).Where(x => x.c.Any(y => $"{y.Axis}: {y.Value}" == r)).Select(x => x.i)
            ),
        };
    }
}
