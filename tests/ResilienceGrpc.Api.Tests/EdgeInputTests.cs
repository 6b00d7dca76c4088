using Grpc.Core;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// Input at the edges, over HTTP/2: values too far from 1 for double precision, exports too
/// large to compute with, a shift that would drown the data, names with control or
/// bidirectional characters, and a streamed fit whose model changes mid-stream. Each gets a
/// sentence that says what to do, naming the field.
/// </summary>
public class EdgeInputTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    private IndexingService.IndexingServiceClient Indexing => new(services.IndexingChannel);
    private ProjectionService.ProjectionServiceClient Projection => new(services.ProjectionChannel);
    private RegressionService.RegressionServiceClient Regression => new(services.RegressionChannel);

    private static ComputeIndexRequest SmallIndex() => BadInputTests.SmallIndex();

    private static ProjectExportsRequest SmallProjection() => BadInputTests.SmallProjection();

    private static FitRequest SmallFit() => BadFitInputTests.SmallFit();

    private Task<string> ExpectFit(StatusCode code, string field, FitRequest request) =>
        Rejection.ExpectFit(Regression, code, field, request);

    // ---------- Messages for values at the edge of double precision, names, changed models ----------
    [Theory]
    [InlineData(1e-308)]
    [InlineData(1e200)]
    public async Task FitRefusesDataTooFarFromOneToFitAccuratelyAndSaysRescale(double scale)
    {
        var r = SmallFit();
        foreach (var c in r.Columns)
            for (int i = 0; i < c.Values.Count; i++)
                c.Values[i] *= scale;
        var message = await ExpectFit(StatusCode.FailedPrecondition, "dependent", r);
        Assert.Contains("rescale", message);
        Assert.DoesNotContain("constant", message);
    }

    [Fact]
    public async Task ProjectionRefusesExportsTooLargeToComputeWith()
    {
        var r = SmallProjection();
        r.Series[1].Values[20] = 1e308;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[1].values[20]",
            () => Projection.ProjectExportsAsync(r).ResponseAsync
        );
        Assert.Contains("too large", message);
        Assert.DoesNotContain("NaN", message);
    }

    [Theory]
    [InlineData(1e308)]
    [InlineData(1.5)]
    public async Task IndexRefusesAShiftThatWouldDrownTheData(double shift)
    {
        var r = SmallIndex();
        r.Shift = shift;
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "shift",
            () => Indexing.ComputeIndexAsync(r).ResponseAsync
        );
        Assert.Contains("at most 1", message);
    }

    [Theory]
    [InlineData("\0")]
    [InlineData("\u202E")]
    [InlineData("\u2066")]
    public async Task NamesWithControlOrBidirectionalCharactersAreRefusedEverywhere(string bad)
    {
        string evil = "wu" + System.Text.RegularExpressions.Regex.Unescape(bad) + "han";
        var index = SmallIndex();
        index.UnitIds[2] = evil;
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "unit_ids[2]",
            () => Indexing.ComputeIndexAsync(index).ResponseAsync
        );
        index = SmallIndex();
        index.Indicators[1].Id = evil;
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "indicators[1].id",
            () => Indexing.ComputeIndexAsync(index).ResponseAsync
        );

        var projection = SmallProjection();
        projection.Series[0].CityId = evil;
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "series[0].city_id",
            () => Projection.ProjectExportsAsync(projection).ResponseAsync
        );

        var fit = SmallFit();
        fit.Columns[1].Name = evil;
        fit.Regressors[0] = evil;
        var message = await ExpectFit(StatusCode.InvalidArgument, "columns[1].name", fit);
        Assert.DoesNotContain(System.Text.RegularExpressions.Regex.Unescape(bad), message);
        fit = SmallFit();
        fit.RowIds[3] = evil;
        await ExpectFit(StatusCode.InvalidArgument, "row_ids[3]", fit);
    }

    [Fact]
    public async Task FitStreamRefusesALaterChunkThatChangesTheModel()
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
                    new Column { Name = "y", Values = { 1, 2, 4 } },
                    new Column { Name = "a", Values = { 1, 3, 2 } },
                },
            }
        );
        await call.RequestStream.WriteAsync(
            new FitRequest
            {
                Dependent = "a",
                Columns =
                {
                    new Column { Name = "y", Values = { 1 } },
                    new Column { Name = "a", Values = { 5 } },
                },
            }
        );
        await call.RequestStream.CompleteAsync();
        var message = await Rejection.Expect(StatusCode.InvalidArgument, "dependent", () => call.ResponseAsync);
        Assert.Contains("Chunk 2 changes the model", message);

        // The same model repeated in every chunk is fine.
        using var same = Regression.FitStream();
        for (int c = 0; c < 3; c++)
            await same.RequestStream.WriteAsync(
                new FitRequest
                {
                    Dependent = "y",
                    Regressors = { "a" },
                    CovarianceType = CovarianceType.Hc1,
                    Columns =
                    {
                        new Column { Name = "y", Values = { 1 + c, 2, 4 * c } },
                        new Column { Name = "a", Values = { 1, 3 + c, 2 } },
                    },
                }
            );
        await same.RequestStream.CompleteAsync();
        Assert.Equal(9, (await same.ResponseAsync).Model.NObs);
    }
}
