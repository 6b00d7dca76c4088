using System.Globalization;
using System.Text.RegularExpressions;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Study;

/// <summary>
/// The default study specification (the paper's tables, docs/method.md, plus the
/// extras) and the completion of a user's spec: absent fields take the defaults, then
/// everything is checked against the data's variables before any service is called.
/// </summary>
public static partial class StudySpecs
{
    public const string DefaultOutcome = "ln_resexport";
    public static readonly string[] DefaultControls = ["ln_x"];
    public static readonly string[] DefaultInteractionTiers = ["first", "new_first"];
    public const int DefaultReplications = 9999;
    public const ulong DefaultSeed = 20200123;

    /// <summary>The p-value thresholds of the stars when a table style gives none: *** below 0.01, ** 0.05, * 0.1.</summary>
    public static IReadOnlyList<double> DefaultStarLevels { get; } = [0.01, 0.05, 0.1];

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex TableId();

    /// <summary>The ids of the standard tables for the data's dimensions.</summary>
    public static IReadOnlyList<string> StandardIds(IReadOnlyList<string> dimensions) =>
        [
            "baseline",
            "robustness_growth",
            "robustness_recovery",
            "heterogeneity",
            .. dimensions.Select(d => "mechanism_" + d),
            "robustness_weighting",
        ];

    /// <summary>The default spec for a data set (its dimensions name the mechanism tables).</summary>
    public static StudySpec Default(StudyData data) => Complete(new StudySpec(), data);

    /// <summary>Fills defaults into a copy of <paramref name="user"/> and validates it against the data.</summary>
    /// <exception cref="InvalidInputException">With a <c>spec.</c> field path and a sentence.</exception>
    public static StudySpec Complete(StudySpec? user, StudyData data, StudyLimits? limits = null)
    {
        var spec = user?.Clone() ?? new StudySpec();
        var dimensions = StudyVariables.Dimensions(data);
        if (string.IsNullOrWhiteSpace(spec.Title))
            spec.Title = "Urban resilience and export resilience";
        if (spec.Weighting == WeightingMethod.Unspecified)
            spec.Weighting = WeightingMethod.Entropy;
        if (!spec.HasShift)
            spec.Shift = 0.0001;
        if (!(spec.Shift > 0) || double.IsInfinity(spec.Shift) || spec.Shift > 1)
            throw Bad(
                "spec.shift",
                $"The shift must be a positive number of at most 1 (the paper uses 0.0001); {spec.Shift} was given."
            );
        if (spec.GrowthMethod == GrowthMethod.Unspecified)
            spec.GrowthMethod = GrowthMethod.Geometric;
        spec.BaseWindow ??= new BaseWindow { StartYear = 2015, EndYear = 2019 };
        if (
            spec.BaseWindow.StartYear < 1000
            || spec.BaseWindow.EndYear <= spec.BaseWindow.StartYear
            || spec.BaseWindow.EndYear > 9999
        )
            throw Bad(
                "spec.base_window",
                $"The base window {spec.BaseWindow.StartYear}-{spec.BaseWindow.EndYear} is not valid; give a first year before the last, for example 2015-2019."
            );
        RequireWindowInData(spec.BaseWindow, ExportYears(data), "spec.base_window");
        if (spec.CovarianceType == CovarianceType.Unspecified)
            spec.CovarianceType = CovarianceType.Hc1;
        spec.Bootstrap ??= new BootstrapOptions { Replications = DefaultReplications, Seed = DefaultSeed };
        if (spec.Bootstrap.Replications is < 0 or > 1_000_000)
            throw Bad(
                "spec.bootstrap.replications",
                $"Bootstrap replications must be between 0 (off) and 1,000,000; {spec.Bootstrap.Replications} was given."
            );
        if (!spec.HasLeaveOneOut)
            spec.LeaveOneOut = true;
        // Alternative indices are computed only for the tables that use them.
        if (spec.AlternativeWeightings.Count == 0)
            spec.AlternativeWeightings.AddRange([WeightingMethod.Equal, WeightingMethod.Critic]);
        for (int i = 0; i < spec.AlternativeWeightings.Count; i++)
            if (spec.AlternativeWeightings[i] == WeightingMethod.Unspecified)
                throw Bad(
                    $"spec.alternative_weightings[{i}]",
                    "An alternative weighting is unspecified; use WEIGHTING_METHOD_EQUAL or WEIGHTING_METHOD_CRITIC."
                );
        if (spec.HasJanuaryShare && !(spec.JanuaryShare >= 0 && spec.JanuaryShare <= 1))
            throw Bad(
                "spec.january_share",
                $"The January share must be between 0 and 1; {spec.JanuaryShare} was given."
            );

        var cityIds = data.CityIds.ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < spec.TierOverrides.Count; i++)
        {
            var o = spec.TierOverrides[i];
            if (!cityIds.Contains(o.CityId))
                throw Bad(
                    $"spec.tier_overrides[{i}].city_id",
                    $"Tier override for city '{o.CityId}', which is not in the data."
                );
            if (!TableId().IsMatch(o.Tier))
                throw Bad(
                    $"spec.tier_overrides[{i}].tier",
                    $"Tier '{o.Tier}' for city '{o.CityId}' is not a valid tier label (lower case letters, digits and underscores)."
                );
        }
        var tiers = StudyVariables.Tiers(data, spec);

