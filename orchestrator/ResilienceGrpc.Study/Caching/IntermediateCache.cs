using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using StackExchange.Redis;

namespace ResilienceGrpc.Study.Caching;

/// <summary>
/// Content-addressed cache of the study's intermediates (indices, projections) on
/// HybridCache: an in-process first level and, when configured, Redis as the shared
/// second. The key is the SHA-256 of the request's canonical protobuf bytes (which hold
/// the data and the method options) and the algorithm version, so identical inputs always
/// hit and any change misses. Failures are never cached: only a computed value is stored.
/// </summary>
public sealed class IntermediateCache(HybridCache cache, IServiceProvider services)
{
    /// <summary>Bump when any service's mathematics changes, so old entries stop matching.</summary>
    public const string AlgorithmVersion = "resilience-math-v1";

    private readonly ObservedDistributedCache? _l2 =
        services.GetService<IDistributedCache>() as ObservedDistributedCache;

    /// <summary>The content-addressed key of an intermediate computed from <paramref name="request"/>.</summary>
    public static string Key(string intermediate, IMessage request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(
            System.Text.Encoding.UTF8.GetBytes(
                AlgorithmVersion + "\n" + intermediate + "\n" + request.Descriptor.FullName + "\n"
            )
        );
        hash.AppendData(request.ToByteArray());
        return $"resilience:{intermediate}:{Convert.ToHexStringLower(hash.GetHashAndReset())}";
    }

    /// <summary>Whether a shared second level is configured, and what it is.</summary>
    public string? SharedLevel => _l2?.Description;

    /// <summary>Returns the cached value for the request, or computes and stores it; says which it was.</summary>
    public async Task<(T Value, CacheEvent Event)> GetOrComputeAsync<T>(
        string intermediate,
        IMessage request,
        Func<CancellationToken, Task<T>> compute,
        CancellationToken ct
    )
        where T : IMessage<T>
    {
        string key = Key(intermediate, request);
        using var span = Telemetry.Source.StartActivity("cache.lookup");
        span?.SetTag("cache.intermediate", intermediate);
        span?.SetTag("cache.key", key);
        span?.SetTag("cache.level2", _l2?.Description ?? "none");
        long started = Stopwatch.GetTimestamp();
        bool computed = false;
        // HybridCache may run the factory on another execution context (it shares one
        // computation among concurrent callers), which drops Activity.Current: parent the
        // computation on the lookup explicitly so the service calls stay in the study's trace.
        var parent = span?.Context ?? Activity.Current?.Context ?? default;
        var value = await cache.GetOrCreateAsync(
            key,
            async token =>
            {
                computed = true;
                using var computing = Telemetry.Source.StartActivity("cache.compute", ActivityKind.Internal, parent);
                computing?.SetTag("cache.intermediate", intermediate);
                return await compute(token);
            },
            cancellationToken: ct
        );

        bool servedByL2 = _l2?.TakeServed(key) ?? false;
        var status =
            !computed ? CacheStatus.Hit
            : _l2 is not null && _l2.FailedSince(started) ? CacheStatus.Unavailable
            : CacheStatus.Miss;
        string source =
            computed ? "computed"
            : servedByL2 ? "redis"
            : "memory";
        var e = new CacheEvent
        {
            Intermediate = intermediate,
            Key = key,
            Status = status,
            Source = source,
            SizeBytes = value.CalculateSize(),
        };
        span?.SetTag("cache.hit", !computed);
        span?.SetTag("cache.status", Words(status));
        span?.SetTag("cache.source", source);
        span?.SetTag("cache.bytes", e.SizeBytes);
        Telemetry.CacheLookups.Add(
            1,
            new KeyValuePair<string, object?>("cache.intermediate", intermediate),
            new KeyValuePair<string, object?>("cache.status", Words(status))
        );
        return (value, e);
    }

    public static string Words(CacheStatus s) =>
        s switch
        {
            CacheStatus.Hit => "hit",
            CacheStatus.Miss => "miss",
            CacheStatus.Unavailable => "unavailable",
            _ => "unspecified",
        };
}

/// <summary>Registration of the cache in a host.</summary>
public static class CacheRegistration
{
    /// <summary>Largest cached value: 256 MiB (HybridCache's 1 MiB default would skip real indices silently).</summary>
    public const long MaximumPayloadBytes = 256L * 1024 * 1024;

    public static IServiceCollection AddIntermediateCache(this IServiceCollection services, CacheSettings settings)
    {
        services
            .AddHybridCache(o =>
            {
                o.MaximumPayloadBytes = MaximumPayloadBytes;
                o.MaximumKeyLength = 1024;
                o.DefaultEntryOptions = new HybridCacheEntryOptions
                {
                    Expiration = TimeSpan.FromDays(30),
                    LocalCacheExpiration = TimeSpan.FromHours(6),
                };
            })
            .AddSerializerFactory<ProtobufSerializerFactory>();
        if (!string.IsNullOrWhiteSpace(settings.Redis))
        {
            var configuration = ConfigurationOptions.Parse(settings.Redis);
            configuration.AbortOnConnectFail = false;
            configuration.ConnectTimeout = (int)Math.Max(100, settings.OperationTimeout.TotalMilliseconds * 2);
            configuration.AsyncTimeout = (int)Math.Max(100, settings.OperationTimeout.TotalMilliseconds);
            configuration.SyncTimeout = (int)Math.Max(100, settings.OperationTimeout.TotalMilliseconds);
            configuration.ConnectRetry = 1;
            services.AddSingleton<IDistributedCache>(sp => new ObservedDistributedCache(
                new RedisCache(Options.Create(new RedisCacheOptions { ConfigurationOptions = configuration })),
                settings,
                $"Redis at {settings.Redis}",
                sp.GetRequiredService<ILogger<ObservedDistributedCache>>()
            ));
        }
        services.AddSingleton<IntermediateCache>();
        return services;
    }
}

/// <summary>Protobuf serialization for every message type HybridCache stores.</summary>
public sealed class ProtobufSerializerFactory : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>(
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer
    )
    {
        if (
            typeof(IMessage).IsAssignableFrom(typeof(T))
            && typeof(T).GetProperty("Parser")?.GetValue(null) is MessageParser parser
        )
        {
            serializer = new Serializer<T>(parser);
            return true;
        }
        serializer = null;
        return false;
    }

    private sealed class Serializer<T>(MessageParser parser) : IHybridCacheSerializer<T>
    {
        public T Deserialize(ReadOnlySequence<byte> source) => (T)parser.ParseFrom(source);

        public void Serialize(T value, IBufferWriter<byte> target) => ((IMessage)value!).WriteTo(target);
    }
}
