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
    private RegressionService.RegressionServiceClient Regression => new(services.RegressionChannel);

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

    // ---------- RegressionService.Fit and FitStream ----------
    internal static FitRequest SmallFit() =>
        new()
        {
            Dependent = "y",
            Regressors = { "a", "b" },
            CovarianceType = CovarianceType.Hc1,
            RowIds = { "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8" },
            Columns =
            {
                new Column { Name = "y", Values = { 1, 3, 2, 5, 4, 6, 8, 7 } },
                new Column { Name = "a", Values = { 1, 2, 3, 4, 5, 6, 7, 9 } },
                new Column { Name = "b", Values = { 2, 1, 4, 3, 6, 5, 8, 7 } },
            },
        };

    private Task<string> ExpectFit(StatusCode code, string field, FitRequest request) =>
        Rejection.ExpectFit(Regression, code, field, request);

    [Fact]
    public async Task FitAcceptsTheWellFormedRequestTheseTestsBreak() =>
        Assert.Equal(8, (await Regression.FitAsync(SmallFit())).Model.NObs);

    [Fact]
    public async Task FitRejectsEmptyData() =>
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "columns",
            () =>
                Regression
                    .FitAsync(
                        new FitRequest
                        {
                            Dependent = "y",
                            Regressors = { "a" },
                            CovarianceType = CovarianceType.Hc1,
                        }
                    )
                    .ResponseAsync
        );

    [Fact]
    public async Task FitRejectsInfiniteValuesNamingColumnAndRow()
    {
        var r = SmallFit();
        r.Columns[2].Values[6] = double.PositiveInfinity;
        var message = await ExpectFit(StatusCode.InvalidArgument, "columns[2].values[6]", r);
        Assert.Contains("'b'", message);
        Assert.Contains("'c7'", message);
    }

    [Fact]
    public async Task FitTreatsNaNAsMissingAndRefusesWhenTooFewRowsRemain()
    {
        var r = SmallFit();
        r.Columns[1].Values[0] = double.NaN;
        var ok = await Regression.FitAsync(r);
        Assert.Equal(7, ok.Model.NObs);
        Assert.Equal(["c1"], ok.DroppedRowIds);
        for (int i = 0; i < 6; i++)
            r.Columns[1].Values[i] = double.NaN;
        var message = await ExpectFit(StatusCode.FailedPrecondition, "regressors", r);
        Assert.Contains("3 parameters", message);
    }

    [Fact]
    public async Task FitRefusesAConstantColumn()
    {
        var r = SmallFit();
        for (int i = 0; i < 8; i++)
            r.Columns[2].Values[i] = 5;
        var message = await ExpectFit(StatusCode.FailedPrecondition, "regressors[1]", r);
        Assert.Contains("'b' is constant", message);
    }

    [Fact]
    public async Task FitRejectsDuplicateRowIdsAndColumns()
    {
        var r = SmallFit();
        r.RowIds[3] = "c1";
        await Rejection.Expect(StatusCode.InvalidArgument, "row_ids[3]", () => Regression.FitAsync(r).ResponseAsync);
        r = SmallFit();
        r.Columns.Add(new Column { Name = "a", Values = { 1, 2, 3, 4, 5, 6, 7, 8 } });
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "columns[3].name",
            () => Regression.FitAsync(r).ResponseAsync
        );
    }

    [Fact]
    public async Task FitRejectsUnknownColumns()
    {
        var r = SmallFit();
        r.Regressors.Add("gdp");
        var message = await ExpectFit(StatusCode.InvalidArgument, "regressors[2]", r);
        Assert.Contains("'gdp'", message);
        r = SmallFit();
        r.Dependent = "exports";
        await ExpectFit(StatusCode.InvalidArgument, "dependent", r);
    }

    [Fact]
    public async Task FitRefusesAsManyParametersAsRows()
    {
        var r = SmallFit();
        foreach (var c in r.Columns)
        {
            while (c.Values.Count > 3)
                c.Values.RemoveAt(3);
        }
        while (r.RowIds.Count > 3)
            r.RowIds.RemoveAt(3);
        await ExpectFit(StatusCode.FailedPrecondition, "regressors", r);
    }

    [Fact]
    public async Task FitRefusesCollinearRegressorsNamingThem()
    {
        var r = SmallFit();
        r.Columns.Add(
            new Column { Name = "c", Values = { r.Columns[1].Values.Zip(r.Columns[2].Values, (a, b) => a + 2 * b) } }
        );
        r.Regressors.Add("c");
        var message = await ExpectFit(StatusCode.FailedPrecondition, "regressors[2]", r);
        Assert.Contains("'a'", message);
        Assert.Contains("'b'", message);
        Assert.Contains("'c'", message);
    }

    [Fact]
    public async Task FitRejectsAnUnspecifiedCovarianceType()
    {
        var r = SmallFit();
        r.CovarianceType = CovarianceType.Unspecified;
        await ExpectFit(StatusCode.InvalidArgument, "covariance_type", r);
    }

    [Fact]
    public async Task FitRejectsANegativeBootstrap()
    {
        var r = SmallFit();
        r.Bootstrap = new BootstrapOptions { Replications = -5 };
        await ExpectFit(StatusCode.InvalidArgument, "bootstrap.replications", r);
    }

    [Fact]
    public async Task FitStreamRejectsChunksWithDifferentColumns()
    {
        using var call = Regression.FitStream();
        await call.RequestStream.WriteAsync(
            new FitRequest
            {
                Dependent = "y",
                Regressors = { "a" },
                CovarianceType = CovarianceType.Hc1,
                Columns =
                {
                    new Column { Name = "y", Values = { 1, 2 } },
                    new Column { Name = "a", Values = { 1, 3 } },
                },
            }
        );
        await call.RequestStream.WriteAsync(
            new FitRequest
            {
                Columns =
                {
                    new Column { Name = "y", Values = { 1 } },
                    new Column { Name = "b", Values = { 1 } },
                },
            }
        );
        await call.RequestStream.CompleteAsync();
        await Rejection.Expect(StatusCode.InvalidArgument, "columns[1].name", () => call.ResponseAsync);
    }

    [Fact]
    public async Task FitStreamRejectsAnEmptyStream()
    {
        using var call = Regression.FitStream();
        await call.RequestStream.CompleteAsync();
        await Rejection.Expect(StatusCode.InvalidArgument, "columns", () => call.ResponseAsync);
    }
}
