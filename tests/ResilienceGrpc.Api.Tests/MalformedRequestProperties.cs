using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Grpc.Core;
using Grpc.Health.V1;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// Property-based hostile clients: well-formed requests broken by several random mutations
/// (bad numbers, odd names, wrong lengths, unknown enums, out-of-range options). Whatever
/// the mutations, each service answers OK or INVALID_ARGUMENT, FAILED_PRECONDITION or
/// RESOURCE_EXHAUSTED, never UNKNOWN or INTERNAL, and stays SERVING.
/// </summary>
public class MalformedRequestProperties(ServiceStack services) : IClassFixture<ServiceStack>
{
    private static readonly double[] Numbers =
    [
        double.NaN,
        double.PositiveInfinity,
        double.NegativeInfinity,
        0,
        -0.0,
        -1,
        1e-320,
        1e-308,
        1e300,
        1e308,
        double.MaxValue,
        3.5,
    ];

    private static readonly string[] Texts =
    [
        "",
        " ",
        "\0",
        "a\u202Eb",
        "x*y",
        "_cons",
        "y",
        "a",
        "\uFFFF",
        new string('n', 300),
        "2020-13",
        "2019",
        "0000-00",
    ];

    private bool Outcome(Func<Task> call)
    {
        try
        {
            call().GetAwaiter().GetResult();
        }
        catch (RpcException e) when (ClearStatus.Is(e)) { }
        // Anything else (UNKNOWN, INTERNAL, a stack trace) fails the property.
        return true;
    }

    /// <summary>A guard against a hung call, far above any answer's time; no timing is asserted.</summary>
    private static CallOptions Deadline() => new(deadline: DateTime.UtcNow.AddMinutes(2));

    private static Gen<int[]> Mutations(int kinds) =>
        Gen.ArrayOf(Gen.Choose(0, 10_000), 3).Select(a => a.Select(x => x % (kinds * 1000)).ToArray());

    [Property(MaxTest = 150)]
    public Property FitAnswersEveryMalformedRequestWithAClearStatus() =>
        Prop.ForAll(
            Mutations(12).ToArbitrary(),
            mutations =>
            {
                var r = BadFitInputTests.SmallFit();
                foreach (int m in mutations)
                {
                    int kind = m / 1000,
                        v = m % 1000;
                    switch (kind)
                    {
                        case 0:
                            r.Columns[v % r.Columns.Count].Values[v % 8 % r.Columns[v % r.Columns.Count].Values.Count] =
                                Numbers[v % Numbers.Length];
                            break;
                        case 1:
                            r.Columns[v % r.Columns.Count].Name = Texts[v % Texts.Length];
                            break;
                        case 2:
                            if (r.Columns[v % r.Columns.Count].Values.Count > 0)
                                r.Columns[v % r.Columns.Count].Values.RemoveAt(0);
                            break;
                        case 3:
                            r.RowIds[v % r.RowIds.Count] = Texts[v % Texts.Length];
                            break;
                        case 4:
                            r.CovarianceType = (CovarianceType)(v % 9 - 1);
                            break;
                        case 5:
                            r.Bootstrap = new BootstrapOptions
                            {
                                Replications = (v % 7) switch
                                {
                                    0 => -1,
                                    1 => 2_000_000,
                                    2 => 999,
                                    _ => v,
                                },
                                Seed = (ulong)v,
                            };
                            break;
                        case 6:
                            r.Tolerance = Numbers[v % Numbers.Length];
                            break;
                        case 7:
                            r.Regressors.Add(Texts[v % Texts.Length]);
                            break;
                        case 8:
                            r.Dependent = Texts[v % Texts.Length];
                            break;
                        case 9:
                            r.NoIntercept = !r.NoIntercept;
                            r.Influence = v % 2 == 0;
                            break;
                        case 10:
                            if (r.Regressors.Count > 0)
                                r.Regressors.RemoveAt(0);
                            break;
                        default:
                            r.RowIds.Clear();
                            break;
                    }
                }
                var client = new RegressionService.RegressionServiceClient(services.RegressionChannel);
                return Outcome(() => client.FitAsync(r, Deadline()).ResponseAsync)
                    && Outcome(() =>
                        client
                            .FitBatchAsync(
                                new FitBatchRequest
                                {
                                    RowIds = { r.RowIds },
                                    Columns = { r.Columns },
                                    Models =
                                    {
                                        new BatchModel
                                        {
                                            Dependent = r.Dependent,
                                            Regressors = { r.Regressors },
                                            CovarianceType = r.CovarianceType,
                                            ExcludedRowIds = { r.RowIds.Take(1) },
                                        },
                                    },
                                },
                                Deadline()
                            )
                            .ResponseAsync
                    );
            }
        );

