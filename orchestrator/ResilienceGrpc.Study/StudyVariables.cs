using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study;

/// <summary>
/// The study's variables, by name, one value per city (NaN where missing): what the
/// regression tables refer to. Only logs, dummies and renaming happen here; every
/// computed quantity comes from a service.
/// <list type="bullet">
/// <item><c>resexport</c>, <c>ln_resexport</c>: actual/projected exports of the shock year;</item>
/// <item><c>growth_rate</c>: E_shock/E_base_end − 1; <c>recovery_months</c>: N (missing when censored);</item>
/// <item><c>rescity</c>, <c>ln_rescity</c>, <c>res_&lt;dim&gt;</c>, <c>ln_res_&lt;dim&gt;</c>: index and dimension scores;</item>
/// <item>every city attribute and its log <c>ln_&lt;name&gt;</c>; <c>x</c> and <c>ln_x</c> are density;</item>
/// <item><c>d_&lt;tier&gt;</c>: 1 for the cities of a tier.</item>
/// </list>
/// </summary>
public static class StudyVariables
{
    public static IReadOnlyList<string> Dimensions(StudyData data) =>
        data.Indicators.Select(i => i.Dimension).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Every city's tier after the spec's overrides.</summary>
    public static string[] TierOf(StudyData data, StudySpec spec)
    {
        var tiers = data.Tiers.ToArray();
        foreach (var o in spec.TierOverrides)
        {
            int i = data.CityIds.IndexOf(o.CityId);
            if (i >= 0)
                tiers[i] = o.Tier;
        }
        return tiers;
    }

    public static IReadOnlySet<string> Tiers(StudyData data, StudySpec spec) =>
        TierOf(data, spec).ToHashSet(StringComparer.Ordinal);

    /// <summary>The names available to a spec, known before anything is computed.</summary>
    public static IReadOnlySet<string> Names(StudyData data, StudySpec spec)
    {
        var names = new HashSet<string>(StringComparer.Ordinal)
        {
            "resexport",
            "ln_resexport",
            "growth_rate",
            "recovery_months",
            "rescity",
            "ln_rescity",
        };
        foreach (var d in Dimensions(data))
        {
            names.Add("res_" + d);
            names.Add("ln_res_" + d);
        }
        foreach (var a in data.Attributes)
        {
            names.Add(a.Name);
            names.Add("ln_" + a.Name);
        }
        if (data.Attributes.Any(a => a.Name == "density"))
        {
            names.Add("x");
            names.Add("ln_x");
        }
        foreach (var t in Tiers(data, spec))
            names.Add("d_" + t);
        return names;
    }

    /// <summary>The variables for one index (weighting) and the projection.</summary>
    public static Dictionary<string, double[]> Build(
        StudyData data,
        StudySpec spec,
        ComputeIndexResponse index,
        ProjectExportsResponse projection
    )
    {
        var v = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var byCity = projection.Cities.ToDictionary(c => c.CityId, StringComparer.Ordinal);
        var units = index.Units.ToDictionary(u => u.UnitId, StringComparer.Ordinal);
        double[] Column(Func<string, double> f) => data.CityIds.Select(f).ToArray();

        v["resexport"] = Column(id => byCity[id].Ratio);
        v["ln_resexport"] = Log(v["resexport"]);
        v["growth_rate"] = Column(id => byCity[id].GrowthRate);
        v["recovery_months"] = Column(id => byCity[id].Recovery.HasMonths ? byCity[id].Recovery.Months : double.NaN);
        v["rescity"] = Column(id => units[id].Composite);
        v["ln_rescity"] = Log(v["rescity"]);
        foreach (var d in Dimensions(data))
        {
            v["res_" + d] = Column(id => units[id].DimensionScores.Single(s => s.Dimension == d).Score);
            v["ln_res_" + d] = Log(v["res_" + d]);
        }
        foreach (var a in data.Attributes)
        {
            v[a.Name] = a.Values.ToArray();
            v["ln_" + a.Name] = Log(v[a.Name]);
        }
        if (v.TryGetValue("density", out var density))
        {
            v["x"] = density;
            v["ln_x"] = v["ln_density"];
        }
        var tiers = TierOf(data, spec);
        foreach (var t in tiers.Distinct())
            v["d_" + t] = tiers.Select(x => x == t ? 1.0 : 0.0).ToArray();
        return v;
    }

    /// <summary>Natural log; NaN (missing) for non-positive or missing values.</summary>
    public static double[] Log(double[] x) => x.Select(v => v > 0 ? Math.Log(v) : double.NaN).ToArray();
}
