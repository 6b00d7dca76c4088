using ResilienceGrpc.Indexing.Domain;
using ResilienceGrpc.Projection.Domain;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>Every malformed input gets a specific exception naming what is wrong; none gets a NaN.</summary>
public class RejectedInputTests
{
    // ---- regression ----
    private static RegressionData Data(params (string Name, double[] Values)[] cols) =>
        new(
            cols.Select(c => new NamedColumn(c.Name, c.Values)).ToList(),
            Enumerable.Range(1, cols[0].Values.Length).Select(i => $"c{i}").ToList()
        );

    private static readonly double[] Y = [1, 3, 2, 5, 4, 6, 8, 7];
    private static readonly double[] A = [1, 2, 3, 4, 5, 6, 7, 9];
    private static readonly double[] B = [2, 1, 4, 3, 6, 5, 8, 7];

    [Theory]
    [InlineData(false, 11)] // 195,225,000 rows × (intercept + 11) = 2,342,700,000 values
    [InlineData(true, 12)] // the same without an intercept
    public void ADesignLargerThanOneArrayIsAWorkLimitNamedBeforeAnyColumnIsRead(bool noIntercept, int regressors)
    {
        // One column's memory shared by every column: never written, so never resident.
        int rows = 195_225_000;
        var shared = GC.AllocateUninitializedArray<double>(rows);
        var columns = Enumerable.Range(0, regressors + 1).Select(c => new NamedColumn($"v{c}", shared)).ToList();
        var model = new ModelSpec("v0", columns.Skip(1).Select(c => c.Name).ToList(), NoIntercept: noIntercept);
        var refused = Assert.Throws<WorkLimitException>(() => DesignMatrix.Build(new RegressionData(columns), model));
        Assert.Equal("columns", refused.Field);
        Assert.Contains($"{Array.MaxLength:N0}", refused.Message);
        Assert.Contains($"{(long)rows * 12:N0} values", refused.Message);
    }

