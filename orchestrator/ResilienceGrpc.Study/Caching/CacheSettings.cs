namespace ResilienceGrpc.Study.Caching;

/// <summary>
/// How intermediates are cached. Without <see cref="Redis"/> the cache is in memory only;
/// with it, Redis is the shared second level. The timeouts keep a dead Redis from costing
/// more than a moment per lookup.
/// </summary>
/// <param name="Redis">Redis as <c>host:port</c> (or a StackExchange.Redis configuration string).</param>
/// <param name="OperationTimeout">Longest wait for one Redis operation before it counts as unavailable.</param>
/// <param name="RetryAfter">After Redis fails, how long operations skip it before one probe tries it again (the circuit's break).</param>
public sealed record CacheSettings(string? Redis, TimeSpan OperationTimeout, TimeSpan RetryAfter)
{
    /// <summary>Redis at <paramref name="redis"/> (none: memory only), each operation bounded by <paramref name="operationTimeoutMs"/> (default 500 ms).</summary>
    /// <exception cref="ArgumentException">A timeout that is not a number of milliseconds between 1 and 60,000.</exception>
    public static CacheSettings From(string? redis, string? operationTimeoutMs = null)
    {
        double ms = 500;
        if (
            operationTimeoutMs is { Length: > 0 } t
            && !(
                double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out ms) && ms is > 0 and <= 60_000
            )
        )
            throw new ArgumentException(
                $"Cache:OperationTimeoutMs = '{t}' is not a timeout; give milliseconds between 1 and 60000."
            );
        return new(
            string.IsNullOrWhiteSpace(redis) ? null : redis,
            TimeSpan.FromMilliseconds(ms),
            TimeSpan.FromSeconds(5)
        );
    }

    public static CacheSettings InMemory { get; } = new(null, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
}
