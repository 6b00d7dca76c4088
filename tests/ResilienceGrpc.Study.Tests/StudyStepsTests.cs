using System.Security.Cryptography;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Study.Data;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>The study's steps alone, without a service: the plan, and the tables and report built from given results.</summary>
public class StudyStepsTests
{
    [Fact]
    public void ThePlanListsEveryCallBeforeAnyIsMade()
    {
        var data = BundledData.Sample();
        var plan = StudyPlan.Make(data, null);
        // The tables use the entropy index (and the weighting table equal and CRITIC); the curve adds within-dimension scoring.
        Assert.Equal(new IndexVariant(WeightingMethod.Entropy, false), plan.Indices[0]);
        Assert.Equal(6, plan.Indices.Count);
        Assert.Equal(3, plan.Indices.Count(v => v.WithinDimension));
        Assert.Equal(
            [plan.MainProjection, new ProjectionVariant(GrowthMethod.Arithmetic, 2015, 2019)],
            plan.Projections
        );
        Assert.Equal(plan.Spec.Tables.Sum(t => t.Regressions.Count), plan.Fits);
        Assert.Equal(1872, plan.Curve.Count);
        Assert.Equal(6 + 2 + plan.Fits + 1872, plan.Steps);

        var without = StudyPlan.Make(
            data,
            new StudySpec
            {
                Multiverse = new MultiverseSpec { Disabled = true },
                AlternativeWeightings = { WeightingMethod.Equal },
            }
        );
        Assert.Empty(without.Curve);
        Assert.Equal(
            [new IndexVariant(WeightingMethod.Entropy, false), new IndexVariant(WeightingMethod.Equal, false)],
            without.Indices
        );
        Assert.Equal([without.MainProjection], without.Projections);
    }

    [Fact]
    public void TablesAndTheReportModelAreBuiltFromTheResultsAlone()
    {
        var data = BundledData.Sample();
        var plan = StudyPlan.Make(
            data,
            new StudySpec
            {
                Multiverse = new MultiverseSpec { Disabled = true },
                Tables = { new TableSpec { Id = "baseline" } },
            }
        );
        var index = new ComputeIndexResponse { Method = WeightingMethod.Entropy };
        var projection = new ProjectExportsResponse();
        for (int i = 0; i < data.CityIds.Count; i++)
        {
            index.Units.Add(
                new UnitScore
                {
                    UnitId = data.CityIds[i],
                    Composite = 0.1 + i,
                    DimensionScores =
                    {
                        StudyVariables.Dimensions(data).Select(d => new DimensionScore { Dimension = d, Score = 0.2 + i }),
                    },
                }
            );
            projection.Cities.Add(
                new CityProjection
                {
                    CityId = data.CityIds[i],
                    Ratio = 1,
                    Recovery = new RecoveryTime
                    {
                        Status = i == 3 ? RecoveryStatus.Censored : RecoveryStatus.Recovered,
                    },
                }
            );
        }
        var models = plan
            .Spec.Tables.Select(t =>
                (IReadOnlyList<RegressionModel>)
                    t
                        .Regressions.Select(
                            (r, k) =>
                                new RegressionModel
                                {
                                    Spec = r,
                                    Fit = new FitResponse(),
                                    Error = k == 1 ? "collinear" : "",
                                }
                        )
                        .ToList()
            )
            .ToList();
        var results = new StudyResults(
            new Dictionary<IndexVariant, ComputeIndexResponse> { [plan.MainIndex] = index },
            new Dictionary<ProjectionVariant, ProjectExportsResponse> { [plan.MainProjection] = projection },
            models,
            [],
            [new CacheEvent { Intermediate = "projection", Status = CacheStatus.Unavailable }]
        );

        var tables = StudyReportBuilder.Tables(plan, results);
        Assert.Equal(["weights", "baseline"], tables.Select(t => t.Id));
        Assert.Same(index, tables[0].Weights);
        Assert.Equal(2, tables[1].Models.Count);

        var report = StudyReportBuilder.Report(
            data,
            plan,
            results,
            tables,
            "2026-11-28T00:00:00Z",
            1.5,
            "Redis at nowhere:1"
        );
        Assert.Null(report.Multiverse);
        Assert.Equal(38, report.Cities.Count);
        Assert.Equal(3.1, report.Cities[3].Rescity);
        Assert.Contains(report.Warnings, w => w.Contains("Redis at nowhere:1") && w.Contains("unavailable"));
        Assert.Contains(report.Warnings, w => w.Contains(data.CityIds[3]) && w.Contains("never recovers"));
        Assert.Contains(
            report.Warnings,
            w => w.StartsWith("baseline (2) was not fitted: collinear", StringComparison.Ordinal)
        );
        Assert.Equal("2026-11-28T00:00:00Z", report.Manifest.StartedAt);
        Assert.Equal(1.5, report.Manifest.ElapsedSeconds);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data.ToByteArray())), report.Manifest.DataSha256);
        Assert.Same(plan.Spec, report.Manifest.Spec);

        // The analysis data are the baseline models' variables, from these results alone.
        Assert.Equal(data.CityIds, report.Analysis.CityIds);
        var lnRescity = report.Analysis.Columns.Single(c => c.Name == "ln_rescity");
        Assert.Equal(Enumerable.Range(0, 38).Select(i => Math.Log(0.1 + i)), lnRescity.Values);
        Assert.Equal(
            report
                .Tables.SelectMany(t => t.Models)
                .SelectMany(m => m.Spec.Regressors.Prepend(m.Spec.Dependent))
                .SelectMany(n => n.Split('*'))
                .Distinct(),
            report.Analysis.Columns.Select(c => c.Name)
        );
    }
}