    [Property(MaxTest = 150)]
    public Property ComputeIndexAnswersEveryMalformedRequestWithAClearStatus() =>
        Prop.ForAll(
            Mutations(9).ToArbitrary(),
            mutations =>
            {
                var r = BadInputTests.SmallIndex();
                foreach (int m in mutations)
                {
                    int kind = m / 1000,
                        v = m % 1000;
                    var ind = r.Indicators[v % r.Indicators.Count];
                    switch (kind)
                    {
                        case 0:
                            ind.Values[v % ind.Values.Count] = Numbers[v % Numbers.Length];
                            break;
                        case 1:
                            ind.Id = Texts[v % Texts.Length];
                            break;
                        case 2:
                            ind.Dimension = Texts[v % Texts.Length];
                            break;
                        case 3:
                            ind.Direction = (Direction)(v % 5 - 1);
                            break;
                        case 4:
                            r.Method = (WeightingMethod)(v % 6 - 1);
                            break;
                        case 5:
                            r.Shift = Numbers[v % Numbers.Length];
                            break;
                        case 6:
                            r.UnitIds[v % r.UnitIds.Count] = Texts[v % Texts.Length];
                            break;
                        case 7:
                            if (ind.Values.Count > 0)
                                ind.Values.RemoveAt(0);
                            break;
                        default:
                            r.CompositeRule = (CompositeRule)(v % 5 - 1);
                            r.WithinDimension = v % 2 == 0;
                            break;
                    }
                }
                var client = new IndexingService.IndexingServiceClient(services.IndexingChannel);
                return Outcome(() => client.ComputeIndexAsync(r, Deadline()).ResponseAsync);
            }
        );

    [Property(MaxTest = 150)]
    public Property ProjectExportsAnswersEveryMalformedRequestWithAClearStatus() =>
        Prop.ForAll(
            Mutations(8).ToArbitrary(),
            mutations =>
            {
                var r = BadInputTests.SmallProjection();
                foreach (int m in mutations)
                {
                    int kind = m / 1000,
                        v = m % 1000;
                    var s = r.Series[v % r.Series.Count];
                    switch (kind)
                    {
                        case 0:
                            s.Values[v % s.Values.Count] = Numbers[v % Numbers.Length];
                            break;
                        case 1:
                            s.Periods[v % s.Periods.Count] = Texts[v % Texts.Length];
                            break;
                        case 2:
                            s.CityId = Texts[v % Texts.Length];
                            break;
                        case 3:
                            r.Kind = (SeriesKind)(v % 7 - 1);
                            break;
                        case 4:
                            r.GrowthMethod = (GrowthMethod)(v % 5 - 1);
                            break;
                        case 5:
                            r.BaseWindow = new BaseWindow { StartYear = 2000 + v % 30, EndYear = 2000 + (v / 30) % 30 };
                            break;
                        case 6:
                            r.JanuaryShare = Numbers[v % Numbers.Length];
                            break;
                        default:
                            if (s.Values.Count > 0)
                                s.Values.RemoveAt(v % s.Values.Count);
                            break;
                    }
                }
                var client = new ProjectionService.ProjectionServiceClient(services.ProjectionChannel);
                return Outcome(() => client.ProjectExportsAsync(r, Deadline()).ResponseAsync);
            }
        );

    [Fact]
    public async Task AfterTheHostileClientsEveryServiceIsStillServing()
    {
        foreach (
            var channel in new[] { services.IndexingChannel, services.ProjectionChannel, services.RegressionChannel }
        )
            Assert.Equal(
                HealthCheckResponse.Types.ServingStatus.Serving,
                (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status
            );
    }
}
