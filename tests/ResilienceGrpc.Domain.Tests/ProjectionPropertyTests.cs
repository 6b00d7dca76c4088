using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Projection.Domain;
using ResilienceGrpc.Tests.Support;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// Properties linking the three ways exports are published: monthly values summed are
/// the annual values; year-to-date cumulative values differenced are the months; a
/// joint January+February split evenly equals months whose January and February are
/// equal. Results must agree to 1e-12 relative.
/// </summary>
public class ProjectionPropertyTests
{
    private static readonly string[] Months = Enumerable
        .Range(2015, 7)
        .SelectMany(y => Enumerable.Range(1, 12).Select(m => $"{y}-{m:D2}"))
        .ToArray();

    private static Gen<double[]> MonthlyValues =>
        Gen.ArrayOf(Gen.Choose(100, 100_000).Select(v => v / 10.0), Months.Length);

    private static bool Same(CityProjection a, CityProjection b) =>
        Near(a.BaseGrowth, b.BaseGrowth)
        && Near(a.Projected, b.Projected)
        && Near(a.Ratio, b.Ratio)
        && Near(a.GrowthRate, b.GrowthRate);

    private static bool Near(double a, double b) =>
        Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    [Property]
    public Property MonthlyValuesGiveTheSameProjectionAsTheirAnnualSums() =>
        Prop.ForAll(
            MonthlyValues.ToArbitrary(),
            Gen.Elements(GrowthMethod.Geometric, GrowthMethod.Arithmetic).ToArbitrary(),
            (v, growth) =>
            {
                var years = Enumerable.Range(2015, 6).ToArray();
                var annual = years.Select(y => Enumerable.Range(0, 12).Sum(m => v[(y - 2015) * 12 + m])).ToArray();
                var m = ExportProjection.Project([new ExportSeries("c", Months, v)], new(SeriesKind.Monthly, growth))[
                    0
                ];
                var a = ExportProjection.Project(
                    [new ExportSeries("c", years.Select(y => y.ToString()).ToArray(), annual)],
                    new(SeriesKind.Annual, growth)
                )[0];
                return Same(m, a) && m.Monthly.Count == 24 && m.Monthly.All(p => double.IsFinite(p.Ratio));
            }
        );

    [Property]
    public Property CumulativeValuesDifferenceIntoTheirMonths() =>
        Prop.ForAll(
            MonthlyValues.ToArbitrary(),
            v =>
            {
                var cumulative = new double[v.Length];
                for (int t = 0; t < v.Length; t++)
                    cumulative[t] = (t % 12 == 0 ? 0 : cumulative[t - 1]) + v[t];
                var m = ExportProjection.Project([new ExportSeries("c", Months, v)], new(SeriesKind.Monthly))[0];
                var c = ExportProjection.Project(
                    [new ExportSeries("c", Months, cumulative)],
                    new(SeriesKind.MonthlyCumulative)
                )[0];
                return Same(m, c) && m.Recovery == c.Recovery;
            }
        );

    [Property]
    public Property AJointJanuaryFebruarySplitEvenlyEqualsEqualMonths() =>
        Prop.ForAll(
            MonthlyValues.ToArbitrary(),
            v =>
            {
                var even = (double[])v.Clone();
                for (int t = 0; t < v.Length; t += 12)
                    even[t + 1] = even[t]; // February = January
                var cumulative = new double[v.Length];
                for (int t = 0; t < v.Length; t++)
                    cumulative[t] = (t % 12 == 0 ? 0 : cumulative[t - 1]) + even[t];
                var keep = Enumerable.Range(0, v.Length).Where(t => t % 12 != 0).ToArray(); // no January: published with February
                var joint = ExportProjection.Project(
                    [
                        new ExportSeries(
                            "c",
                            keep.Select(t => Months[t]).ToArray(),
                            keep.Select(t => cumulative[t]).ToArray()
                        ),
                    ],
                    new(SeriesKind.MonthlyCumulative)
                )[0];
                var m = ExportProjection.Project([new ExportSeries("c", Months, even)], new(SeriesKind.Monthly))[0];
                return Same(m, joint);
            }
        );
}
