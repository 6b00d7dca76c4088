using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace ResilienceGrpc.Study.Caching;

/// <summary>
/// The second cache level (Redis) made safe to depend on nothing: every operation is
/// bounded by <see cref="CacheSettings.OperationTimeout"/>, a failure never escapes (a read
/// becomes a miss, a write is dropped), and after a failure the level is skipped for
/// <see cref="CacheSettings.RetryAfter"/>, so a dead Redis costs one short wait, not one per
/// lookup. It also records which keys were served from it and when it last failed, so the
/// report can say "redis" or "unavailable".
/// </summary>
public sealed partial class ObservedDistributedCache(IDistributedCache inner, CacheSettings settings, string description, ILogger<ObservedDistributedCache> logger) : IDistributedCache
{
    private readonly ConcurrentDictionary<string, byte> _served = new(StringComparer.Ordinal);
    private long _lastFailure; // Stopwatch timestamp of the last failure; 0 = never
    private long _attempts, _skipped;

    /// <summary>Operations sent to the level (each bounded by the operation timeout).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Operations not sent because the level had just failed.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>What the level is, for messages ("Redis at 127.0.0.1:6379").</summary>
    public string Description { get; } = description;

    /// <summary>Whether an operation failed at or after the given <see cref="Stopwatch"/> timestamp.</summary>
    public bool FailedSince(long timestamp) => Interlocked.Read(ref _lastFailure) is var last && last != 0 && last >= timestamp;

    /// <summary>Whether the key was read from this level since the last call (and forgets it).</summary>
    public bool TakeServed(string key) => _served.TryRemove(key, out _);

    private bool Skipping => Interlocked.Read(ref _lastFailure) is var last && last != 0 && Stopwatch.GetElapsedTime(last) < settings.RetryAfter;

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var value = await Guard(() => inner.GetAsync(key, token), token);
        if (value is not null) _served[key] = 0;
        return value;
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        => Guard<object?>(async () => { await inner.SetAsync(key, value, options, token); return null; }, token);

    public Task RefreshAsync(string key, CancellationToken token = default)
        => Guard<object?>(async () => { await inner.RefreshAsync(key, token); return null; }, token);

    public Task RemoveAsync(string key, CancellationToken token = default)
        => Guard<object?>(async () => { await inner.RemoveAsync(key, token); return null; }, token);

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    private async Task<T?> Guard<T>(Func<Task<T>> operation, CancellationToken token)
    {
        if (Skipping)
        {
            Interlocked.Increment(ref _skipped);
            Interlocked.Exchange(ref _lastFailure, Stopwatch.GetTimestamp());
            return default;
        }
        Interlocked.Increment(ref _attempts);
        try
        {
            return await operation().WaitAsync(settings.OperationTimeout, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            Interlocked.Exchange(ref _lastFailure, Stopwatch.GetTimestamp());
            LogUnavailable(Description, e.GetType().Name);
            return default;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cache's second level ({Description}) is unavailable ({Reason}); computing without it")]
    private partial void LogUnavailable(string description, string reason);
}