    [Fact]
    public void WithoutAnInterceptAZeroRegressorAndACustomInterceptTermAreNamedWithoutMentioningAnIntercept()
    {
        var zero = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Y), ("a", A), ("z", new double[8])),
                new ModelSpec("y", ["a", "z"], NoIntercept: true),
                new()
            )
        );
        Assert.Equal("regressors[1]", zero.Field);
        Assert.DoesNotContain("intercept", zero.Message);
        var cons = Assert.Throws<InvalidInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Y), ("_cons", A)),
                new ModelSpec("y", ["_cons"], NoIntercept: true),
                new()
            )
        );
        Assert.Contains("has none", cons.Message);
    }

    [Fact]
    public void AnUnknownColumnIsNamed()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            RegressionAnalysis.Run(Data(("y", Y), ("a", A)), new ModelSpec("y", ["a", "gdp"]), new())
        );
        Assert.Equal("regressors[1]", e.Field);
        Assert.Contains("'gdp'", e.Message);
    }

    [Fact]
    public void CollinearRegressorsAreNamed()
    {
        var c = A.Zip(B, (a, b) => 2 * a - b).ToArray();
        var e = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Y), ("a", A), ("b", B), ("c", c)),
                new ModelSpec("y", ["a", "b", "c"]),
                new()
            )
        );
        Assert.Equal("regressors[2]", e.Field);
        Assert.Contains("'c'", e.Message);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void AConstantRegressorIsCollinearWithTheIntercept()
    {
        var e = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Y), ("a", A), ("k", Enumerable.Repeat(3.0, 8).ToArray())),
                new ModelSpec("y", ["a", "k"]),
                new()
            )
        );
        Assert.Equal("regressors[1]", e.Field);
        Assert.Contains("'k' is constant", e.Message);
    }

    [Fact]
    public void FewerRowsThanParametersIsRefused()
    {
        var e = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Y[..3]), ("a", A[..3]), ("b", B[..3])),
                new ModelSpec("y", ["a", "b"]),
                new()
            )
        );
        Assert.Contains("3 parameters", e.Message);
        Assert.Contains("3 complete rows", e.Message);
    }

    [Fact]
    public void AnInfiniteValueIsRefusedWithItsRow()
    {
        var bad = (double[])A.Clone();
        bad[4] = double.PositiveInfinity;
        var e = Assert.Throws<InvalidInputException>(() =>
            RegressionAnalysis.Run(Data(("y", Y), ("a", bad)), new ModelSpec("y", ["a"]), new())
        );
        Assert.Equal("columns[1].values[4]", e.Field);
        Assert.Contains("'c5'", e.Message);
    }

    [Fact]
    public void MissingValuesAreDeletedListwiseNotReturnedAsNaN()
    {
        var gap = (double[])A.Clone();
        gap[2] = double.NaN;
        var r = RegressionAnalysis.Run(
            Data(("y", Y), ("a", gap), ("b", B)),
            new ModelSpec("y", ["a", "b"]),
            new(CovarianceType.HC3, 99, 1, true)
        );
        Assert.Equal(7, r.Fit.N);
        Assert.Equal(["c3"], r.Design.DroppedRowIds);
        Assert.All(
            r.Inference.Coefficients,
            c => Assert.True(double.IsFinite(c.StdError) && double.IsFinite(c.PValue) && double.IsFinite(c.CiLow))
        );
        Assert.True(double.IsFinite(r.Inference.FTest.Statistic));
    }

    [Fact]
    public void AConstantDependentVariableIsRefused()
    {
        var e = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(
                Data(("y", Enumerable.Repeat(1.0, 8).ToArray()), ("a", A)),
                new ModelSpec("y", ["a"]),
                new()
            )
        );
        Assert.Equal("dependent", e.Field);
    }

    [Fact]
    public void DuplicateRowIdsAreRefused()
    {
        var data = new RegressionData([new("y", Y), new("a", A)], ["x", "x", "c", "d", "e", "f", "g", "h"]);
        var e = Assert.Throws<InvalidInputException>(() =>
            RegressionAnalysis.Run(data, new ModelSpec("y", ["a"]), new())
        );
        Assert.Equal("row_ids[1]", e.Field);
    }

    [Fact]
    public void ValuesThatOverflowAreRefusedNotReturnedAsNaN()
    {
        var huge = A.Select(v => v * 1e306).ToArray();
        var e = Assert.Throws<InfeasibleInputException>(() =>
            RegressionAnalysis.Run(Data(("y", huge), ("a", A)), new ModelSpec("y", ["a"]), new())
        );
        Assert.Contains("rescale", e.Message);
    }

    // ---- index ----
    [Fact]
    public void AnIndicatorSpanningMoreThanADoubleIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(
                Cities,
                [new("gdp", "economic", IndicatorDirection.Positive, [-1e308, 0, 1e308])],
                new()
            )
        );
        Assert.Contains("'gdp'", e.Message);
    }

    private static readonly string[] Cities = ["beijing", "shanghai", "wuhan"];

    [Fact]
    public void AConstantIndicatorIsNamed()
    {
        var e = Assert.Throws<InfeasibleInputException>(() =>
            CompositeIndex.Compute(
                Cities,
                [
                    new("gdp", "economic", IndicatorDirection.Positive, [1, 2, 3]),
                    new("green", "ecological", IndicatorDirection.Positive, [0.4, 0.4, 0.4]),
                ],
                new()
            )
        );
        Assert.Equal("indicators[1].values", e.Field);
        Assert.Contains("'green'", e.Message);
    }

    [Theory]
    [InlineData(double.NaN, "missing")]
    [InlineData(double.PositiveInfinity, "infinite")]
    public void AMissingOrNonFiniteValueNamesIndicatorAndCity(double bad, string word)
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(Cities, [new("gdp", "economic", IndicatorDirection.Positive, [1, bad, 3])], new())
        );
        Assert.Equal("indicators[0].values[1]", e.Field);
        Assert.Contains("'gdp'", e.Message);
        Assert.Contains("'shanghai'", e.Message);
        Assert.Contains(word, e.Message);
    }

    [Fact]
    public void FewerThanTwoUnitsIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(["beijing"], [new("gdp", "economic", IndicatorDirection.Positive, [1])], new())
        );
        Assert.Equal("unit_ids", e.Field);
    }

    [Fact]
    public void AnUnknownDirectionIsNamed()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            IndicatorCatalogue.ParseDirection("upward", "gdp", "direction")
        );
        Assert.Contains("'gdp'", e.Message);
        Assert.Contains("'upward'", e.Message);
    }

    [Fact]
    public void AnIndicatorWithoutDimensionIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(Cities, [new("gdp", " ", IndicatorDirection.Positive, [1, 2, 3])], new())
        );
        Assert.Equal("indicators[0].dimension", e.Field);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void ANonPositiveShiftIsRefused(double shift)
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(
                Cities,
                [new("gdp", "economic", IndicatorDirection.Positive, [1, 2, 3])],
                new(WeightingMethod.Entropy, shift)
            )
        );
        Assert.Equal("shift", e.Field);
    }

    [Fact]
    public void ADuplicateCityIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CompositeIndex.Compute(
                ["a", "b", "a"],
                [new("gdp", "economic", IndicatorDirection.Positive, [1, 2, 3])],
                new()
            )
        );
        Assert.Equal("unit_ids[2]", e.Field);
    }

    // ---- projection ----
    private static string[] Years(int from, int to) =>
        Enumerable.Range(from, to - from + 1).Select(y => y.ToString()).ToArray();

    [Fact]
    public void MonthsOutOfOrderNameCityAndPeriod()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project(
                [new ExportSeries("wuhan", ["2015-01", "2015-03", "2015-02"], [1, 2, 3])],
                new(SeriesKind.Monthly)
            )
        );
        Assert.Equal("series[0].periods[2]", e.Field);
        Assert.Contains("'wuhan'", e.Message);
        Assert.Contains("2015-02", e.Message);
    }

    [Fact]
    public void ADuplicatedMonthIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project(
                [new ExportSeries("wuhan", ["2015-01", "2015-01"], [1, 2])],
                new(SeriesKind.Monthly)
            )
        );
        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void AMissingBaseYearNamesCityAndYear()
    {
        var periods = new[] { "2015", "2016", "2018", "2019", "2020" };
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project([new ExportSeries("xiamen", periods, [1, 2, 3, 4, 5])], new(SeriesKind.Annual))
        );
        Assert.Contains("'xiamen'", e.Message);
        Assert.Contains("2017", e.Message);
    }

    [Fact]
    public void AMissingMonthInABaseYearIsNamed()
    {
        var months = Enumerable
            .Range(2015, 6)
            .SelectMany(y => Enumerable.Range(1, 12).Select(m => $"{y}-{m:D2}"))
            .Where(p => p != "2016-07")
            .ToArray();
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project(
                [new ExportSeries("xiamen", months, months.Select(_ => 10.0).ToArray())],
                new(SeriesKind.Monthly)
            )
        );
        Assert.Contains("2016-07", e.Message);
    }

    [Theory]
    [InlineData(0, "2015")]
    [InlineData(4, "2019")]
    [InlineData(5, "2020")]
    public void ANonPositiveValueWhereARatioOrLogNeedsItIsNamed(int zeroAt, string year)
    {
        var values = new double[] { 10, 11, 12, 13, 14, 15 };
        values[zeroAt] = 0;
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project([new ExportSeries("ningbo", Years(2015, 2020), values)], new(SeriesKind.Annual))
        );
        Assert.Contains("'ningbo'", e.Message);
        Assert.Contains(year, e.Message);
    }

    [Fact]
    public void AMalformedPeriodIsNamed()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project([new ExportSeries("ningbo", ["2015-13"], [1])], new(SeriesKind.Monthly))
        );
        Assert.Equal("series[0].periods[0]", e.Field);
        Assert.Contains("2015-13", e.Message);
    }

    [Fact]
    public void ExportsThatOverflowAreRefusedNamingTheCity()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project(
                [new ExportSeries("ningbo", Years(2015, 2020), [1e-300, 1, 1, 1, 1e300, 1e300])],
                new(SeriesKind.Annual)
            )
        );
        Assert.Contains("'ningbo'", e.Message);
    }

    [Fact]
    public void AFallingCumulativeValueIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ExportProjection.Project(
                [new ExportSeries("ningbo", ["2015-01", "2015-02", "2015-03"], [5, 9, 8])],
                new(SeriesKind.MonthlyCumulative)
            )
        );
        Assert.Contains("2015-03", e.Message);
        Assert.Contains("falls", e.Message);
    }
}
