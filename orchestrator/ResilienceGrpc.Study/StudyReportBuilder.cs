using System.Reflection;
using System.Security.Cryptography;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study;

/// <summary>
/// Steps 3 and 4 of a study: assemble the tables from the fan-out's results, then build the
/// report model (cities, the curve, warnings, manifest). Pure functions of the plan and the
/// results: no calls, no clock except the times handed in.
/// </summary>
public static class StudyReportBuilder
{
    /// <summary>The software version written into every manifest.</summary>
    public static string SoftwareVersion { get; } =
        typeof(StudyReportBuilder)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>Step 3: Table 1 (the main index's weights), then every regression table in spec order.</summary>
    public static List<Table> Tables(StudyPlan plan, StudyResults results)
    {
        var spec = plan.Spec;
        var tables = new List<Table>
        {
            new()
            {
                Id = "weights",
                Title = $"Table 1. {Capitalised(Words(spec.Weighting))} of the urban resilience index",
                Weights = results.Indices[plan.MainIndex],
                Note = "Global weights sum to 1; a dimension's weight is the sum of its indicators' weights.",
            },
        };
        for (int t = 0; t < spec.Tables.Count; t++)
        {
            var table = new Table { Id = spec.Tables[t].Id, Title = spec.Tables[t].Title };
            table.Models.AddRange(results.Models[t]);
            tables.Add(table);
        }
        return tables;
    }

    /// <summary>Step 4: the report model around the tables.</summary>
    public static StudyReport Report(
        StudyData data,
        StudyPlan plan,
        StudyResults results,
        IEnumerable<Table> tables,
        string startedAt,
        double elapsedSeconds,
        string? sharedCache
    )
    {
        var spec = plan.Spec;
        var report = new StudyReport
        {
            Title = spec.Title,
            Synthetic = data.Synthetic,
            Tables = { tables },
        };
        report.CacheEvents.AddRange(results.CacheEvents);
        if (results.CacheEvents.Any(e => e.Status == CacheStatus.Unavailable))
            report.Warnings.Add(
                $"The shared cache ({sharedCache}) was unavailable; the intermediates were recomputed."
            );

        report.Analysis = StudyAnalysisData.Build(data, plan, results);
        var tiers = StudyVariables.TierOf(data, spec);
        var main = results.Indices[plan.MainIndex];
        var projection = results.Projections[plan.MainProjection];
        for (int i = 0; i < data.CityIds.Count; i++)
        {
            var unit = main.Units[i];
            report.Cities.Add(
                new CityResult
                {
                    CityId = data.CityIds[i],
                    Name = data.CityNames.Count > i ? data.CityNames[i] : data.CityIds[i],
                    Tier = tiers[i],
                    Rescity = unit.Composite,
                    DimensionScores = { unit.DimensionScores },
                    Projection = projection.Cities[i],
                }
            );
        }
        if (plan.Curve.Count > 0)
        {
            report.Multiverse = new Multiverse
            {
                Term = MultiversePlan.Term,
                Dependent = spec.Outcome,
                Specifications = { results.Curve },
            };
            report.Multiverse.Summary = MultiversePlan.Summarise(results.Curve);
        }

        if (data.Synthetic)
            report.Warnings.Add(
                $"SYNTHETIC DATA ({data.Label}): these results come from generated numbers and say nothing about the cities named."
            );
        var censored = projection
            .Cities.Where(c => c.Recovery.Status == RecoveryStatus.Censored)
            .Select(c => c.CityId)
            .ToList();
        if (censored.Count > 0)
            report.Warnings.Add(
                $"{censored.Count} {(censored.Count == 1 ? "city never recovers" : "cities never recover")} inside the data ({string.Join(", ", censored)}); the recovery-time regression drops them."
            );
        foreach (var m in report.Tables.SelectMany(t => t.Models.Select(m => (t, m))).Where(x => x.m.Error.Length > 0))
            report.Warnings.Add($"{m.t.Id} {m.m.Spec.Label} was not fitted: {m.m.Error}");
        if (results.Curve.FirstOrDefault(x => x.Error.Length > 0) is { } failed)
            report.Warnings.Add(
                $"{results.Curve.Count(x => x.Error.Length > 0):N0} of {plan.Curve.Count:N0} specifications of the curve were not fitted; the first ({failed.Id}): {failed.Error}"
            );

        report.Manifest = new Manifest
        {
            SoftwareVersion = SoftwareVersion,
            Inputs = { data.Inputs },
            Spec = spec,
            StartedAt = startedAt,
            ElapsedSeconds = elapsedSeconds,
            DataLabel = data.Label,
            Synthetic = data.Synthetic,
            DataSha256 = Convert.ToHexStringLower(SHA256.HashData(data.ToByteArray())),
        };
        return report;
    }

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Words(WeightingMethod w) =>
        w switch
        {
            WeightingMethod.Entropy => "entropy weights",
            WeightingMethod.Equal => "equal weights",
            _ => "CRITIC weights",
        };
}
