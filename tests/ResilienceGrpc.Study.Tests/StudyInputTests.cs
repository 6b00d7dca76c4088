using Grpc.Core;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study.Data;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The whole study's input is checked before any call: inline data whose lists disagree with
/// its cities, names with control or bidirectional characters, unknown enum values in the spec
/// and too many tables are refused naming the field, never INTERNAL, never "0 of 11 fitted".
/// </summary>
public class StudyInputTests(StudyStack stack) : IClassFixture<StudyStack>
{
    [Theory]
    [InlineData("short tiers", "data.tiers")]
    [InlineData("missing exports", "data.exports")]
    [InlineData("stranger's exports", "data.exports[0].city_id")]
    [InlineData("twice exported", "data.exports[1].city_id")]
    [InlineData("short attribute", "data.attributes[0].values")]
    [InlineData("short indicator", "data.indicators[4].values")]
    [InlineData("NUL in a city id", "data.city_ids[2]")]
    [InlineData("bidi override in a city id", "data.city_ids[2]")]
    [InlineData("city twice", "data.city_ids[5]")]
    [InlineData("short names", "data.city_names")]
    public async Task MalformedInlineDataIsRefusedNamingTheField(string what, string field)
    {
        var data = BundledData.Sample();
        switch (what)
        {
            case "short tiers":
                data.Tiers.RemoveAt(0);
                break;
            case "missing exports":
                data.Exports.RemoveAt(3);
                break;
            case "stranger's exports":
                data.Exports[0].CityId = "atlantis";
                break;
            case "twice exported":
                data.Exports[1].CityId = data.Exports[0].CityId;
                break;
            case "short attribute":
                data.Attributes[0].Values.RemoveAt(0);
                break;
            case "short indicator":
                data.Indicators[4].Values.RemoveAt(7);
                break;
            case "NUL in a city id":
                data.CityIds[2] = "wu\0han";
                break;
            case "bidi override in a city id":
                data.CityIds[2] = "wu\u202Ehan";
                break;
            case "city twice":
                data.CityIds[5] = data.CityIds[0];
                break;
            default:
                data.CityNames.RemoveAt(0);
                break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() => stack.RunAsync(new RunStudyRequest { Data = data }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations, v => v.Field == field);
        Assert.DoesNotContain("\0", e.Status.Detail);
        Assert.DoesNotContain("\u202E", e.Status.Detail);
    }

    [Theory]
    [InlineData("covariance", "spec.covariance_type")]
    [InlineData("weighting", "spec.weighting")]
    [InlineData("growth", "spec.growth_method")]
    [InlineData("alternative", "spec.alternative_weightings[0]")]
    [InlineData("table weighting", "spec.tables[0].regressions[0].weighting")]
    public async Task AnUnknownEnumInTheSpecIsRefusedNamingTheField(string what, string field)
    {
        var spec = new StudySpec();
        switch (what)
        {
            case "covariance":
                spec.CovarianceType = (CovarianceType)99;
                break;
            case "weighting":
                spec.Weighting = (WeightingMethod)7;
                break;
            case "growth":
                spec.GrowthMethod = (Contracts.Projection.V1.GrowthMethod)9;
                break;
            case "alternative":
                spec.AlternativeWeightings.Add((WeightingMethod)5);
                break;
            default:
                spec.Tables.Add(
                    new TableSpec
                    {
                        Id = "mine",
                        Regressions =
                        {
                            new RegressionSpec
                            {
                                Dependent = "ln_resexport",
                                Regressors = { "ln_rescity" },
                                Weighting = (WeightingMethod)8,
                            },
                        },
                    }
                );
                break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations, v => v.Field == field);
    }

    [Fact]
    public async Task TooManyTablesAreRefusedWithResourceExhaustedBeforeAnyCall()
    {
        var spec = new StudySpec();
        for (int t = 0; t <= StudyLimits.Default.MaxTables; t++)
            spec.Tables.Add(
                new TableSpec
                {
                    Id = $"t{t}",
                    Regressions =
                    {
                        new RegressionSpec { Dependent = "ln_resexport", Regressors = { "ln_rescity" } },
                    },
                }
            );
        int before = stack.RegressionCalls.Count;
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("101 tables", e.Status.Detail);
        Assert.Contains("(Limits:Study:MaxTables)", e.Status.Detail);
        Assert.Equal(before, stack.RegressionCalls.Count);
    }
}
