using System.Text;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The analysis data set of a report: <c>analysis.csv</c> (one row per city, a
/// <c>city</c> column and every variable a table used, full precision, an empty cell
/// where a value is missing) and the descriptive-statistics table (N, mean, standard
/// deviation with n − 1, minimum and maximum of each column over its non-missing values).
/// </summary>
public static class AnalysisTables
{
    public const string CsvFile = "analysis.csv";

    /// <summary>analysis.csv; empty when the report has no analysis data.</summary>
    public static string Csv(AnalysisData? analysis)
    {
        if (analysis is null || analysis.Columns.Count == 0)
            return "";
        var sb = new StringBuilder("city");
        foreach (var c in analysis.Columns)
            sb.Append(',').Append(MultiverseReport.Quote(c.Name));
        sb.Append('\n');
        for (int i = 0; i < analysis.CityIds.Count; i++)
        {
            sb.Append(MultiverseReport.Quote(analysis.CityIds[i]));
            foreach (var c in analysis.Columns)
                sb.Append(',').Append(i < c.Values.Count ? NumberText.Exact(c.Values[i]) : "");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Mean, standard deviation (n − 1), minimum, maximum and N of every analysis column.</summary>
    public static TextTable? Descriptives(AnalysisData? analysis)
    {
        if (analysis is null || analysis.Columns.Count == 0)
            return null;
        var rows = new List<Cell[]>();
        foreach (var c in analysis.Columns)
        {
            var v = c.Values.Where(x => !double.IsNaN(x)).ToArray();
            if (v.Length == 0)
            {
                rows.Add([c.Name, "0", "", "", "", ""]);
                continue;
            }
            double mean = v.Average();
            double ss = 0;
            foreach (var x in v)
                ss += (x - mean) * (x - mean);
            double sd = v.Length > 1 ? Math.Sqrt(ss / (v.Length - 1)) : double.NaN;
            rows.Add([
                c.Name,
                v.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                NumberText.Fixed(mean, 3),
                double.IsNaN(sd) ? "" : NumberText.Fixed(sd, 3),
                NumberText.Fixed(v.Min(), 3),
                NumberText.Fixed(v.Max(), 3),
            ]);
        }
        return new TextTable(
            "descriptives",
            "Descriptive statistics of the analysis variables",
            ["Variable", "N", "Mean", "SD", "Min", "Max"],
            rows,
            [
                $"Every variable a regression table uses, over the {analysis.CityIds.Count} cities; N counts the non-missing values, SD divides by N − 1. The data are in {CsvFile}.",
            ]
        );
    }
}
