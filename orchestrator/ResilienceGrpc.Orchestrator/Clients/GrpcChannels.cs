using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace ResilienceGrpc.Orchestrator.Clients;

/// <summary>
/// Channels to the services. Retries live here and only here: a gRPC service-config
/// retry on <c>UNAVAILABLE</c> for every method (all of them are side-effect free).
/// </summary>
public static class GrpcChannels
{
    /// <summary>Largest response accepted (studies carry many fits).</summary>
    public const int MaxReceiveBytes = 256 * 1024 * 1024;

    /// <summary>The retry policy: 4 attempts, 0.2 s to 2 s backoff, on UNAVAILABLE only.</summary>
    public static ServiceConfig RetryConfig() => new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 4,
                    InitialBackoff = TimeSpan.FromSeconds(0.2),
                    MaxBackoff = TimeSpan.FromSeconds(2),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    /// <summary>A channel to one address (<c>http://host:port</c>, or <c>dns:///</c> / <c>static:///</c> with load balancing).</summary>
    public static GrpcChannel Create(Uri address, Action<GrpcChannelOptions>? configure = null)
    {
        var options = new GrpcChannelOptions
        {
            MaxReceiveMessageSize = MaxReceiveBytes,
            MaxSendMessageSize = null,
            ServiceConfig = RetryConfig(),
            MaxRetryBufferPerCallSize = 16 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            },
        };
        configure?.Invoke(options);
        return GrpcChannel.ForAddress(address, options);
    }
}
