using ResilienceGrpc.ServiceDefaults;

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
    /// <exception cref="InvalidConfigurationException">
    /// A timeout that is not a number of milliseconds between 1 and 60,000, or a Redis address
    /// that StackExchange.Redis cannot use (a port past 65535, a host that is not a name or an IP
    /// address, an unknown option).
    /// </exception>
    public static CacheSettings From(string? redis, string? operationTimeoutMs = null)
    {
        double ms = 500;
        if (
            operationTimeoutMs is { Length: > 0 } t
            && !(
                double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out ms) && ms is > 0 and <= 60_000
            )
        )
            throw new InvalidConfigurationException(
                $"Cache:OperationTimeoutMs = '{t}' is not a timeout; give milliseconds between 1 and 60000."
            );
        redis = string.IsNullOrWhiteSpace(redis) ? null : redis;
        if (redis is not null && !IsRedisAddress(redis))
            throw new InvalidConfigurationException(
                $"The Redis address '{redis}' (--redis, or ConnectionStrings:redis) is not HOST:PORT with a port up to 65535 nor a StackExchange.Redis configuration string; give one like localhost:6379."
            );
        return new(redis, TimeSpan.FromMilliseconds(ms), TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Whether StackExchange.Redis parses the address and every endpoint's host is a host name
    /// ('_' allowed, as container names have it) or an IP address. StackExchange.Redis takes
    /// ':::::' or 'a b' as host names, failing only at each lookup, and throws its own exception
    /// for a port past 65535 at the first connection.
    /// </summary>
    private static bool IsRedisAddress(string redis)
    {
        StackExchange.Redis.ConfigurationOptions options;
        try
        {
            options = StackExchange.Redis.ConfigurationOptions.Parse(redis);
        }
        catch (ArgumentException)
        {
            return false;
        }
        return options.EndPoints.Count > 0
            && options.EndPoints.All(e =>
                e is System.Net.IPEndPoint
                || e is System.Net.DnsEndPoint d && d.Host.Length > 0 && d.Host.All(IsHostChar)
            );
    }

    /// <summary>A character of a host name (letters, digits, '-', '.', and '_' as container names use).</summary>
    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_';

    public static CacheSettings InMemory { get; } = new(null, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
}
