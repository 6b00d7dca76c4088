using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// Channels to the services. Retries live here and only here: a gRPC service-config
/// retry on <c>UNAVAILABLE</c> for every method (all of them are side-effect free).
/// </summary>
public static class GrpcChannels
{
    /// <summary>Largest response accepted (studies carry many fits).</summary>
    public const int MaxReceiveBytes = 256 * 1024 * 1024;

    /// <summary>Attempts per call, the first included.</summary>
    public const int MaxAttempts = 7;

    /// <summary>
    /// The retry policy: 7 attempts with randomised exponential backoff (each wait drawn up to
    /// 0.4 s, doubling to at most 2 s: 8.8 s at the very most, about 4.4 s on average), on
    /// UNAVAILABLE only: enough to ride out a restarting service even when the draws are
    /// short, short enough that a service that is down fails the call within seconds.
    /// </summary>
    public static ServiceConfig RetryConfig() =>
        new()
        {
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = MaxAttempts,
                        InitialBackoff = TimeSpan.FromSeconds(0.4),
                        MaxBackoff = TimeSpan.FromSeconds(2),
                        BackoffMultiplier = 2,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
        };

    /// <summary>
    /// The one rule for a service address: <c>http(s)://host:port</c>, <c>dns:///host:port</c> or
    /// <c>static:///…</c>, or <c>host:port</c> taken as http. Every part of a comma list must pass.
    /// </summary>
    public static bool TryParseAddress(string address, out Uri uri)
    {
        var url = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        return Uri.TryCreate(url, UriKind.Absolute, out uri!) && uri.Scheme is "http" or "https" or "dns" or "static";
    }

    /// <summary>How often a <c>dns:///</c> address is resolved again, so new replicas get traffic.</summary>
    public static readonly TimeSpan DnsRefresh = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A channel from an address string: <c>http://host:port</c>; <c>dns:///host:port</c>
    /// (round-robin over every address the name resolves to, re-resolved every
    /// <see cref="DnsRefresh"/>; for a headless Kubernetes Service); or several
    /// <c>http://</c> addresses separated by commas (round-robin over them, via <c>static:///</c>).
    /// </summary>
    public static GrpcChannel Create(string addresses)
    {
        var target = ChannelTarget.Of(addresses);
        return Create(target.Address, target.Apply);
    }

    /// <summary>
    /// Registers the gRPC client <typeparamref name="TClient"/> under <paramref name="name"/> with
    /// the client factory (<c>AddGrpcClient</c>), on the same rules as <see cref="Create(string)"/>:
    /// the address forms, round-robin, the retry policy, the message limits and the connection
    /// timeouts. The factory keeps one channel per name and client type.
    /// </summary>
    public static IHttpClientBuilder AddServiceClient<TClient>(
        this IServiceCollection services,
        string name,
        string addresses
    )
        where TClient : class
    {
        var target = ChannelTarget.Of(addresses);
        return services
            .AddGrpcClient<TClient>(name, o => o.Address = target.Address)
            .ConfigurePrimaryHttpMessageHandler(NewHandler)
            .ConfigureChannel(o =>
            {
                ApplyDefaults(o);
                target.Apply(o);
            });
    }

    /// <summary>A channel to one address (<c>http://host:port</c>, or <c>dns:///</c> / <c>static:///</c> with load balancing).</summary>
    public static GrpcChannel Create(Uri address, Action<GrpcChannelOptions>? configure = null)
    {
        var options = new GrpcChannelOptions { HttpHandler = NewHandler() };
        ApplyDefaults(options);
        configure?.Invoke(options);
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>The message limits and the retry policy every channel gets.</summary>
    private static void ApplyDefaults(GrpcChannelOptions options)
    {
        options.MaxReceiveMessageSize = MaxReceiveBytes;
        options.MaxSendMessageSize = null;
        options.ServiceConfig = RetryConfig();
        options.MaxRetryAttempts = MaxAttempts;
        options.MaxRetryBufferPerCallSize = 16 * 1024 * 1024;
    }

    /// <summary>The connection settings every channel gets: several HTTP/2 connections, a connect timeout, keep-alive pings.</summary>
    private static SocketsHttpHandler NewHandler() =>
        new()
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>
    /// Where a channel points: the address it is created for and, for <c>dns:///</c> and comma
    /// lists, the resolver and round-robin balancing that go with it.
    /// </summary>
    private sealed record ChannelTarget(Uri Address, IServiceProvider? Resolvers)
    {
        public static ChannelTarget Of(string addresses)
        {
            var parts = addresses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 1)
            {
                var endpoints = parts
                    .Select(p => new Uri(p.Contains("://", StringComparison.Ordinal) ? p : "http://" + p))
                    .Select(u => new BalancerAddress(u.Host, u.Port))
                    .ToArray();
                var services = new ServiceCollection();
                services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => endpoints));
                return new ChannelTarget(new Uri("static:///replicas"), services.BuildServiceProvider());
            }
            var single = new Uri(
                parts.Length == 1 && parts[0].Contains("://", StringComparison.Ordinal)
                    ? parts[0]
                    : "http://" + addresses.Trim()
            );
            if (single.Scheme == "dns")
            {
                var services = new ServiceCollection();
                services.AddSingleton<ResolverFactory>(new DnsResolverFactory(refreshInterval: DnsRefresh));
                return new ChannelTarget(single, services.BuildServiceProvider());
            }
            return new ChannelTarget(single, null);
        }

        /// <summary>Sets the resolver and round-robin balancing on a channel's options, when the address needs them.</summary>
        public void Apply(GrpcChannelOptions options)
        {
            if (Resolvers is null)
                return;
            options.ServiceProvider = Resolvers;
            options.Credentials = ChannelCredentials.Insecure;
            options.ServiceConfig!.LoadBalancingConfigs.Add(new RoundRobinConfig());
        }
    }
}
