using Grpc.Core;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// FitBatch over HTTP/2: every model is what Fit gives for it (the same bits), each also
/// against the statsmodels reference; a left-out row is the fit without that row; one bad
/// model gets its own error; a malformed or oversized batch is refused before any fit.
/// </summary>
public class FitBatchTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    private RegressionService.RegressionServiceClient Client => new(services.RegressionChannel);

    private static readonly CovarianceType[] Types =
    [
        CovarianceType.Classical,
        CovarianceType.Hc0,
        CovarianceType.Hc1,
        CovarianceType.Hc2,
        CovarianceType.Hc3,
    ];

    /// <summary>city38 as a batch: its columns, the cities as row ids.</summary>
    private static FitBatchRequest City38()
    {
        var (_, rows) = Reference.Csv("city38.csv");
        var request = new FitBatchRequest { RowIds = { rows.Select(r => r[0]) } };
        foreach (var name in new[] { "ln_resexport", "ln_rescity", "ln_x" })
            request.Columns.Add(new Column { Name = name, Values = { Reference.Column("city38.csv", name) } });
        return request;
    }

    private static BatchModel Model(CovarianceType type, params string[] excluded) =>
        new()
        {
            Dependent = "ln_resexport",
            Regressors = { "ln_rescity", "ln_x" },
            CovarianceType = type,
            ExcludedRowIds = { excluded },
        };

    [Fact]
    public async Task EachModelIsExactlyWhatFitGivesAndMatchesStatsmodels()
    {
        var batch = City38();
        batch.Models.AddRange(Types.Select(t => Model(t)));
        var response = await Client.FitBatchAsync(batch);
        Assert.Equal(Types.Length, response.Results.Count);
        var json = Reference.Json("city38");
        for (int i = 0; i < Types.Length; i++)
        {
            Assert.Equal(BatchResult.OutcomeOneofCase.Fit, response.Results[i].OutcomeCase);
            var request = Requests.Fit("city38", Types[i]);
            request.RowIds.AddRange(batch.RowIds);
            var single = await Client.FitAsync(request);
            Assert.Equal(single, response.Results[i].Fit); // every field, every bit
            Requests.AssertMatches(
                json,
                Requests.Vce(Types[i]),
                response.Results[i].Fit.Coefficients.Select(c => (c.Term, c.Estimate, c.StdError, c.TValue, c.PValue))
            );
        }
    }

    [Fact]
    public async Task ALeftOutRowIsTheFitWithoutThatRowAndAgreesWithTheInfluenceOfTheFullFit()
    {
        var batch = City38();
        var ids = batch.RowIds.ToList();
        var full = Requests.Fit("city38", CovarianceType.Hc1);
        full.Influence = true;
        full.RowIds.AddRange(ids);
        var fullFit = await Client.FitAsync(full);
        var influence = fullFit.Influence.ToDictionary(r => r.RowId);
        // Rows the full fit used (city38 has missing values in three rows): first, middle and last of them.
        var used = fullFit.Influence.Select(r => r.RowId).ToList();
        string[] left = [used[0], used[used.Count / 2], used[^1]];
        batch.Models.AddRange(left.Select(id => Model(CovarianceType.Hc1, id)));
        var response = await Client.FitBatchAsync(batch);

        for (int m = 0; m < left.Length; m++)
        {
            int row = ids.IndexOf(left[m]);
            var without = Requests.Fit("city38", CovarianceType.Hc1);
            foreach (var c in without.Columns)
                c.Values.RemoveAt(row);
            var expected = await Client.FitAsync(without);
            var got = response.Results[m].Fit;
            Assert.Equal(fullFit.Model.NObs - 1, got.Model.NObs);
            Assert.Equal(expected.Coefficients, got.Coefficients);
            Assert.Equal(expected.Model, got.Model);
            // The influence of the full fit (a rank-one downdate, another algorithm) agrees.
            for (int j = 0; j < got.Coefficients.Count; j++)
                Reference.Close(
                    influence[left[m]].EstimatesWithout[j],
                    got.Coefficients[j].Estimate,
                    1e-10,
                    $"{left[m]} coefficient {j}"
                );
        }
    }

    [Fact]
    public async Task AModelThatCannotBeFittedGetsItsOwnErrorAndTheOthersAreFitted()
    {
        var batch = City38();
        batch.Columns.Add(new Column { Name = "twice", Values = { batch.Columns[1].Values.Select(v => 2 * v) } });
        batch.Models.Add(Model(CovarianceType.Hc1));
        batch.Models.Add(
            new BatchModel
            {
                Dependent = "ln_resexport",
                Regressors = { "ln_rescity", "twice" },
                CovarianceType = CovarianceType.Hc1,
            }
        );
        batch.Models.Add(
            new BatchModel
            {
                Dependent = "ln_resexport",
                Regressors = { "nowhere" },
                CovarianceType = CovarianceType.Hc1,
            }
        );
        var response = await Client.FitBatchAsync(batch);
        Assert.Equal(BatchResult.OutcomeOneofCase.Fit, response.Results[0].OutcomeCase);
        var collinear = response.Results[1].Error;
        Assert.Equal((int)StatusCode.FailedPrecondition, collinear.Code);
        Assert.Contains("twice", collinear.Message);
        var unknown = response.Results[2].Error;
        Assert.Equal((int)StatusCode.InvalidArgument, unknown.Code);
        Assert.Contains("nowhere", unknown.Message);
    }

    [Fact]
    public async Task AMalformedBatchIsRefusedNamingTheModelAndField()
    {
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "models",
            () => Client.FitBatchAsync(City38()).ResponseAsync
        );

        var unset = City38();
        unset.Models.Add(Model(CovarianceType.Hc1));
        unset.Models.Add(Model(CovarianceType.Unspecified));
        var message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "models[1].covariance_type",
            () => Client.FitBatchAsync(unset).ResponseAsync
        );
        Assert.StartsWith("Model 2:", message);

        var stranger = City38();
        stranger.Models.Add(Model(CovarianceType.Hc1, "Atlantis"));
        message = await Rejection.Expect(
            StatusCode.InvalidArgument,
            "models[0].excluded_row_ids[0]",
            () => Client.FitBatchAsync(stranger).ResponseAsync
        );
        Assert.Contains("Atlantis", message);

        var noIds = City38();
        noIds.RowIds.Clear();
        noIds.Models.Add(Model(CovarianceType.Hc1, "City01"));
        await Rejection.Expect(
            StatusCode.InvalidArgument,
            "models[0].excluded_row_ids",
            () => Client.FitBatchAsync(noIds).ResponseAsync
        );
    }

    [Fact]
    public async Task ABatchOverALimitIsRefusedWithResourceExhaustedNamingTheLimit()
    {
        var many = City38();
        many.Models.AddRange(
            Enumerable.Range(0, new RegressionLimits().MaxBatchModels + 1).Select(_ => Model(CovarianceType.Hc1))
        );
        var message = await Rejection.Expect(
            StatusCode.ResourceExhausted,
            "models",
            () => Client.FitBatchAsync(many).ResponseAsync
        );
        Assert.Contains($"{new RegressionLimits().MaxBatchModels:N0}", message);
        Assert.Contains("Limits:Regression:MaxBatchModels", message);

        // 38 rows × 4 × 1,000,000 replications × 30 models is over the bootstrap budget.
        var heavy = City38();
        heavy.Models.AddRange(
            Enumerable
                .Range(0, 30)
                .Select(i =>
                {
                    var m = Model(CovarianceType.Hc1);
                    m.Bootstrap = new BootstrapOptions { Replications = 1_000_000, Seed = (ulong)i };
                    return m;
                })
        );
        message = await Rejection.Expect(
            StatusCode.ResourceExhausted,
            "models",
            () => Client.FitBatchAsync(heavy).ResponseAsync
        );
        Assert.Contains("Limits:Regression:MaxBootstrapWork", message);
    }
}
