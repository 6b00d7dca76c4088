namespace ResilienceGrpc.Study.Caching;

/// <summary>
/// How intermediates are cached. Without <see cref="Redis"/> the cache is in memory only;
/// with it, Redis is the shared second level. The timeouts keep a dead Redis from costing
/// more than a moment per lookup.
/// </summary>
/// <param name="Redis">Redis as <c>host:port</c> (or a StackExchange.Redis configuration string).</param>
/// <param name="OperationTimeout">Longest wait for one Redis operation before it counts as unavailable.</param>
/// <param name="RetryAfter">After a failure, how long lookups skip Redis before trying it again.</param>
public sealed record CacheSettings(string? Redis, TimeSpan OperationTimeout, TimeSpan RetryAfter)
{
    public static CacheSettings FromEnvironment(string? redis = null) => new(
        redis ?? Environment.GetEnvironmentVariable(ServiceDefaults.ConfigurationKeys.Redis),
        TimeSpan.FromMilliseconds(double.TryParse(Environment.GetEnvironmentVariable(ServiceDefaults.ConfigurationKeys.CacheOperationTimeoutMs), out var ms) ? ms : 500),
        TimeSpan.FromSeconds(5));

    public static CacheSettings InMemory { get; } = new(null, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
}
