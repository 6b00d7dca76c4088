using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Study;

/// <summary>
/// The study server's work budget (configuration section <c>Limits:Study</c>, e.g.
/// <c>Limits__Study__MaxSpecifications</c>), checked before any service is called. A spec
/// over a limit gets RESOURCE_EXHAUSTED naming the limit's key.
/// </summary>
public sealed class StudyLimits
{
    /// <summary>The configuration section's name under <c>Limits</c>.</summary>
    public const string Service = "Study";

    /// <summary>Most tables in one spec.</summary>
    public int MaxTables { get; set; } = 100;

    /// <summary>Most regressions over all of a spec's tables.</summary>
    public int MaxModels { get; set; } = 1_000;

    /// <summary>Most specifications in one specification curve.</summary>
    public int MaxSpecifications { get; set; } = 100_000;

    /// <summary>Most bootstrap work of one curve: Σ replications × rows × (parameters + 1).</summary>
    public long MaxCurveBootstrapWork { get; set; } = 4_000_000_000;

    /// <summary>Most specifications per <c>FitBatch</c> call to the regression service.</summary>
    public int BatchModels { get; set; } = 128;

    /// <summary>
    /// Most work per <c>FitBatch</c> call (fitting or bootstrap, as the regression service
    /// counts them); at most that service's per-call budgets (<c>Limits:Regression:MaxFitWork</c>
    /// and <c>MaxBootstrapWork</c>), so a batch is never refused there and heavy curves spread
    /// over more calls and replicas. A curve with one specification over it is refused at the start.
    /// </summary>
    public long BatchWork { get; set; } = 250_000_000;

    /// <summary>The defaults.</summary>
    public static StudyLimits Default { get; } = new();

    /// <summary>The key a refusal names, e.g. <c>Limits:Study:MaxTables</c>.</summary>
    public static string Key(string limit) => ServiceLimits.Key(Service, limit);
}
