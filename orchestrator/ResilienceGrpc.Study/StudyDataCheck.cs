using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Study;

/// <summary>
/// The whole study's input, checked before any call: inline data whose lists disagree with
/// its cities, and a spec whose enums are not known or whose tables are too many, are refused
/// with the field path, instead of failing mid-study (or fitting nothing).
/// </summary>
public static class StudyDataCheck
{
    /// <summary>Checks that every list of the data agrees with <see cref="StudyData.CityIds"/>.</summary>
    /// <exception cref="InvalidInputException">Naming the field, e.g. <c>data.tiers</c> or <c>data.exports[3].city_id</c>.</exception>
    public static void Data(StudyData data)
    {
        int n = data.CityIds.Count;
        if (n == 0)
            throw Bad("data.city_ids", "The data have no cities.");
        var cities = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            Name(data.CityIds[i], $"data.city_ids[{i}]", "city id");
            if (!cities.Add(data.CityIds[i]))
                throw Bad($"data.city_ids[{i}]", $"City '{data.CityIds[i]}' is listed twice; city ids must be unique.");
        }
        if (data.CityNames.Count is not 0 && data.CityNames.Count != n)
            throw Bad(
                "data.city_names",
                $"There are {data.CityNames.Count} city names for {n} cities; give one per city, in city_ids order, or none."
            );
        if (data.Tiers.Count != n)
            throw Bad(
                "data.tiers",
                $"There are {data.Tiers.Count} tiers for {n} cities; give one per city, in city_ids order."
            );
        for (int j = 0; j < data.Indicators.Count; j++)
        {
            var ind = data.Indicators[j];
            Name(ind.Id, $"data.indicators[{j}].id", "indicator id");
            if (ind.Values.Count != n)
                throw Bad(
                    $"data.indicators[{j}].values",
                    $"Indicator '{ind.Id}' has {ind.Values.Count} values for {n} cities; give one per city, in city_ids order."
                );
        }
        var exported = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < data.Exports.Count; s++)
        {
            string id = data.Exports[s].CityId;
            if (!cities.Contains(id))
                throw Bad(
                    $"data.exports[{s}].city_id",
                    $"Exports are given for '{Names.Shown(id)}', which is not one of the cities."
                );
            if (!exported.Add(id))
                throw Bad($"data.exports[{s}].city_id", $"Exports of '{id}' are given twice.");
        }
        if (exported.Count != n)
            throw Bad(
                "data.exports",
                $"{n - exported.Count} cities have no exports, the first '{data.CityIds.First(c => !exported.Contains(c))}'; give one series per city."
            );
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int a = 0; a < data.Attributes.Count; a++)
        {
            var attr = data.Attributes[a];
            Name(attr.Name, $"data.attributes[{a}].name", "attribute name");
            if (!names.Add(attr.Name))
                throw Bad($"data.attributes[{a}].name", $"Attribute '{attr.Name}' is given twice.");
            if (attr.Values.Count != n)
                throw Bad(
                    $"data.attributes[{a}].values",
                    $"Attribute '{attr.Name}' has {attr.Values.Count} values for {n} cities; give one per city (NaN where missing), in city_ids order."
                );
        }
    }

    /// <summary>Checks the user's spec before it is completed: known enum values, and bounded tables.</summary>
    public static void Spec(StudySpec? spec, StudyLimits? limits = null)
    {
        limits ??= StudyLimits.Default;
        if (spec is null)
            return;
        Known(spec.Weighting, "spec.weighting");
        Known(spec.GrowthMethod, "spec.growth_method");
        Known(spec.CovarianceType, "spec.covariance_type");
        for (int i = 0; i < spec.AlternativeWeightings.Count; i++)
            Known(spec.AlternativeWeightings[i], $"spec.alternative_weightings[{i}]");
        if (spec.Tables.Count > limits.MaxTables)
            throw new WorkLimitException(
                "spec.tables",
                $"The spec has {spec.Tables.Count:N0} tables; the limit is {limits.MaxTables:N0} ({StudyLimits.Key(nameof(StudyLimits.MaxTables))})."
            );
        int models = spec.Tables.Sum(t => t.Regressions.Count);
        if (models > limits.MaxModels)
            throw new WorkLimitException(
                "spec.tables",
                $"The spec's tables have {models:N0} regressions in all; the limit is {limits.MaxModels:N0} ({StudyLimits.Key(nameof(StudyLimits.MaxModels))})."
            );
        for (int t = 0; t < spec.Tables.Count; t++)
            for (int r = 0; r < spec.Tables[t].Regressions.Count; r++)
                Known(spec.Tables[t].Regressions[r].Weighting, $"spec.tables[{t}].regressions[{r}].weighting");
    }

    private static void Known<T>(T value, string field)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw Bad(
                field,
                $"{Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)} is not a known {typeof(T).Name} value; use one of {string.Join(", ", Enum.GetNames<T>().Skip(1))}."
            );
    }

    /// <summary>A name is printable text: no control characters and no bidirectional overrides.</summary>
    public static void Name(string name, string field, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw Bad(field, $"A {what} is empty.");
        Names.CheckPrintable(name, field, what);
    }

    private static InvalidInputException Bad(string field, string message) => new(field, message);
}
