using System.Globalization;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Projection.Domain;

/// <summary>How base-window growth is computed.</summary>
public enum GrowthMethod
{
    /// <summary>(E_end / E_start)^(1/years) − 1.</summary>
    Geometric = 1,

    /// <summary>Mean of the year-on-year growth rates.</summary>
    Arithmetic = 2,
}

/// <summary>Options of the projection.</summary>
/// <param name="Kind">How the values are published.</param>
/// <param name="Growth">Base growth method.</param>
/// <param name="BaseStart">First base year.</param>
/// <param name="BaseEnd">Last base year; the shock year is the next.</param>
/// <param name="JanuaryShare">Share of a joint January+February value given to January.</param>
public sealed record ProjectionOptions(
    SeriesKind Kind,
    GrowthMethod Growth = GrowthMethod.Geometric,
    int BaseStart = 2015,
    int BaseEnd = 2019,
    double JanuaryShare = 0.5
)
{
    /// <summary>The projected year.</summary>
    public int ShockYear => BaseEnd + 1;
}

/// <summary>One month of the post-shock path.</summary>
public sealed record MonthlyPoint(Period Period, double Actual, double Expected)
{
    /// <summary>actual / expected.</summary>
    public double Ratio => Actual / Expected;
}

/// <summary>One city's projection and resilience measures.</summary>
public sealed record CityProjection(
    string CityId,
    double BaseStartValue,
    double BaseEndValue,
    double BaseGrowth,
    double Projected,
    double Actual,
    double Ratio,
    double GrowthRate,
    RecoveryTime Recovery,
    IReadOnlyList<MonthlyPoint> Monthly
);

/// <summary>
/// Counterfactual exports of docs/method.md §3: base growth g over the base window,
/// projected shock-year exports P = E_end (1 + g), export resilience E_shock / P, the
/// growth rate E_shock / E_end − 1, and, with monthly data, expected months
/// P_{y,m} = E_{end,m} (1 + g)^(y − end) and the recovery time.
/// </summary>
public static class ExportProjection
{
    /// <summary>Projects every city, observing the token once per city.</summary>
    public static IReadOnlyList<CityProjection> Project(
        IReadOnlyList<ExportSeries> series,
        ProjectionOptions options,
        CancellationToken cancellationToken = default
    )
    {
        Validate(series, options);
        var result = new CityProjection[series.Count];
        for (int c = 0; c < series.Count; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[c] = ProjectCity(series[c], c, options);
        }
        return result;
    }

