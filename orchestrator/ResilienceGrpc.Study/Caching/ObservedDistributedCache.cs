using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace ResilienceGrpc.Study.Caching;

/// <summary>
/// The second cache level (Redis) made safe to depend on nothing: every operation is
/// bounded by <see cref="CacheSettings.OperationTimeout"/>, and a failure never escapes (a
/// read becomes a miss, a write is dropped). A circuit breaker (Polly) opens when Redis
/// fails, so a dead Redis costs one short wait, not one per lookup; after
/// <see cref="CacheSettings.RetryAfter"/> it lets one operation through as a probe, and closes
/// again when that succeeds, so the cache recovers while traffic continues. It also records
/// which keys were served from it and when it last failed, so the report can say "redis" or
/// "unavailable".
/// </summary>
public sealed partial class ObservedDistributedCache(
    IDistributedCache inner,
    CacheSettings settings,
    string description,
    ILogger<ObservedDistributedCache> logger
) : IDistributedCache
{
    private readonly ConcurrentDictionary<string, byte> _served = new(StringComparer.Ordinal);
    private long _lastFailure; // Stopwatch timestamp of the last failure; 0 = never
    private long _attempts,
        _skipped;

    /// <summary>Operations sent to the level (each bounded by the operation timeout).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Operations not sent because the level had just failed.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>What the level is, for messages ("Redis at 127.0.0.1:6379").</summary>
    public string Description { get; } = description;

    /// <summary>Whether an operation failed at or after the given <see cref="Stopwatch"/> timestamp.</summary>
    public bool FailedSince(long timestamp) =>
        Interlocked.Read(ref _lastFailure) is var last && last != 0 && last >= timestamp;

    /// <summary>Whether the key was read from this level since the last call (and forgets it).</summary>
    public bool TakeServed(string key) => _served.TryRemove(key, out _);

    /// <summary>Open after failures (operations skip Redis), half-open after the break (one probe), closed on a success.</summary>
    private readonly ResiliencePipeline _pipeline = new ResiliencePipelineBuilder()
        .AddCircuitBreaker(
            new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = settings.RetryAfter,
            }
        )
        .AddTimeout(settings.OperationTimeout)
        .Build();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var value = await Guard(() => inner.GetAsync(key, token), token);
        if (value is not null)
            _served[key] = 0;
        return value;
    }

    public Task SetAsync(
        string key,
        byte[] value,
        DistributedCacheEntryOptions options,
        CancellationToken token = default
    ) =>
        Guard<object?>(
            async () =>
            {
                await inner.SetAsync(key, value, options, token);
                return null;
            },
            token
        );

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        Guard<object?>(
            async () =>
            {
                await inner.RefreshAsync(key, token);
                return null;
            },
            token
        );

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        Guard<object?>(
            async () =>
            {
                await inner.RemoveAsync(key, token);
                return null;
            },
            token
        );

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        SetAsync(key, value, options).GetAwaiter().GetResult();

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    private async Task<T?> Guard<T>(Func<Task<T>> operation, CancellationToken token)
    {
        try
        {
            return await _pipeline.ExecuteAsync(
                async attempt =>
                {
                    Interlocked.Increment(ref _attempts);
                    // The timeout (and the caller) cancel the wait even when the client ignores the token.
                    return await operation().WaitAsync(attempt);
                },
                token
            );
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (BrokenCircuitException)
        {
            // Skipped while the circuit is open (or another operation is the probe); not a new failure of Redis.
            Interlocked.Increment(ref _skipped);
            Interlocked.Exchange(ref _lastFailure, Stopwatch.GetTimestamp());
            return default;
        }
        catch (Exception e)
        {
            Interlocked.Exchange(ref _lastFailure, Stopwatch.GetTimestamp());
            LogUnavailable(Description, e.GetType().Name);
            return default;
        }
    }

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "The cache's second level ({Description}) is unavailable ({Reason}); computing without it"
    )]
    private partial void LogUnavailable(string description, string reason);
}
