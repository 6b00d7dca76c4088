using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Indexing.Api;

/// <summary>
/// The indexing service's work budget (configuration section <c>Limits:Indexing</c>, e.g.
/// <c>Limits__Indexing__MaxIndicators</c>), checked before any work. CRITIC weighting
/// correlates every pair of indicators, so its work grows with their square; with the
/// 4 MiB message limit bounding the values, the indicator count bounds the call.
/// </summary>
public sealed class IndexingLimits
{
    /// <summary>The configuration section's name under <c>Limits</c>.</summary>
    public const string Service = "Indexing";

    /// <summary>Most indicators one index may weigh.</summary>
    public int MaxIndicators { get; set; } = 1_000;

    /// <summary>Refuses a request over the budget with RESOURCE_EXHAUSTED naming the limit's key.</summary>
    public void Check(int indicators)
    {
        if (indicators > MaxIndicators)
            throw new WorkLimitException(
                "indicators",
                $"The request has {indicators:N0} indicators; the limit is {MaxIndicators:N0} ({ServiceLimits.Key(Service, nameof(MaxIndicators))}). Weigh fewer indicators per call."
            );
    }
}
