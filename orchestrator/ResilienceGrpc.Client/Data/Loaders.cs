using System.Globalization;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;

namespace ResilienceGrpc.Client.Data;

/// <summary>Reads the CSV forms of ARCHITECTURE.md into request messages, with file/line/column errors.</summary>
public static class Loaders
{
    /// <summary>
    /// An indicator table (first column the unit id, one column per indicator) with its
    /// catalogue (<c>indicator,dimension,direction</c>, optional <c>label</c>).
    /// </summary>
    public static (List<string> Units, List<Indicator> Indicators) IndicatorTable(CsvTable data, CsvTable catalogue)
    {
        if (data.Header.Length < 2)
            throw new DataFileException(
                data.File,
                1,
                0,
                null,
                "the indicator table needs a unit id column and at least one indicator column."
            );
        var units = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in data.Rows)
        {
            var id = data.Text(row, 0);
            if (seen.TryGetValue(id, out int first))
                throw new DataFileException(
                    data.File,
                    row.Line,
                    1,
                    data.Header[0],
                    $"city '{id}' appears twice (first on line {first}); every city must appear once."
                );
            seen[id] = row.Line;
            units.Add(id);
        }

        int ci =
            catalogue.Has("indicator") || !catalogue.Has("name")
                ? catalogue.Column("indicator", "the indicator id")
                : catalogue.Column("name");
        int cd = catalogue.Column("dimension", "the indicator's dimension");
        int cr = catalogue.Column("direction", "positive or negative");
        int cl = Array.IndexOf(catalogue.Header, "label");
        var entries = new Dictionary<string, (CsvRow Row, string Dimension, Direction Direction, string Label)>(
            StringComparer.Ordinal
        );
        foreach (var row in catalogue.Rows)
        {
            var id = catalogue.Text(row, ci);
            if (entries.ContainsKey(id))
                throw new DataFileException(
                    catalogue.File,
                    row.Line,
                    ci + 1,
                    "indicator",
                    $"indicator '{id}' is listed twice."
                );
            var dimension = catalogue.Text(row, cd);
            var direction = row.Cells[cr].Trim().ToLowerInvariant() switch
            {
                "positive" or "+" => Direction.Positive,
                "negative" or "-" => Direction.Negative,
                "" => throw new DataFileException(
                    catalogue.File,
                    row.Line,
                    cr + 1,
                    "direction",
                    $"indicator '{id}' has no direction; write 'positive' or 'negative'."
                ),
                var other => throw new DataFileException(
                    catalogue.File,
                    row.Line,
                    cr + 1,
                    "direction",
                    $"indicator '{id}' has an unknown direction '{other}'; write 'positive' or 'negative'."
                ),
            };
            entries[id] = (row, dimension, direction, cl >= 0 ? row.Cells[cl] : "");
            if (Array.IndexOf(data.Header, id, 1) < 0)
                throw new DataFileException(
                    catalogue.File,
                    row.Line,
                    ci + 1,
                    "indicator",
                    $"indicator '{id}' is not a column of {Path.GetFileName(data.File)}."
                );
        }