    private static CityProjection ProjectCity(ExportSeries s, int index, ProjectionOptions o)
    {
        string city = s.CityId;
        var values = SeriesReader.Read(s, index, o.Kind, o.JanuaryShare);
        bool monthly = o.Kind != SeriesKind.Annual;
        string field = $"series[{index}].periods";

        double Annual(int year)
        {
            if (!monthly)
            {
                if (values.TryGetValue(new Period(year, 0), out var v))
                    return v;
                throw new InvalidInputException(
                    field,
                    year <= o.BaseEnd
                        ? $"City '{city}' has no exports for base year {year}; the base window {o.BaseStart}-{o.BaseEnd} needs every year."
                        : $"City '{city}' has no exports for {year}, the year being projected."
                );
            }
            double sum = 0;
            for (int m = 1; m <= 12; m++)
            {
                if (!values.TryGetValue(new Period(year, m), out var v))
                    throw new InvalidInputException(
                        field,
                        year <= o.BaseEnd
                            ? $"City '{city}' has no exports for {new Period(year, m)}; base year {year} needs all 12 months."
                            : $"City '{city}' has no exports for {new Period(year, m)}; the projected year {year} needs all 12 months."
                    );
                sum += v;
            }
            return sum;
        }

        var e = new Dictionary<int, double>();
        for (int y = o.BaseStart; y <= o.ShockYear; y++)
            e[y] = Annual(y);

        double g;
        if (o.Growth == GrowthMethod.Geometric)
        {
            RequirePositive(
                e[o.BaseStart],
                city,
                o.BaseStart,
                $"series[{index}].values",
                "the base growth rate takes a root of E_end / E_start"
            );
            RequirePositive(
                e[o.BaseEnd],
                city,
                o.BaseEnd,
                $"series[{index}].values",
                "the base growth rate takes a root of E_end / E_start"
            );
            g = Math.Pow(e[o.BaseEnd] / e[o.BaseStart], 1.0 / (o.BaseEnd - o.BaseStart)) - 1.0;
        }
        else
        {
            double sum = 0;
            for (int y = o.BaseStart + 1; y <= o.BaseEnd; y++)
            {
                RequirePositive(
                    e[y - 1],
                    city,
                    y - 1,
                    $"series[{index}].values",
                    "a year-on-year growth rate divides by it"
                );
                sum += e[y] / e[y - 1] - 1.0;
            }
            g = sum / (o.BaseEnd - o.BaseStart);
        }

        double baseEnd = e[o.BaseEnd];
        RequirePositive(
            baseEnd,
            city,
            o.BaseEnd,
            $"series[{index}].values",
            "the projection and the growth rate divide by it"
        );
        double projected = baseEnd * (1.0 + g);
        if (!(projected > 0))
            throw new InvalidInputException(
                field,
                $"City '{city}' has a base growth rate of {g.ToString("0.####", CultureInfo.InvariantCulture)}, which projects non-positive exports for {o.ShockYear}."
            );
        double actual = e[o.ShockYear];
        RequirePositive(actual, city, o.ShockYear, $"series[{index}].values", "export resilience is regressed in logs");

        var path = new List<MonthlyPoint>();
        RecoveryTime recovery;
        if (monthly)
        {
            foreach (var (p, v) in values)
            {
                if (p.Year < o.ShockYear)
                    continue;
                int expectedIndex = path.Count;
                var want = new Period(o.ShockYear + expectedIndex / 12, expectedIndex % 12 + 1);
                if (p != want)
                    throw new InvalidInputException(
                        field,
                        $"City '{city}' has no exports for {want}; the monthly path after the shock must have no gaps."
                    );
                double baseMonth = values[new Period(o.BaseEnd, p.Month)];
                if (!(baseMonth > 0))
                    throw new InvalidInputException(
                        field,
                        $"City '{city}' exported nothing in {new Period(o.BaseEnd, p.Month)}, so the expected value of {p} is 0 and its ratio is undefined."
                    );
                path.Add(new MonthlyPoint(p, v, baseMonth * Math.Pow(1.0 + g, p.Year - o.BaseEnd)));
            }
            recovery = RecoveryTime.FromRatios(
                path.Select(m => m.Ratio).ToArray(),
                i => path[i].Period.ToString(),
                $"City '{city}'"
            );
        }
        else
        {
            recovery = new RecoveryTime(
                RecoveryStatus.Unavailable,
                null,
                null,
                null,
                "Recovery time needs monthly exports; only annual values were given."
            );
        }

        double ratio = actual / projected,
            growth = actual / baseEnd - 1.0;
        if (
            !double.IsFinite(g)
            || !double.IsFinite(projected)
            || !double.IsFinite(ratio)
            || !double.IsFinite(growth)
            || path.Any(m => !double.IsFinite(m.Expected) || !double.IsFinite(m.Ratio))
        )
            throw new InvalidInputException(
                $"series[{index}].values",
                $"City '{city}' has export values too large to compute with (they overflow a double); rescale them, for example to millions."
            );
        return new CityProjection(city, e[o.BaseStart], baseEnd, g, projected, actual, ratio, growth, recovery, path);
    }

    private static void RequirePositive(double value, string city, int year, string field, string why)
    {
        if (!(value > 0))
            throw new InvalidInputException(
                field,
                $"City '{city}' has exports of {value.ToString(CultureInfo.InvariantCulture)} in {year}, but they must be positive because {why}."
            );
    }

    private static void Validate(IReadOnlyList<ExportSeries> series, ProjectionOptions o)
    {
        if (!Enum.IsDefined(o.Kind))
            throw new InvalidInputException("kind", "The series kind must be monthly, annual or monthly cumulative.");
        if (!Enum.IsDefined(o.Growth))
            throw new InvalidInputException("growth_method", "The growth method must be geometric or arithmetic.");
        if (o.BaseStart < 1000 || o.BaseEnd > 9998 || o.BaseEnd <= o.BaseStart)
            throw new InvalidInputException(
                "base_window",
                $"The base window {o.BaseStart}-{o.BaseEnd} is not valid; it needs at least two years, first year before last (for example 2015-2019)."
            );
        if (!(o.JanuaryShare >= 0 && o.JanuaryShare <= 1))
            throw new InvalidInputException(
                "january_share",
                $"The January share must be between 0 and 1; {o.JanuaryShare.ToString(CultureInfo.InvariantCulture)} was given."
            );
        if (series.Count == 0)
            throw new InvalidInputException("series", "No export series were given.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int c = 0; c < series.Count; c++)
        {
            if (string.IsNullOrWhiteSpace(series[c].CityId))
                throw new InvalidInputException($"series[{c}].city_id", $"Series {c + 1} has no city id.");
            if (!seen.Add(series[c].CityId))
                throw new InvalidInputException(
                    $"series[{c}].city_id",
                    $"City '{series[c].CityId}' has two series; send one per city."
                );
        }
    }
}
