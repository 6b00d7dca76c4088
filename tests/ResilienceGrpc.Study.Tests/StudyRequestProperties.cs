using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Grpc.Core;
using Grpc.Health.V1;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study.Data;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// A property-based hostile client of RunStudy: a small valid study (inline data, no curve, no
/// bootstrap) broken by several random mutations of the spec and the data. Whatever they are,
/// the study answers OK or INVALID_ARGUMENT, FAILED_PRECONDITION or RESOURCE_EXHAUSTED, never
/// UNKNOWN or INTERNAL, with no .NET text, within its deadline, and the server stays SERVING.
/// </summary>
public class StudyRequestProperties(StudyStack stack) : IClassFixture<StudyStack>
{
    private static readonly string[] Texts =
    [
        "",
        " ",
        "\0",
        "a\u202Eb",
        "ln_x*ln_x",
        "ln_resexport",
        "ln_rescity",
        "ln_x",
        "nowhere",
        "first",
        new string('n', 300),
    ];

    private static RunStudyRequest Valid() =>
        new()
        {
            Data = BundledData.Sample(),
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0 },
                Multiverse = new MultiverseSpec { Disabled = true },
            },
        };

    private static void Mutate(RunStudyRequest r, int kind, int v)
    {
        var spec = r.Spec;
        var data = r.Data;
        switch (kind)
        {
            case 0:
                spec.Weighting = (WeightingMethod)(v % 6 - 1);
                break;
            case 1:
                spec.GrowthMethod = (GrowthMethod)(v % 5 - 1);
                break;
            case 2:
                spec.CovarianceType = (CovarianceType)(v % 8 - 1);
                break;
            case 3:
                spec.BaseWindow = new BaseWindow { StartYear = 2010 + v % 12, EndYear = 2012 + v / 7 % 12 };
                break;
            case 4:
                spec.Controls.Add(Texts[v % Texts.Length]);
                break;
            case 5:
                spec.Outcome = Texts[v % Texts.Length];
                break;
            case 6:
                spec.Tables.Add(
                    new TableSpec
                    {
                        Id = Texts[v % Texts.Length],
                        Regressions =
                        {
                            new RegressionSpec
                            {
                                Dependent = Texts[v / 3 % Texts.Length],
                                Regressors = { Texts[v / 7 % Texts.Length] },
                                Weighting = (WeightingMethod)(v % 5),
                            },
                        },
                    }
                );
                break;
            case 7:
                spec.TierOverrides.Add(
                    new TierAssignment { CityId = Texts[v % Texts.Length], Tier = Texts[v / 5 % Texts.Length] }
                );
                break;
            case 8:
                spec.Shift = new[] { 0.0, -1, 1e-308, 0.01, 2, double.NaN, 1e308 }[v % 7];
                break;
            case 9:
                spec.JanuaryShare = new[] { 0.0, -0.5, 0.3, 1, 1.5, double.NaN }[v % 6];
                break;
            case 10:
                spec.Multiverse = new MultiverseSpec
                {
                    Weightings = { (WeightingMethod)(v % 5) },
                    ControlSets = { new ControlSet { Variables = { Texts[v % Texts.Length] } } },
                    DropOneCity = false,
                    Bootstrap = v % 3 == 0 ? -1 : 0,
                };
                break;
            case 11:
                if (data.Tiers.Count > 0)
                    data.Tiers.RemoveAt(v % data.Tiers.Count);
                break;
            case 12:
                data.CityIds[v % data.CityIds.Count] = Texts[v % Texts.Length];
                break;
            case 13:
                if (data.Exports.Count > 0)
                    data.Exports.RemoveAt(v % data.Exports.Count);
                break;
            case 14:
                {
                    var indicator = data.Indicators[v % data.Indicators.Count];
                    indicator.Values[v % indicator.Values.Count] = new[] { double.NaN, double.PositiveInfinity, -1e308, 0 }[
                        v % 4
                    ];
                    break;
                }
            case 15:
                data.Indicators[v % data.Indicators.Count].Direction = (Direction)(v % 4 - 1);
                break;
            case 16:
                data.ExportKind = (SeriesKind)(v % 4 - 1);
                break;
            default:
                if (data.Attributes.Count > 0)
                    data.Attributes[v % data.Attributes.Count].Values.Add(v);
                break;
        }
    }

    [Property(MaxTest = 60)]
    public Property RunStudyAnswersEveryMalformedRequestWithAClearStatus() =>
        Prop.ForAll(
            Gen.ArrayOf(Gen.Choose(0, 17_999), 3).ToArbitrary(),
            mutations =>
            {
                var request = Valid();
                foreach (int m in mutations)
                    Mutate(request, m / 1000, m % 1000);
                try
                {
                    // A guard against a hung study, far above any answer's time; no timing is asserted.
                    StudyStream
                        .RunAsync(stack.StudyChannel, request, timeout: TimeSpan.FromMinutes(2))
                        .GetAwaiter()
                        .GetResult();
                }
                catch (RpcException e) when (ClearStatus.Is(e)) { }
                var health = new Health.HealthClient(stack.StudyChannel).Check(
                    new HealthCheckRequest(),
                    deadline: DateTime.UtcNow.AddSeconds(30)
                );
                return health.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            }
        );
}