        if (string.IsNullOrWhiteSpace(spec.Outcome))
            spec.Outcome = DefaultOutcome;
        if (spec.Controls.Count == 0)
            spec.Controls.AddRange(DefaultControls);
        if (spec.InteractionTiers.Count == 0)
            spec.InteractionTiers.AddRange(DefaultInteractionTiers.Where(tiers.Contains));
        var variables = StudyVariables.Names(data, spec);
        CheckVariable(spec.Outcome, "spec.outcome", variables);
        for (int i = 0; i < spec.Controls.Count; i++)
            CheckVariable(spec.Controls[i], $"spec.controls[{i}]", variables);
        for (int i = 0; i < spec.InteractionTiers.Count; i++)
            if (!tiers.Contains(spec.InteractionTiers[i]))
                throw Bad(
                    $"spec.interaction_tiers[{i}]",
                    $"Tier '{spec.InteractionTiers[i]}' has no city; the tiers are {string.Join(", ", tiers.Select(t => $"'{t}'"))}."
                );

        var standard = Standard(spec, dimensions);
        var tables = new List<TableSpec>();
        if (spec.Tables.Count == 0)
            tables.AddRange(standard.Values);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int t = 0; t < spec.Tables.Count; t++)
        {
            var table = spec.Tables[t];
            string field = $"spec.tables[{t}]";
            if (!TableId().IsMatch(table.Id))
                throw Bad(
                    $"{field}.id",
                    $"Table id '{table.Id}' is not valid; use lower case letters, digits and underscores, for example 'baseline'."
                );
            if (table.Id == "weights")
                throw Bad(
                    $"{field}.id",
                    "The weights table is always reported; do not list it among the regression tables."
                );
            if (!ids.Add(table.Id))
                throw Bad($"{field}.id", $"Table '{table.Id}' is listed twice.");
            if (table.Regressions.Count == 0)
            {
                if (!standard.TryGetValue(table.Id, out var std))
                    throw Bad(
                        $"{field}.id",
                        $"Unknown table '{table.Id}'; the standard tables are {string.Join(", ", standard.Keys)}, or give the table its own regressions."
                    );
                std.IndicatorRows.AddRange(table.IndicatorRows);
                std.Note = table.Note;
                CheckPresentation(std, field);
                tables.Add(std);
                continue;
            }
            if (string.IsNullOrWhiteSpace(table.Title))
                table.Title = table.Id;
            for (int r = 0; r < table.Regressions.Count; r++)
            {
                var reg = table.Regressions[r];
                string rf = $"{field}.regressions[{r}]";
                if (string.IsNullOrWhiteSpace(reg.Label))
                    reg.Label = $"({r + 1})";
                CheckVariable(reg.Dependent, $"{rf}.dependent", variables);
                if (reg.Regressors.Count == 0)
                    throw Bad($"{rf}.regressors", $"Regression {reg.Label} of table '{table.Id}' has no regressors.");
                for (int k = 0; k < reg.Regressors.Count; k++)
                    CheckVariable(reg.Regressors[k], $"{rf}.regressors[{k}]", variables);
            }
            CheckPresentation(table, field);
            tables.Add(table);
        }
        spec.Tables.Clear();
        spec.Tables.AddRange(tables);
        CheckStyle(spec.TableStyle);
        MultiversePlan.Complete(spec, data, variables, limits);
        return spec;
    }

    /// <summary>Bounds of the presentation fields: they are printed, never computed with.</summary>
    private const int MaxText = 200,
        MaxNote = 2000,
        MaxRows = 20,
        MaxTerms = 500;

    private static void CheckText(string text, string field, int max)
    {
        if (text.Length > max)
            throw Bad(field, $"The text is {text.Length:N0} characters; the limit is {max:N0}.");
    }

    /// <summary>A table's indicator rows and note.</summary>
    private static void CheckPresentation(TableSpec table, string field)
    {
        CheckText(table.Note, $"{field}.note", MaxNote);
        if (table.IndicatorRows.Count > MaxRows)
            throw Bad(
                $"{field}.indicator_rows",
                $"Table '{table.Id}' has {table.IndicatorRows.Count} indicator rows; the limit is {MaxRows}."
            );
        for (int i = 0; i < table.IndicatorRows.Count; i++)
        {
            var row = table.IndicatorRows[i];
            string rf = $"{field}.indicator_rows[{i}]";
            if (string.IsNullOrWhiteSpace(row.Label))
                throw Bad($"{rf}.label", "An indicator row needs a label, for example \"Controls\".");
            CheckText(row.Label, $"{rf}.label", MaxText);
            if (row.Values.Count > table.Regressions.Count)
                throw Bad(
                    $"{rf}.values",
                    $"Indicator row '{row.Label}' has {row.Values.Count} values but table '{table.Id}' has {table.Regressions.Count} columns."
                );
            for (int v = 0; v < row.Values.Count; v++)
                CheckText(row.Values[v], $"{rf}.values[{v}]", MaxText);
        }
    }

    /// <summary>The table style: digits 0–10, ascending star levels in (0, 1) with one symbol each, known statistics, bounded texts.</summary>
    private static void CheckStyle(TableStyle? style)
    {
        if (style is null)
            return;
        const string f = "spec.table_style";
        if (!Enum.IsDefined(style.Statistic))
            throw Bad($"{f}.statistic", $"Unknown statistic {(int)style.Statistic}; use SE, T, P or CI.");
        if (style.HasDigits && style.Digits is < 0 or > 10)
            throw Bad($"{f}.digits", $"Digits must be between 0 and 10; {style.Digits} was given.");
        if (style.StarLevels.Count > 5)
            throw Bad($"{f}.star_levels", $"{style.StarLevels.Count} star levels were given; the limit is 5.");
        for (int i = 0; i < style.StarLevels.Count; i++)
        {
            double level = style.StarLevels[i];
            if (!(level > 0 && level < 1))
                throw Bad($"{f}.star_levels[{i}]", $"A star level must be above 0 and below 1; {level} was given.");
            if (i > 0 && !(level > style.StarLevels[i - 1]))
                throw Bad($"{f}.star_levels[{i}]", "Star levels must be strictly ascending, for example 0.01, 0.05, 0.1.");
        }
        int levels = style.StarLevels.Count > 0 ? style.StarLevels.Count : DefaultStarLevels.Count;
        if (style.StarSymbols.Count > 0 && style.StarSymbols.Count != levels)
            throw Bad(
                $"{f}.star_symbols",
                $"{style.StarSymbols.Count} star symbols were given for {levels} levels; give one per level."
            );
        for (int i = 0; i < style.StarSymbols.Count; i++)
            CheckText(style.StarSymbols[i], $"{f}.star_symbols[{i}]", 8);
        if (style.Labels.Count > MaxTerms)
            throw Bad($"{f}.labels", $"{style.Labels.Count:N0} labels were given; the limit is {MaxTerms}.");
        foreach (var (term, label) in style.Labels)
        {
            CheckText(term, $"{f}.labels", MaxText);
            CheckText(label, $"{f}.labels[{term}]", MaxText);
        }
        if (style.Order.Count > MaxTerms)
            throw Bad($"{f}.order", $"{style.Order.Count:N0} terms were given; the limit is {MaxTerms}.");
        for (int i = 0; i < style.Order.Count; i++)
            CheckText(style.Order[i], $"{f}.order[{i}]", MaxText);
        if (style.FitStatistics.Count > 10)
            throw Bad($"{f}.fit_statistics", $"{style.FitStatistics.Count} fit statistics were given; the limit is 10.");
        for (int i = 0; i < style.FitStatistics.Count; i++)
            if (style.FitStatistics[i] == FitStatistic.Unspecified || !Enum.IsDefined(style.FitStatistics[i]))
                throw Bad(
                    $"{f}.fit_statistics[{i}]",
                    "Unknown fit statistic; use N, R2, ADJ_R2, F, RMSE or BOOTSTRAP_P."
                );
        if (style.Notes.Count > MaxRows)
            throw Bad($"{f}.notes", $"{style.Notes.Count} notes were given; the limit is {MaxRows}.");
        for (int i = 0; i < style.Notes.Count; i++)
            CheckText(style.Notes[i], $"{f}.notes[{i}]", MaxNote);
    }

    /// <summary>The standard tables, built from the spec's outcome, controls and tiers.</summary>
    private static Dictionary<string, TableSpec> Standard(StudySpec spec, IReadOnlyList<string> dimensions)
    {
        RegressionSpec Model(
            string label,
            string y,
            IEnumerable<string> x,
            WeightingMethod w = WeightingMethod.Unspecified
        ) =>
            new()
            {
                Label = label,
                Dependent = y,
                Regressors = { x },
                Weighting = w,
            };
        var controls = spec.Controls.ToArray();
        string y = spec.Outcome;
        var result = new Dictionary<string, TableSpec>(StringComparer.Ordinal)
        {
            ["baseline"] = new()
            {
                Id = "baseline",
                Title = "Table 2. Baseline: urban resilience and export resilience",
                Regressions = { Model("(1)", y, ["ln_rescity"]), Model("(2)", y, ["ln_rescity", .. controls]) },
            },
            ["robustness_growth"] = new()
            {
                Id = "robustness_growth",
                Title = "Robustness 1: export growth rate of the shock year",
                Regressions = { Model("(1)", "growth_rate", ["ln_rescity", .. controls]) },
            },
            ["robustness_recovery"] = new()
            {
                Id = "robustness_recovery",
                Title = "Robustness 2: months to recover (censored cities dropped)",
                Regressions = { Model("(1)", "recovery_months", ["ln_rescity", .. controls]) },
            },
            ["heterogeneity"] = new()
            {
                Id = "heterogeneity",
                Title = "Heterogeneity by city tier",
                Regressions =
                {
                    Model(
                        "(1)",
                        y,
                        ["ln_rescity", .. controls, .. spec.InteractionTiers.Select(t => $"ln_rescity*d_{t}")]
                    ),
                },
            },
        };
        foreach (var d in dimensions)
            result["mechanism_" + d] = new()
            {
                Id = "mechanism_" + d,
                Title = $"Mechanism: {d} resilience",
                Regressions = { Model("(1)", y, [$"ln_res_{d}", .. controls]) },
            };
        if (spec.AlternativeWeightings.Count > 0)
        {
            var table = new TableSpec
            {
                Id = "robustness_weighting",
                Title = "Robustness of the index: alternative weightings",
            };
            int c = 1;
            foreach (var w in new[] { spec.Weighting }.Concat(spec.AlternativeWeightings).Distinct())
                table.Regressions.Add(Model($"({c++}) {Short(w)}", y, ["ln_rescity", .. controls], w));
            result["robustness_weighting"] = table;
        }
        return result;
    }

    public static string Short(WeightingMethod w) =>
        w switch
        {
            WeightingMethod.Entropy => "entropy",
            WeightingMethod.Equal => "equal",
            WeightingMethod.Critic => "CRITIC",
            _ => "unspecified",
        };

    private static void CheckVariable(string name, string field, IReadOnlySet<string> variables)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw Bad(field, "A variable name is empty.");
        foreach (var part in name.Split('*'))
            if (!variables.Contains(part))
                throw Bad(
                    field,
                    $"Unknown column '{part}'; the study's variables are {string.Join(", ", variables.Order(StringComparer.Ordinal))}."
                );
    }

    /// <summary>
    /// Refuses, before anything runs, a base window whose years or shock year (the year after
    /// it) the exports do not reach at all, naming <paramref name="field"/> and the years the
    /// data cover. A year that is there for some cities only is left to the projection, which
    /// names the city and period.
    /// </summary>
    internal static void RequireWindowInData(BaseWindow window, SortedSet<int> years, string field)
    {
        if (years.Count == 0)
            return; // no exports at all: refused with the data
        // At most one step past the data's years: the first year missing ends it.
        for (int year = window.StartYear; year <= window.EndYear + 1; year++)
            if (!years.Contains(year))
                throw Bad(
                    field,
                    $"The base window {window.StartYear}-{window.EndYear} needs exports for every year from {window.StartYear} to {window.EndYear + 1} (the shock year is the one after the window), but the data have none for {year}; they cover {Covered(years)}."
                );
    }

    /// <summary>The years the exports have any period in ("YYYY-MM" or "YYYY").</summary>
    internal static SortedSet<int> ExportYears(StudyData data)
    {
        var years = new SortedSet<int>();
        foreach (var series in data.Exports)
            foreach (var period in series.Periods)
                if (
                    period.Length >= 4
                    && int.TryParse(period.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out int year)
                )
                    years.Add(year);
        return years;
    }

    /// <summary>Years as ranges: "2015-2021", or "2015-2017, 2019-2021" with a gap.</summary>
    private static string Covered(SortedSet<int> years)
    {
        var ranges = new List<string>();
        int start = years.Min,
            last = start;
        foreach (int y in years.Skip(1))
        {
            if (y != last + 1)
            {
                ranges.Add(start == last ? $"{start}" : $"{start}-{last}");
                start = y;
            }
            last = y;
        }
        ranges.Add(start == last ? $"{start}" : $"{start}-{last}");
        return string.Join(", ", ranges);
    }

    private static InvalidInputException Bad(string field, string message) => new(field, message);
}
