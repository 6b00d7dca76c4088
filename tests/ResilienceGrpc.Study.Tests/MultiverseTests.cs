using Grpc.Core;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Data;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The specification curve over separate servers: the grid it crosses, its baseline against
/// the baseline table, each specification rebuilt here from the services' own answers, the
/// per-specification bootstrap seeds, the summary recounted, and the refusals.
/// </summary>
public class MultiverseTests(StudyStack stack) : IClassFixture<StudyStack>
{
    private static readonly BootstrapOptions NoBootstrap = new() { Replications = 0 };

    [Fact]
    public async Task TheDefaultCurveCrossesEveryChoiceAndItsBaselineIsTheBaselineTableExactly()
    {
        var (progress, report) = await stack.RunAsync(
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec { Bootstrap = NoBootstrap },
            }
        );
        var m = report.Multiverse;
        Assert.NotNull(m);
        Assert.Equal("ln_rescity", m.Term);
        Assert.Equal("ln_resexport", m.Dependent);

        // 3 weightings × 2 scorings × 2 growth methods × 4 covariances × (all + 38 left out) = 1,872, each once.
        Assert.Equal(3 * 2 * 2 * 4 * 39, m.Specifications.Count);
        var grid = m
            .Specifications.Select(s =>
                (s.Weighting, s.WithinDimension, s.GrowthMethod, s.CovarianceType, s.DroppedCity)
            )
            .ToHashSet();
        Assert.Equal(m.Specifications.Count, grid.Count);
        Assert.Equal(m.Specifications.Count, m.Specifications.Select(s => s.Id).Distinct().Count());
        Assert.All(m.Specifications, s => Assert.Equal("", s.Error));
        Assert.All(m.Specifications, s => Assert.Equal(s.DroppedCity.Length == 0 ? 38 : 37, s.NObs));

        var baseline = Assert.Single(m.Specifications, s => s.Baseline);
        var table = report
            .Tables.Single(t => t.Id == "baseline")
            .Models[1]
            .Fit.Coefficients.Single(c => c.Term == "ln_rescity");
        Assert.Equal(table.Estimate, baseline.Estimate);
        Assert.Equal(table.StdError, baseline.StdError);
        Assert.Equal(table.CiLow, baseline.CiLow);
        Assert.Equal(table.PValue, baseline.PValue);
        Assert.Equal(table.Estimate, m.Summary.BaselineEstimate);
        (WeightingMethod, bool, GrowthMethod, CovarianceType, string) expected = (
            WeightingMethod.Entropy,
            false,
            GrowthMethod.Geometric,
            CovarianceType.Hc1,
            ""
        );
        Assert.Equal(
            expected,
            (
                baseline.Weighting,
                baseline.WithinDimension,
                baseline.GrowthMethod,
                baseline.CovarianceType,
                baseline.DroppedCity
            )
        );

        // The leave-one-out specifications under the baseline's choices span the baseline table's leave-one-out range.
        var loo = m
            .Specifications.Where(s =>
                s.Weighting == WeightingMethod.Entropy
                && !s.WithinDimension
                && s.GrowthMethod == GrowthMethod.Geometric
                && s.CovarianceType == CovarianceType.Hc1
                && s.DroppedCity.Length > 0
            )
            .Select(s => s.Estimate)
            .ToList();
        var model = report.Tables.Single(t => t.Id == "baseline").Models[1];
        Assert.Equal(model.LooMin, loo.Min(), 12);
        Assert.Equal(model.LooMax, loo.Max(), 12);

        // The summary, recounted here.
        var estimates = m.Specifications.Select(s => s.Estimate).Order().ToArray();
        Assert.Equal(m.Specifications.Count, m.Summary.Specifications);
        Assert.Equal((estimates[935] + estimates[936]) / 2, m.Summary.MedianEstimate);
        Assert.Equal(estimates[0], m.Summary.MinEstimate);
        Assert.Equal(estimates[^1], m.Summary.MaxEstimate);
        Assert.Equal(
            (double)m.Specifications.Count(s => s.PValue < 0.05) / estimates.Length,
            m.Summary.ShareSignificant
        );
        Assert.Equal((double)estimates.Count(e => e > 0) / estimates.Length, m.Summary.SharePaperSign);

