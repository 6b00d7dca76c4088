using System.Globalization;
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Regression.Api;

/// <summary>
/// The regression service's work budget, checked before any large allocation or any fitting:
/// configuration section <c>Limits:Regression</c> (for example the environment variable
/// <c>Limits__Regression__MaxFitWork</c>). A request over a limit gets RESOURCE_EXHAUSTED naming
/// the limit's key. The defaults keep one call to a few seconds of one core and a few hundred
/// MB on a small machine (see README, "Operating"); <c>parameters</c> counts the intercept.
/// </summary>
public sealed class RegressionLimits
{
    /// <summary>The configuration section's name under <c>Limits</c>.</summary>
    public const string Service = "Regression";

    /// <summary>Most parameters (regressors, products and the intercept) of one model.</summary>
    public int MaxParameters { get; set; } = 1_000;

    /// <summary>Most values of one model's design matrix: rows × parameters (16 Mi, 128 MiB).</summary>
    public long MaxDesignValues { get; set; } = 16L * 1024 * 1024;

    /// <summary>Most fitting work per call: Σ rows × (parameters + 1)² over its models.</summary>
    public long MaxFitWork { get; set; } = 500_000_000;

    /// <summary>Most bootstrap work per call: Σ replications × rows × (parameters + 1) over its models.</summary>
    public long MaxBootstrapWork { get; set; } = 250_000_000;

    /// <summary>
    /// Most values of a leave-one-out influence reply: rows × parameters (1 Mi, 8 MiB of doubles),
    /// since the reply carries every row's coefficients.
    /// </summary>
    public long MaxInfluenceValues { get; set; } = 1024L * 1024;

    /// <summary>Most bootstrap replications of one model.</summary>
    public int MaxReplications { get; set; } = 1_000_000;

    /// <summary>Most values (rows × columns) one <c>FitStream</c> may send in all (16 Mi, 128 MiB of doubles).</summary>
    public long MaxStreamedValues { get; set; } = 16L * 1024 * 1024;

    /// <summary>Most models one <c>FitBatch</c> call may carry.</summary>
    public int MaxBatchModels { get; set; } = 10_000;

    /// <summary>No limits: the command line's in-process fits, on the user's own machine.</summary>
    public static RegressionLimits Unbounded { get; } =
        new()
        {
            MaxParameters = int.MaxValue,
            MaxDesignValues = long.MaxValue,
            MaxInfluenceValues = long.MaxValue,
            MaxFitWork = long.MaxValue,
            MaxBootstrapWork = long.MaxValue,
            MaxReplications = int.MaxValue,
            MaxStreamedValues = long.MaxValue,
            MaxBatchModels = int.MaxValue,
        };

    /// <summary>The key a refusal names, e.g. <c>Limits:Regression:MaxFitWork</c>.</summary>
    public static string Key(string limit) => ServiceLimits.Key(Service, limit);

    /// <summary>Fitting work of one model, as the budget counts it.</summary>
    public static long FitWork(long rows, int parameters) => rows * (parameters + 1L) * (parameters + 1L);

    /// <summary>Bootstrap work of one model, as the budget counts it.</summary>
    public static long BootstrapWork(long rows, int parameters, int replications) =>
        replications * rows * (parameters + 1L);

    /// <summary>
    /// Checks one model's size against the per-model limits and returns its fit and bootstrap
    /// work; <paramref name="field"/> prefixes the fields named (<c>models[3].</c> in a batch).
    /// </summary>
    public (long Fit, long Bootstrap) CheckModel(
        long rows,
        int parameters,
        int replications,
        string field = "",
        bool influence = false
    )
    {
        if (parameters > MaxParameters)
            throw Over(
                field + "regressors",
                $"The model has {parameters:N0} parameters (regressors, products and the intercept)",
                MaxParameters,
                nameof(MaxParameters),
                "Fit fewer regressors."
            );
        if (replications > MaxReplications)
            throw Over(
                field + "bootstrap.replications",
                $"The model asks for {replications:N0} bootstrap replications",
                MaxReplications,
                nameof(MaxReplications),
                "Ask for fewer replications."
            );
        if (rows * parameters > MaxDesignValues)
            throw Over(
                field + "columns",
                $"The design matrix would hold {rows:N0} rows × {parameters:N0} parameters = {rows * parameters:N0} values",
                MaxDesignValues,
                nameof(MaxDesignValues),
                "Fit a sample or fewer regressors."
            );
        if (influence && rows * parameters > MaxInfluenceValues)
            throw Over(
                field + "influence",
                $"Leave-one-out influence would reply with {rows:N0} rows × {parameters:N0} coefficients = {rows * parameters:N0} values",
                MaxInfluenceValues,
                nameof(MaxInfluenceValues),
                "Ask for influence on a smaller sample."
            );
        return (FitWork(rows, parameters), BootstrapWork(rows, parameters, replications));
    }

    /// <summary>Checks a call's summed work; the fields named are the given ones.</summary>
    public void CheckWork(
        long fit,
        long bootstrap,
        string fitField = "columns",
        string bootstrapField = "bootstrap.replications"
    )
    {
        if (fit > MaxFitWork)
            throw Over(
                fitField,
                $"The call asks for {fit:N0} units of fitting (rows × (parameters + 1)²)",
                MaxFitWork,
                nameof(MaxFitWork),
                "Fit fewer rows, regressors or models per call."
            );
        if (bootstrap > MaxBootstrapWork)
            throw Over(
                bootstrapField,
                $"The call asks for {bootstrap:N0} units of bootstrap (replications × rows × (parameters + 1))",
                MaxBootstrapWork,
                nameof(MaxBootstrapWork),
                "Ask for fewer replications."
            );
    }

    private static WorkLimitException Over(string field, string what, long limit, string name, string advice) =>
        new(
            field.Length == 0 ? "columns" : field,
            string.Create(CultureInfo.InvariantCulture, $"{what}; the limit is {limit:N0} ({Key(name)}). {advice}")
        );
}
