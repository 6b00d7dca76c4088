using Grpc.Core;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// Fit's and FitStream's bad inputs over a real channel: malformed input is INVALID_ARGUMENT,
/// impossible input is FAILED_PRECONDITION, with a field violation naming the field and a
/// message naming the column or row; never UNKNOWN. The streamed RPC answers the same way.
/// </summary>
public class BadFitInputTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    private RegressionService.RegressionServiceClient Regression => new(services.RegressionChannel);

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
