using System.Security.Cryptography;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Sample;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Data;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>The default study end to end over separate servers, and what its report must hold.</summary>
public class StudyTests(StudyStack stack) : IClassFixture<StudyStack>
{
    public static readonly string[] StableIds =
    [
        "weights",
        "baseline",
        "robustness_growth",
        "robustness_recovery",
        "heterogeneity",
        "mechanism_economy",
        "mechanism_ecology",
        "mechanism_infrastructure",
        "mechanism_society",
    ];

    [Fact]
    public async Task TheDefaultStudyRunsEndToEndOverSeparateServers()
    {
        var (progress, report) = await stack.RunAsync(new RunStudyRequest { Dataset = "sample" });

        foreach (var id in StableIds)
            Assert.Contains(report.Tables, t => t.Id == id);
        Assert.Contains(report.Tables, t => t.Id == "robustness_weighting" && t.Models.Count == 3);

        // Table 1: all four dimension weights, summing with the indicator weights to 1.
        var weights = report.Tables.Single(t => t.Id == "weights").Weights;
        Assert.Equal(4, weights.Dimensions.Count);
        Assert.Equal(20, weights.Indicators.Count);
        Assert.Equal(1.0, weights.Dimensions.Sum(d => d.Weight), 12);

        // Every model fitted, with bootstrap p-values and a leave-one-city-out range around its estimate.
        foreach (var m in report.Tables.SelectMany(t => t.Models))
        {
            Assert.Equal("", m.Error);
            Assert.Equal(CovarianceType.Hc1, m.Fit.Model.CovarianceType);
            Assert.Equal(9999, m.Fit.Bootstrap.Replications);
            Assert.All(m.Fit.Coefficients.Where(c => c.Term != "_cons"), c => Assert.True(c.HasBootstrapPValue));
            Assert.True(
                m.HasLooMin && m.LooMin <= m.Fit.Coefficients[0].Estimate && m.Fit.Coefficients[0].Estimate <= m.LooMax
            );
        }

        // The recovery regression drops exactly the censored cities.
        int censored = report.Cities.Count(c =>
            c.Projection.Recovery.Status == Contracts.Projection.V1.RecoveryStatus.Censored
        );
        Assert.True(censored >= 1, "the sample is built to have a censored city");
        Assert.True(
            report.Cities.Count(c => c.Projection.Recovery.Status == Contracts.Projection.V1.RecoveryStatus.NoDip) >= 1,
            "and a city that never dips"
        );
        Assert.Equal(38 - censored, report.Tables.Single(t => t.Id == "robustness_recovery").Models[0].Fit.Model.NObs);

        // Progress came in order and ended complete.
        Assert.NotEmpty(progress);
        Assert.Equal(progress.Select(p => p.Completed).Order(), progress.Select(p => p.Completed));
        Assert.Equal(progress[^1].Total, progress[^1].Completed);

        // Labelled synthetic, with the inputs' hashes.
        Assert.True(report.Synthetic);
        Assert.Contains(report.Warnings, w => w.StartsWith("SYNTHETIC DATA", StringComparison.Ordinal));
        foreach (
            var (name, bytes) in BundledSample.Files().Where(f => f.Key.EndsWith(".csv", StringComparison.Ordinal))
        )
            Assert.Equal(
                Convert.ToHexStringLower(SHA256.HashData(bytes)),
                report.Manifest.Inputs.Single(i => i.Name == name).Sha256
            );
        Assert.Equal(StudyRunner.SoftwareVersion, report.Manifest.SoftwareVersion);
    }

