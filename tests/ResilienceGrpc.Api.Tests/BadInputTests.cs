using Grpc.Core;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// Every RPC's bad inputs over a real channel: malformed input is INVALID_ARGUMENT,
/// impossible input is FAILED_PRECONDITION, both with a field violation naming the
/// field and a message naming the indicator, city, period or column; never UNKNOWN.
/// </summary>
public class BadInputTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    private IndexingService.IndexingServiceClient Indexing => new(services.IndexingChannel);
    private ProjectionService.ProjectionServiceClient Projection => new(services.ProjectionChannel);

    // ---------- IndexingService.ComputeIndex ----------
    internal static ComputeIndexRequest SmallIndex() =>
        new()
        {
            Method = WeightingMethod.Entropy,
            UnitIds = { "beijing", "shanghai", "wuhan" },
            Indicators =
            {
                new Indicator
                {
                    Id = "gdp",
                    Dimension = "economic",
                    Direction = Direction.Positive,
                    Values = { 3, 5, 2 },
                },
                new Indicator
                {
                    Id = "so2",
                    Dimension = "ecological",
                    Direction = Direction.Negative,
                    Values = { 9, 4, 7 },
                },
            },
        };

    [Fact]
    public async Task IndexAcceptsTheWellFormedRequestTheseTestsBreak() =>
        Assert.Equal(3, (await Indexing.ComputeIndexAsync(SmallIndex())).Units.Count);

    [Fact]
    public async Task IndexRejectsEmptyData() =>
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "unit_ids",
            () => Indexing.ComputeIndexAsync(new ComputeIndexRequest { Method = WeightingMethod.Entropy }).ResponseAsync
        );

    [Fact]
    public async Task IndexRejectsAnUnknownCompositeRule()
    {
        var r = SmallIndex();
        r.CompositeRule = (CompositeRule)7;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "composite_rule",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("COMPOSITE_RULE_DIMENSION_MEAN", message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public async Task IndexRejectsNaNAndInfinityNamingIndicatorAndCity(double bad)
    {
        var r = SmallIndex();
        r.Indicators[1].Values[2] = bad;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "indicators[1].values[2]",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("'so2'", message);
        Assert.Contains("'wuhan'", message);
    }

    [Fact]
    public async Task IndexRefusesAConstantIndicatorAsAFailedPrecondition()
    {
        var r = SmallIndex();
        r.Indicators[0].Values.Clear();
        r.Indicators[0].Values.Add([4, 4, 4]);
        var message = await Rejection.Expect(
            StatusCode.FailedPrecondition,
            "indicators[0].values",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("'gdp'", message);
    }

    [Fact]
    public async Task IndexRejectsDuplicateCityIds()
    {
        var r = SmallIndex();
        r.UnitIds[2] = "beijing";
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "unit_ids[2]",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("'beijing'", message);
    }

    [Fact]
    public async Task IndexRejectsAnUnspecifiedMethodAndDirection()
    {
        var r = SmallIndex();
        r.Method = WeightingMethod.Unspecified;
        await Rejection.Expect(StatusCode.InvalidArgument, "method", () => Indexing.ComputeIndexAsync(r).ResponseAsync);
        r = SmallIndex();
        r.Indicators[1].Direction = Direction.Unspecified;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "indicators[1].direction",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("'so2'", message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-4)]
    public async Task IndexRejectsANonPositiveShift(double shift)
    {
        var r = SmallIndex();
        r.Shift = shift;
        await Rejection.Expect(StatusCode.InvalidArgument, "shift", () => Indexing.ComputeIndexAsync(r).ResponseAsync);
    }

    [Fact]
    public async Task IndexRejectsRaggedColumnsAndAMissingDimension()
    {
        var r = SmallIndex();
        r.Indicators[0].Values.RemoveAt(0);
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "indicators[0].values",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        r = SmallIndex();
        r.Indicators[0].Dimension = "";
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "indicators[0].dimension",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
    }

    // ---------- ProjectionService.ProjectExports ----------
    internal static ProjectExportsRequest SmallProjection() =>
        new()
        {
            Kind = SeriesKind.Monthly,
            GrowthMethod = GrowthMethod.Geometric,
            Series = { Requests.Monthly("wuhan"), Requests.Monthly("xiamen", 250) },
        };

    [Fact]
    public async Task ProjectionAcceptsTheWellFormedRequestTheseTestsBreak() =>
        Assert.Equal(2, (await Projection.ProjectExportsAsync(SmallProjection())).Cities.Count);

    [Fact]
    public async Task ProjectionRejectsEmptyData()
    {
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series",
            () =>
                Projection
                    .ProjectExportsAsync(
                        new ProjectExportsRequest { Kind = SeriesKind.Monthly, GrowthMethod = GrowthMethod.Geometric }
                    )
                    .ResponseAsync
        );
        var r = SmallProjection();
        r.Series[1].Periods.Clear();
        r.Series[1].Values.Clear();
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[1].periods",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("'xiamen'", message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public async Task ProjectionRejectsNaNAndInfinityNamingCityAndPeriod(double bad)
    {
        var r = SmallProjection();
        r.Series[1].Values[30] = bad; // 2017-07
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[1].values[30]",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("'xiamen'", message);
        Assert.Contains("2017-07", message);
    }

    [Fact]
    public async Task ProjectionRejectsNegativeExports()
    {
        var r = SmallProjection();
        r.Series[0].Values[5] = -3;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[0].values[5]",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("2015-06", message);
    }

    [Theory]
    [InlineData("2015", 0)]
    [InlineData("2019", 4)]
    [InlineData("2020", 5)]
    public async Task ProjectionRejectsAZeroWhereARatioOrLogNeedsIt(string year, int index)
    {
        var r = new ProjectExportsRequest
        {
            Kind = SeriesKind.Annual,
            GrowthMethod = GrowthMethod.Geometric,
            Series =
            {
                new ExportSeries
                {
                    CityId = "ningbo",
                    Periods = { "2015", "2016", "2017", "2018", "2019", "2020" },
                    Values = { 10, 11, 12, 13, 14, 15 },
                },
            },
        };
        r.Series[0].Values[index] = 0;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[0].values",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("'ningbo'", message);
        Assert.Contains(year, message);
    }

    [Fact]
    public async Task ProjectionRejectsMonthsOutOfOrder()
    {
        var r = SmallProjection();
        (r.Series[0].Periods[3], r.Series[0].Periods[4]) = (r.Series[0].Periods[4], r.Series[0].Periods[3]);
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[0].periods[4]",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("'wuhan'", message);
        Assert.Contains("2015-04", message);
    }

    [Fact]
    public async Task ProjectionRejectsAMissingBaseYear()
    {
        var r = SmallProjection();
        var s = r.Series[1];
        for (int t = s.Periods.Count - 1; t >= 0; t--)
            if (s.Periods[t].StartsWith("2016", StringComparison.Ordinal))
            {
                s.Periods.RemoveAt(t);
                s.Values.RemoveAt(t);
            }
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[1].periods",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("'xiamen'", message);
        Assert.Contains("2016", message);
    }

    [Fact]
    public async Task ProjectionRejectsDuplicateCities()
    {
        var r = SmallProjection();
        r.Series[1].CityId = "wuhan";
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[1].city_id",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
    }

    [Fact]
    public async Task ProjectionRejectsUnspecifiedEnums()
    {
        var r = SmallProjection();
        r.Kind = SeriesKind.Unspecified;
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "kind",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        r = SmallProjection();
        r.GrowthMethod = GrowthMethod.Unspecified;
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "growth_method",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
    }

    [Fact]
    public async Task ProjectionRejectsAnImpossibleBaseWindow()
    {
        var r = SmallProjection();
        r.BaseWindow = new BaseWindow { StartYear = 2019, EndYear = 2015 };
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "base_window",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
    }
}
