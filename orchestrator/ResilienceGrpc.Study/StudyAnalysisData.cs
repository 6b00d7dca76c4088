using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study;

/// <summary>
/// The analysis data set behind the regression tables: every variable a table's model
/// used (both factors of a product term), one value per city, rebuilt from the same
/// service answers the models were fitted on (<see cref="StudyVariables.Build"/>). A
/// variable whose values differ between the index weightings the models used gets one
/// column per weighting; the study's own weighting keeps the plain name, the others are
/// suffixed (<c>ln_rescity_critic</c>). A pure function of the plan and the results.
/// </summary>
public static class StudyAnalysisData
{
    public static AnalysisData Build(StudyData data, StudyPlan plan, StudyResults results)
    {
        var spec = plan.Spec;
        var sets = new Dictionary<WeightingMethod, Dictionary<string, double[]>>();
        Dictionary<string, double[]> Set(WeightingMethod w)
        {
            if (!sets.TryGetValue(w, out var v))
                sets[w] = v = StudyVariables.Build(
                    data,
                    spec,
                    results.Indices[new IndexVariant(w, false)],
                    results.Projections[plan.MainProjection]
                );
            return v;
        }

        // Each variable with the weightings of the models that used it, in order of first use.
        var uses = new List<(string Variable, List<WeightingMethod> Weightings)>();
        foreach (var table in spec.Tables)
            foreach (var r in table.Regressions)
            {
                var w = StudyPlan.WeightingOf(r, spec);
                foreach (var name in r.Regressors.Prepend(r.Dependent).SelectMany(n => n.Split('*')).Distinct())
                {
                    int at = uses.FindIndex(u => u.Variable == name);
                    if (at < 0)
                        uses.Add((name, [w]));
                    else if (!uses[at].Weightings.Contains(w))
                        uses[at].Weightings.Add(w);
                }
            }

        var analysis = new AnalysisData { CityIds = { data.CityIds } };
        foreach (var (variable, weightings) in uses)
        {
            var first = Set(weightings[0])[variable];
            if (weightings.All(w => Same(Set(w)[variable], first)))
            {
                analysis.Columns.Add(new AnalysisColumn { Name = variable, Variable = variable, Values = { first } });
                continue;
            }
            foreach (var w in weightings)
                analysis.Columns.Add(
                    new AnalysisColumn
                    {
                        Name = w == spec.Weighting ? variable : $"{variable}_{Suffix(w)}",
                        Variable = variable,
                        Weighting = w,
                        Values = { Set(w)[variable] },
                    }
                );
        }
        return analysis;
    }

    private static string Suffix(WeightingMethod w) =>
        w switch
        {
            WeightingMethod.Entropy => "entropy",
            WeightingMethod.Equal => "equal",
            WeightingMethod.Critic => "critic",
            _ => w.ToString().ToLowerInvariant(),
        };

    private static bool Same(double[] a, double[] b) =>
        a.Length == b.Length
        && a.Zip(b).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second));
}