    [Fact]
    public async Task TheBaselineIsTheRegressionOfTheReportedIntermediates()
    {
        var (_, report) = await stack.RunAsync(new RunStudyRequest { Dataset = "sample" });
        var data = BundledData.Sample();
        var density = data.Attributes.Single(a => a.Name == "density").Values;
        var request = new FitRequest
        {
            Dependent = "y",
            Regressors = { "a", "b" },
            CovarianceType = CovarianceType.Hc1,
            Columns =
            {
                new Column { Name = "y", Values = { report.Cities.Select(c => Math.Log(c.Projection.Ratio)) } },
                new Column { Name = "a", Values = { report.Cities.Select(c => Math.Log(c.Rescity)) } },
                new Column { Name = "b", Values = { density.Select(v => Math.Log(v)) } },
            },
        };
        using var channel = GrpcChannels.Create(stack.Regression.Address);
        var direct = await new RegressionService.RegressionServiceClient(channel).FitAsync(request);
        var baseline = report
            .Tables.Single(t => t.Id == "baseline")
            .Models.Single(m => m.Spec.Regressors.Count == 2)
            .Fit;
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(direct.Coefficients[j].Estimate, baseline.Coefficients[j].Estimate, 12);
            Assert.Equal(direct.Coefficients[j].StdError, baseline.Coefficients[j].StdError, 12);
        }
    }

    /// <summary>
    /// The sample is generated from a stated structural model (Sample/data/model.json). Run
    /// through the study as a table of its own, the export-resilience equation's 95%
    /// intervals must contain every true parameter.
    /// </summary>
    [Fact]
    public async Task TheStudyRecoversTheSamplesStructuralParameters()
    {
        var model = JsonDocument.Parse(BundledSample.Files()["model.json"]).RootElement;
        var truth = new Dictionary<string, double>
        {
            ["_cons"] = model.GetProperty("intercept").GetDouble(),
            ["ln_x"] = model.GetProperty("density_effect").GetDouble(),
            ["ln_rescity*d_first"] = model.GetProperty("first_tier_index_effect").GetDouble(),
        };
        foreach (var d in model.GetProperty("dimension_effects").EnumerateObject())
            truth["ln_res_" + d.Name] = d.Value.GetDouble();

        var spec = new StudySpec
        {
            Tables =
            {
                new TableSpec
                {
                    Id = "structural",
                    Title = "The sample's structural equation",
                    Regressions =
                    {
                        new RegressionSpec
                        {
                            Label = "(1)",
                            Dependent = "ln_resexport",
                            Regressors = { truth.Keys.Where(k => k != "_cons") },
                        },
                    },
                },
            },
            Bootstrap = new BootstrapOptions { Replications = 0 },
        };
        var (_, report) = await stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec });
        var fit = report.Tables.Single(t => t.Id == "structural").Models.Single().Fit;
        Assert.Equal(truth.Count, fit.Coefficients.Count);
        foreach (var c in fit.Coefficients)
            Assert.True(
                c.CiLow <= truth[c.Term] && truth[c.Term] <= c.CiHigh,
                $"{c.Term}: true {truth[c.Term]} outside [{c.CiLow}, {c.CiHigh}]"
            );
    }

    [Fact]
    public async Task AUserSpecChangesCovarianceControlsAndBootstrap()
    {
        var spec = new StudySpec
        {
            CovarianceType = CovarianceType.Hc3,
            Controls = { "ln_density" },
            Bootstrap = new BootstrapOptions { Replications = 199, Seed = 3 },
            LeaveOneOut = false,
            Tables =
            {
                new TableSpec { Id = "baseline" },
                new TableSpec { Id = "mechanism_economy" },
            },
        };
        var (_, report) = await stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec });
        Assert.Equal(["weights", "baseline", "mechanism_economy"], report.Tables.Select(t => t.Id));
        var m = report.Tables[1].Models[1];
        Assert.Equal(CovarianceType.Hc3, m.Fit.Model.CovarianceType);
        Assert.Contains(m.Fit.Coefficients, c => c.Term == "ln_density");
        Assert.Equal(199, m.Fit.Bootstrap.Replications);
        Assert.False(m.HasLooMin);
    }

    [Theory]
    [InlineData("{\"tables\":[{\"id\":\"baseline\"},{\"id\":\"table_9\"}]}", "spec.tables[1].id", "table_9")]
    [InlineData(
        "{\"tables\":[{\"id\":\"mine\",\"regressions\":[{\"dependent\":\"ln_resexport\",\"regressors\":[\"gdp\"]}]}]}",
        "spec.tables[0].regressions[0].regressors[0]",
        "gdp"
    )]
    [InlineData("{\"controls\":[\"ln_rainfall\"]}", "spec.controls[0]", "ln_rainfall")]
    [InlineData(
        "{\"tierOverrides\":[{\"cityId\":\"atlantis\",\"tier\":\"first\"}]}",
        "spec.tier_overrides[0].city_id",
        "atlantis"
    )]
    [InlineData("{\"bootstrap\":{\"replications\":-1}}", "spec.bootstrap.replications", "-1")]
    public async Task AnInvalidSpecGetsFieldViolations(string json, string field, string named)
    {
        var spec = Google.Protobuf.JsonParser.Default.Parse<StudySpec>(json);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var bad = e.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.Contains(bad.FieldViolations, v => v.Field == field);
        Assert.Contains(named, e.Status.Detail);
    }

    [Fact]
    public async Task AnUnknownBundledDataSetIsNamed()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => stack.RunAsync(new RunStudyRequest { Dataset = "paper" }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("'paper'", e.Status.Detail);
    }

    [Fact]
    public async Task BadDataFromAClientComeBackFromTheServiceThatRejectedThem()
    {
        var data = BundledData.Sample();
        data.Indicators[3].Values[5] = double.NaN;
        var e = await Assert.ThrowsAsync<RpcException>(() => stack.RunAsync(new RunStudyRequest { Data = data }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(data.Indicators[3].Id, e.Status.Detail);
        Assert.Contains(data.CityIds[5], e.Status.Detail);
    }

    [Fact]
    public async Task AStudyWithAServiceDownFailsFastNamingIt()
    {
        await using var lonely = await ServiceDefaults.ServiceHosting.StartAsync(
            [
                StudyGrpcService.Module(
                    new StudyEndpoints(stack.Indexing.Address, stack.Projection.Address, new Uri("http://127.0.0.1:1"))
                ),
            ],
            new ServiceDefaults.HostOptions(Quiet: true)
        );
        using var channel = GrpcChannels.Create(lonely.Address);
        int indexing = stack.IndexingCalls.Count,
            projection = stack.ProjectionCalls.Count;
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            StudyStream.RunAsync(channel, new RunStudyRequest { Dataset = "sample" })
        );
        // Failing fast is an event, not a time: the study stopped at its preflight, before any work
        // reached the services that were up.
        Assert.Equal(indexing, stack.IndexingCalls.Count);
        Assert.Equal(projection, stack.ProjectionCalls.Count);
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("regression service", e.Status.Detail);
    }
}