        // Progress counted the curve's fits, with an estimate of the time left.
        var curve = progress.Where(p => p.Stage == "multiverse").ToList();
        Assert.NotEmpty(curve);
        Assert.All(curve, p => Assert.True(p.HasEtaSeconds && p.EtaSeconds >= 0));
        Assert.Equal(0, curve[^1].EtaSeconds);
        Assert.Equal(progress[^1].Total, progress[^1].Completed);
    }

    [Fact]
    public async Task EverySampledSpecificationIsTheFitItsChoicesDescribeRebuiltFromTheServices()
    {
        var (_, report) = await stack.RunAsync(
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec { Bootstrap = NoBootstrap },
            }
        );
        var data = BundledData.Sample();
        using var indexing = GrpcChannels.Create(stack.Indexing.Address);
        using var projection = GrpcChannels.Create(stack.Projection.Address);
        using var regression = GrpcChannels.Create(stack.Regression.Address);
        var random = new Random(20261128);
        var sample = report
            .Multiverse.Specifications.OrderBy(_ => random.Next())
            .Take(8)
            .Append(report.Multiverse.Specifications.First(s => s.WithinDimension))
            .ToList();
        double[] density = data.Attributes.Single(a => a.Name == "density").Values.ToArray();
        foreach (var s in sample)
        {
            var index = new ComputeIndexRequest
            {
                UnitIds = { data.CityIds },
                Indicators = { data.Indicators },
                Method = s.Weighting,
            };
            if (s.WithinDimension)
            {
                index.WithinDimension = true;
                index.CompositeRule = CompositeRule.DimensionMean;
            }
            var units = (await new IndexingService.IndexingServiceClient(indexing).ComputeIndexAsync(index)).Units;
            var cities = (
                await new ProjectionService.ProjectionServiceClient(projection).ProjectExportsAsync(
                    new ProjectExportsRequest
                    {
                        Series = { data.Exports },
                        Kind = data.ExportKind,
                        GrowthMethod = s.GrowthMethod,
                        BaseWindow = s.BaseWindow,
                    }
                )
            ).Cities;
            var keep = Enumerable.Range(0, data.CityIds.Count).Where(i => data.CityIds[i] != s.DroppedCity).ToList();
            var fit = new FitRequest
            {
                Dependent = "y",
                Regressors = { "r", "c" },
                CovarianceType = s.CovarianceType,
                Columns =
                {
                    new Column { Name = "y", Values = { keep.Select(i => Math.Log(cities[i].Ratio)) } },
                    new Column { Name = "r", Values = { keep.Select(i => Math.Log(units[i].Composite)) } },
                    new Column { Name = "c", Values = { keep.Select(i => Math.Log(density[i])) } },
                },
            };
            var direct = (await new RegressionService.RegressionServiceClient(regression).FitAsync(fit)).Coefficients[
                0
            ];
            Reference.Close(direct.Estimate, s.Estimate, 1e-12, $"{s.Id} estimate");
            Reference.Close(direct.StdError, s.StdError, 1e-12, $"{s.Id} std error");
            Reference.Close(direct.PValue, s.PValue, 1e-10, $"{s.Id} p-value");
        }
    }

    [Fact]
    public async Task AWrittenMultiverseCrossesItsChoicesAddsTheStudysOwnAndSeedsEachBootstrap()
    {
        var spec = new StudySpec
        {
            Bootstrap = new BootstrapOptions { Replications = 0, Seed = 77 },
            Multiverse = new MultiverseSpec
            {
                Weightings = { WeightingMethod.Equal },
                BaseWindows =
                {
                    new BaseWindow { StartYear = 2016, EndYear = 2019 },
                },
                CovarianceTypes = { CovarianceType.Hc3 },
                ControlSets = { new ControlSet() },
                DropOneCity = false,
                Bootstrap = 199,
            },
        };
        var (_, report) = await stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec });
        var m = report.Multiverse;
        // Each list gains the study's own choice: 2 weightings × 1 scoring × 1 growth × 2 windows × 2 covariances × 2 control sets.
        Assert.Equal(16, m.Specifications.Count);
        Assert.Contains(m.Specifications, s => s.Controls.Count == 0);
        Assert.Contains(m.Specifications, s => s.BaseWindow.StartYear == 2016);
        Assert.All(m.Specifications, s => Assert.Equal("", s.DroppedCity));
        Assert.Single(m.Specifications, s => s.Baseline);

        // Ids depend on the choices only: the baseline has the same id in the default curve.
        var (_, defaults) = await stack.RunAsync(
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec { Bootstrap = NoBootstrap },
            }
        );
        Assert.Equal(
            defaults.Multiverse.Specifications.Single(s => s.Baseline).Id,
            m.Specifications.Single(s => s.Baseline).Id
        );

        // Every specification has its own seed, derived from the study's seed and its id; a direct
        // Fit with that seed reproduces its bootstrap p-value.
        Assert.Equal(16, m.Specifications.Select(s => s.BootstrapSeed).Distinct().Count());
        Assert.All(m.Specifications, s => Assert.Equal(MultiversePlan.Seed(77, s.Id), s.BootstrapSeed));
        Assert.All(m.Specifications, s => Assert.True(s.HasBootstrapPValue));
        Assert.True(m.Summary.HasShareBootstrapSignificant);
        var baseline = m.Specifications.Single(s => s.Baseline);
        var fit = report.Tables.Single(t => t.Id == "baseline").Models[1];
        using var regression = GrpcChannels.Create(stack.Regression.Address);
        var variables = new FitRequest
        {
            Dependent = "ln_resexport",
            Regressors = { "ln_rescity", "ln_x" },
            CovarianceType = CovarianceType.Hc1,
        };
        var data = BundledData.Sample();
        variables.Columns.Add(
            new Column { Name = "ln_resexport", Values = { report.Cities.Select(c => Math.Log(c.Projection.Ratio)) } }
        );
        variables.Columns.Add(
            new Column { Name = "ln_rescity", Values = { report.Cities.Select(c => Math.Log(c.Rescity)) } }
        );
        variables.Columns.Add(
            new Column
            {
                Name = "ln_x",
                Values = { data.Attributes.Single(a => a.Name == "density").Values.Select(v => Math.Log(v)) },
            }
        );
        variables.Bootstrap = new BootstrapOptions { Replications = 199, Seed = baseline.BootstrapSeed };
        var direct = await new RegressionService.RegressionServiceClient(regression).FitAsync(variables);
        Assert.Equal(fit.Fit.Coefficients[0].Estimate, direct.Coefficients[0].Estimate);
        Assert.Equal(direct.Coefficients[0].BootstrapPValue, baseline.BootstrapPValue);
    }

    [Fact]
    public async Task ADisabledMultiverseComputesNoCurve()
    {
        var (_, report) = await stack.RunAsync(
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec
                {
                    Bootstrap = NoBootstrap,
                    Multiverse = new MultiverseSpec { Disabled = true },
                },
            }
        );
        Assert.Null(report.Multiverse);
        Assert.DoesNotContain(report.CacheEvents, e => e.Intermediate.Contains("within", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMultiverseOverTheLimitIsRefusedBeforeAnythingRunsNamingTheCount()
    {
        var spec = new StudySpec { Bootstrap = NoBootstrap, Multiverse = MultiversePlan.Default() };
        for (int y = 1950; y < 2000; y++)
            spec.Multiverse.BaseWindows.Add(new BaseWindow { StartYear = y, EndYear = 2019 });
        spec.Multiverse.CovarianceTypes.Add(CovarianceType.Classical);
        // 3 weightings × 2 scorings × 2 growth methods × 51 windows (the study's own added) × 5 covariances × 39 samples = 119,340.
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("119,340 specifications", e.Status.Detail);
        Assert.Contains("100,000", e.Status.Detail);
    }

    [Fact]
    public async Task ABootstrapOverTheWorkLimitIsRefusedBeforeAnythingRuns()
    {
        var spec = new StudySpec { Bootstrap = NoBootstrap, Multiverse = MultiversePlan.Default() };
        spec.Multiverse.Bootstrap = 20_000; // 1,872 specifications × 20,000 × 38 cities × 4 = 5.7e9 units
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("5,690,880,000", e.Status.Detail);
        Assert.Contains(
            e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations,
            v => v.Field == "spec.multiverse.bootstrap"
        );
    }

    [Fact]
    public void BatchesKeepTheirWorkUnderTheCallBudgetAndCoverThePlanInOrder()
    {
        var index = new IndexVariant(WeightingMethod.Entropy, false);
        var projection = new ProjectionVariant(GrowthMethod.Geometric, 2015, 2019);
        var plan = Enumerable
            .Range(0, 300)
            .Select(i => new PlannedSpecification(
                $"s{i}",
                i == 0,
                index,
                projection,
                CovarianceType.Hc1,
                i % 2 == 0 ? ["ln_x"] : [],
                "",
                1
            ))
            .ToList();
        foreach (var (replications, expectedMax) in new[] { (0, 128), (1_000_000, 2) })
        {
            var spec = new StudySpec { Multiverse = new MultiverseSpec { Bootstrap = replications } };
            var batches = MultiverseBatches.Plan(plan, spec, 38);
            Assert.Equal(Enumerable.Range(0, 300), batches.SelectMany(b => b.Members));
            Assert.All(batches, b => Assert.InRange(b.Members.Length, 1, expectedMax));
            Assert.All(
                batches,
                b =>
                    Assert.True(
                        b.Members.Sum(i =>
                            Math.Max(
                                MultiversePlan.BootstrapWork(replications, 38, plan[i].Controls.Count),
                                MultiversePlan.FitWork(38, plan[i].Controls.Count)
                            )
                        ) <= StudyLimits.Default.BatchWork
                    )
            );
        }
    }

    [Theory]
    [InlineData("weightings", "spec.multiverse.weightings[0]")]
    [InlineData("growth", "spec.multiverse.growth_methods[0]")]
    [InlineData("covariance", "spec.multiverse.covariance_types[0]")]
    [InlineData("window", "spec.multiverse.base_windows[0]")]
    [InlineData("control", "spec.multiverse.control_sets[0].variables[0]")]
    [InlineData("outcome", "spec.multiverse.control_sets[0].variables[0]")]
    [InlineData("bootstrap", "spec.multiverse.bootstrap")]
    [InlineData("twice", "spec.multiverse.control_sets[0].variables[1]")]
    [InlineData("product", "spec.multiverse.control_sets[0].variables[0]")]
    [InlineData("outside", "spec.multiverse.base_windows[0]")]
    public async Task ABadChoiceIsRefusedNamingItsField(string what, string field)
    {
        var m = new MultiverseSpec();
        switch (what)
        {
            case "weightings":
                m.Weightings.Add((WeightingMethod)99);
                break;
            case "growth":
                m.GrowthMethods.Add(GrowthMethod.Unspecified);
                break;
            case "covariance":
                m.CovarianceTypes.Add((CovarianceType)99);
                break;
            case "window":
                m.BaseWindows.Add(new BaseWindow { StartYear = 2019, EndYear = 2015 });
                break;
            case "control":
                m.ControlSets.Add(new ControlSet { Variables = { "nowhere" } });
                break;
            case "outcome":
                m.ControlSets.Add(new ControlSet { Variables = { "ln_resexport" } });
                break;
            case "twice":
                m.ControlSets.Add(new ControlSet { Variables = { "ln_x", "ln_x" } });
                break;
            case "product":
                m.ControlSets.Add(new ControlSet { Variables = { "ln_x*d_first" } });
                break;
            case "outside":
                m.BaseWindows.Add(new BaseWindow { StartYear = 2000, EndYear = 2005 });
                break; // the data start in 2015
            default:
                m.Bootstrap = -1;
                break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(
                new RunStudyRequest
                {
                    Dataset = "sample",
                    Spec = new StudySpec { Multiverse = m },
                }
            )
        );
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var bad = e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>();
        Assert.Contains(bad.FieldViolations, v => v.Field == field);
    }

    [Theory]
    [InlineData(2000, 2005, 2000)]
    [InlineData(2016, 2021, 2022)]
    [InlineData(2015, 9999, 2022)]
    public async Task AStudyWindowTheExportsDoNotReachIsRefusedNamingItBeforeAnyCall(int start, int end, int missing)
    {
        // The years the sample's exports cover, read here from the data themselves.
        var years = BundledData
            .Sample()
            .Exports.SelectMany(s => s.Periods)
            .Select(p => int.Parse(p[..4], System.Globalization.CultureInfo.InvariantCulture))
            .ToHashSet();
        Assert.DoesNotContain(missing, years);
        int indexing = stack.IndexingCalls.Count,
            projection = stack.ProjectionCalls.Count;
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(
                new RunStudyRequest
                {
                    Dataset = "sample",
                    Spec = new StudySpec { BaseWindow = new BaseWindow { StartYear = start, EndYear = end } },
                }
            )
        );
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var bad = e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>();
        var violation = Assert.Single(bad.FieldViolations);
        Assert.Equal("spec.base_window", violation.Field);
        Assert.Contains($"none for {missing}", e.Status.Detail);
        Assert.Contains($"they cover {years.Min()}-{years.Max()}", e.Status.Detail);
        Assert.Equal(indexing, stack.IndexingCalls.Count);
        Assert.Equal(projection, stack.ProjectionCalls.Count);
    }

    [Fact]
    public async Task WhenTheStudysOwnProjectionIsRefusedItsRefusalIsReportedNotTheCurves()
    {
        // One city lacks a base-year month: the study's projection and the curve's other growth
        // method are refused alike; the answer must not blame the curve, whichever came back first.
        var data = BundledData.Sample();
        var series = data.Exports[0];
        int at = series.Periods.IndexOf("2017-03");
        Assert.True(at >= 0);
        series.Periods.RemoveAt(at);
        series.Values.RemoveAt(at);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                stack.RunAsync(
                    new RunStudyRequest
                    {
                        Data = data,
                        Spec = new StudySpec
                        {
                            Bootstrap = NoBootstrap,
                            LeaveOneOut = false,
                            Multiverse = new MultiverseSpec
                            {
                                GrowthMethods = { GrowthMethod.Arithmetic },
                                DropOneCity = false,
                            },
                        },
                    }
                )
            );
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("2017-03", e.Status.Detail);
            Assert.DoesNotContain("specification curve", e.Status.Detail);
            var bad = e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>();
            Assert.DoesNotContain(bad.FieldViolations, v => v.Field.StartsWith("spec.multiverse", StringComparison.Ordinal));
        }
    }
}
