using System.Globalization;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Projection.Domain;

/// <summary>How export values are published.</summary>
public enum SeriesKind
{
    /// <summary>One value per month, periods YYYY-MM.</summary>
    Monthly = 1,

    /// <summary>One value per year, periods YYYY; no recovery time.</summary>
    Annual = 2,

    /// <summary>Year-to-date cumulative monthly values, periods YYYY-MM, differenced into months.</summary>
    MonthlyCumulative = 3,
}

/// <summary>One city's export values, in ascending period order.</summary>
public sealed record ExportSeries(string CityId, IReadOnlyList<string> Periods, double[] Values);

/// <summary>A year and month (month 0 for an annual period).</summary>
public readonly record struct Period(int Year, int Month) : IComparable<Period>
{
    /// <summary>Parses <c>YYYY-MM</c> (monthly) or <c>YYYY</c> (annual).</summary>
    public static bool TryParse(string? text, bool monthly, out Period period)
    {
        period = default;
        if (text is null)
            return false;
        text = text.Trim();
        if (monthly)
        {
            if (text.Length != 7 || text[4] != '-')
                return false;
            if (!int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out int y))
                return false;
            if (
                !int.TryParse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out int m)
                || m < 1
                || m > 12
            )
                return false;
            period = new Period(y, m);
            return y >= 1000;
        }
        if (
            text.Length != 4
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int year)
            || year < 1000
        )
            return false;
        period = new Period(year, 0);
        return true;
    }

    /// <inheritdoc />
    public int CompareTo(Period other) =>
        Year != other.Year ? Year.CompareTo(other.Year) : Month.CompareTo(other.Month);

    /// <summary><c>YYYY-MM</c> or <c>YYYY</c>.</summary>
    public override string ToString() =>
        Month == 0
            ? Year.ToString("D4", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}");
}

/// <summary>
/// Reads a series into calendar months or years: checks periods and values, and
/// differences year-to-date cumulative values into months.
/// </summary>
public static class SeriesReader
{
    /// <summary>Largest export value accepted: growth rates and projections stay far from overflow.</summary>
    public const double MaxValue = 1e200;

    /// <summary>Monthly (or annual) values keyed by period, after differencing.</summary>
    public static SortedDictionary<Period, double> Read(
        ExportSeries series,
        int index,
        SeriesKind kind,
        double januaryShare
    )
    {
        bool monthly = kind != SeriesKind.Annual;
        string city = series.CityId;
        Names.CheckPrintable(city ?? "", $"series[{index}].city_id", "city id");
        if (series.Periods.Count != series.Values.Length)
            throw new InvalidInputException(
                $"series[{index}].values",
                $"City '{city}' has {series.Periods.Count} periods but {series.Values.Length} values; give one value per period."
            );
        if (series.Periods.Count == 0)
            throw new InvalidInputException($"series[{index}].periods", $"City '{city}' has no export values.");

        var raw = new SortedDictionary<Period, (double Value, int Index)>();
        Period? previous = null;
        for (int t = 0; t < series.Periods.Count; t++)
        {
            string text = series.Periods[t];
            string field = $"series[{index}].periods[{t}]";
            if (!Period.TryParse(text, monthly, out var p))
                throw new InvalidInputException(
                    field,
                    monthly
                        ? $"City '{city}' has period '{text}', which is not a month in the form YYYY-MM."
                        : $"City '{city}' has period '{text}', which is not a year in the form YYYY."
                );
            if (previous is { } prev)
            {
                int cmp = p.CompareTo(prev);
                if (cmp == 0)
                    throw new InvalidInputException(
                        field,
                        $"City '{city}' has period {p} twice; each period may appear once."
                    );
                if (cmp < 0)
                    throw new InvalidInputException(
                        field,
                        $"City '{city}' has period {p} after {prev}; periods must be in ascending order."
                    );
            }
            double v = series.Values[t];
            string vfield = $"series[{index}].values[{t}]";
            if (double.IsNaN(v) || double.IsInfinity(v))
                throw new InvalidInputException(
                    vfield,
                    $"City '{city}' has a missing or non-finite export value in {p}; every period needs a finite value."
                );
            if (v < 0)
                throw new InvalidInputException(
                    vfield,
                    $"City '{city}' has negative exports ({v.ToString(CultureInfo.InvariantCulture)}) in {p}; exports cannot be negative."
                );
            if (v > MaxValue)
                throw new InvalidInputException(
                    vfield,
                    $"City '{city}' has exports of {v.ToString("0.###e0", CultureInfo.InvariantCulture)} in {p}, too large to compute growth rates with (the limit is {MaxValue:0e0}); rescale the series, for example to millions."
                );
            raw[p] = (v, t);
            previous = p;
        }

        if (kind != SeriesKind.MonthlyCumulative)
            return new SortedDictionary<Period, double>(raw.ToDictionary(kv => kv.Key, kv => kv.Value.Value));

        var months = new SortedDictionary<Period, double>();
        foreach (var (p, (cum, t)) in raw)
        {
            if (p.Month == 1)
            {
                months[p] = cum;
            }
            else if (raw.TryGetValue(p with { Month = p.Month - 1 }, out var before))
            {
                double v = cum - before.Value;
                if (v < 0)
                    throw new InvalidInputException(
                        $"series[{index}].values[{t}]",
                        $"City '{city}': the year-to-date value falls from {p with { Month = p.Month - 1 }} to {p}, so {p}'s exports would be negative; check the cumulative series."
                    );
                months[p] = v;
            }
            else if (p.Month == 2)
            {
                // January and February published together: split the sum.
                months[p with { Month = 1 }] = cum * januaryShare;
                months[p] = cum * (1.0 - januaryShare);
            }
            else
            {
                throw new InvalidInputException(
                    $"series[{index}].periods[{t}]",
                    $"City '{city}' has the year-to-date value of {p} but not of {p with { Month = p.Month - 1 }}, so {p}'s exports cannot be differenced out."
                );
            }
        }
        return months;
    }
}