        var indicators = new List<Indicator>();
        for (int c = 1; c < data.Header.Length; c++)
        {
            string id = data.Header[c];
            if (!entries.TryGetValue(id, out var entry))
                throw new DataFileException(
                    data.File,
                    1,
                    c + 1,
                    id,
                    $"indicator '{id}' is not in the catalogue {Path.GetFileName(catalogue.File)}; add its dimension and direction there."
                );
            var values = data.Rows.Select(r => data.Number(r, c, allowMissing: false));
            indicators.Add(
                new Indicator
                {
                    Id = id,
                    Dimension = entry.Dimension,
                    Direction = entry.Direction,
                    Label = entry.Label,
                    Values = { values },
                }
            );
        }
        return (units, indicators);
    }

    /// <summary>
    /// Exports in long form <c>city,period,exports</c> (aliases: <c>month</c> or <c>year</c> for
    /// the period, <c>value</c> for the exports); period <c>YYYY</c> (annual) or <c>YYYY-MM</c>
    /// (monthly, or year-to-date cumulative when <paramref name="cumulative"/>). A wide table
    /// (a city column, then one column per period, such as <c>E2015,E2016,...</c>) is read too.
    /// </summary>
    public static (List<ExportSeries> Series, SeriesKind Kind) Exports(CsvTable table, bool cumulative)
    {
        var cells = new List<(string City, string Period, CsvRow Row, int PeriodColumn, int ValueColumn)>();
        int cc = table.Column("city", "the city id");
        int cp = new[] { "period", "month", "year" }
            .Select(n => Array.IndexOf(table.Header, n))
            .FirstOrDefault(i => i >= 0, -1);
        if (cp >= 0)
        {
            int cv = new[] { "exports", "value", "export" }
                .Select(n => Array.IndexOf(table.Header, n))
                .FirstOrDefault(i => i >= 0, -1);
            if (cv < 0)
                table.Column("exports", "the export value");
            foreach (var row in table.Rows)
                cells.Add((table.Text(row, cc), table.Text(row, cp), row, cp, cv));
        }
        else
        {
            var periods = table.Header.Select(h => h.TrimStart('E', 'e', 'Y', 'y')).ToArray();
            var columns = Enumerable.Range(0, table.Header.Length).Where(c => c != cc).ToArray();
            if (columns.Length == 0 || !columns.All(c => IsYear(periods[c]) || IsMonth(periods[c])))
                table.Column("period", "YYYY or YYYY-MM, in long form city,period,exports; or one column per period");
            foreach (var row in table.Rows)
                foreach (var c in columns)
                    cells.Add((table.Text(row, cc), periods[c], row, -1, c));
        }

        var byCity = new Dictionary<string, ExportSeries>(StringComparer.Ordinal);
        var order = new List<ExportSeries>();
        var seen = new Dictionary<(string City, string Period), int>(); // the line each city's period is on
        bool? monthly = null;
        foreach (var (city, period, row, pc, vc) in cells)
        {
            int at = pc >= 0 ? pc : vc;
            bool isMonth = IsMonth(period),
                isYear = IsYear(period);
            if (!isMonth && !isYear)
                throw new DataFileException(
                    table.File,
                    row.Line,
                    at + 1,
                    table.Header[at],
                    $"'{period}' is neither a year (YYYY) nor a month (YYYY-MM)."
                );
            if (isMonth && int.Parse(period.AsSpan(5, 2), CultureInfo.InvariantCulture) is < 1 or > 12)
                throw new DataFileException(
                    table.File,
                    row.Line,
                    at + 1,
                    table.Header[at],
                    $"'{period}' is not a month; months run from 01 to 12."
                );
            if (!seen.TryAdd((city, period), row.Line))
                throw new DataFileException(
                    table.File,
                    row.Line,
                    at + 1,
                    table.Header[at],
                    $"city '{CsvTable.Quote(city)}' has exports for {period} twice (also on line {seen[(city, period)]}); give each period once."
                );
            monthly ??= isMonth;
            if (monthly != isMonth)
                throw new DataFileException(
                    table.File,
                    row.Line,
                    at + 1,
                    table.Header[at],
                    $"'{period}' is {(isMonth ? "a month" : "a year")}, but earlier periods are {(isMonth ? "years" : "months")}; use one frequency per file."
                );
            double v = table.Number(row, vc, allowMissing: false);
            if (!byCity.TryGetValue(city, out var series))
            {
                series = new ExportSeries { CityId = city };
                byCity[city] = series;
                order.Add(series);
            }
            series.Periods.Add(period);
            series.Values.Add(v);
        }
        // Rows may come in any order: each city's periods are put in time order (YYYY and YYYY-MM
        // sort as text in time order; the sort is stable, and no period repeats).
        foreach (var series in order)
        {
            var sorted = series.Periods.Zip(series.Values).OrderBy(p => p.First, StringComparer.Ordinal).ToArray();
            series.Periods.Clear();
            series.Values.Clear();
            series.Periods.AddRange(sorted.Select(p => p.First));
            series.Values.AddRange(sorted.Select(p => p.Second));
        }
        var kind =
            monthly == true ? (cumulative ? SeriesKind.MonthlyCumulative : SeriesKind.Monthly) : SeriesKind.Annual;
        if (cumulative && kind == SeriesKind.Annual)
            throw new DataFileException(
                table.File,
                0,
                0,
                null,
                "--cumulative needs monthly periods (YYYY-MM), but the file has years."
            );
        return (order, kind);
    }

    private static bool IsMonth(string p) => p.Length == 7 && p[4] == '-' && p.Remove(4, 1).All(char.IsAsciiDigit);

    private static bool IsYear(string p) => p.Length == 4 && p.All(char.IsAsciiDigit);

    /// <summary>Parses <c>2015-2019</c>.</summary>
    public static BaseWindow BaseWindow(string text)
    {
        var parts = text.Split('-', 2);
        if (
            parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int b)
        )
            return new BaseWindow { StartYear = a, EndYear = b };
        throw new FormatException($"'{text}' is not a base window; write it as FIRST-LAST, for example 2015-2019.");
    }
}
