using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// Channels to the services. Retries live here: a gRPC service-config retry on
/// <c>UNAVAILABLE</c> for every method (all of them are side-effect free) but the streamed
/// fit, whose sender sends the whole stream again itself (<c>Verbs.Stream</c>): the channel
/// would copy every chunk into its replay buffer first, which cost more than the transfer.
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
                // No channel retry (no replay buffer) for the streamed fit; see the class summary.
                new MethodConfig { Names = { new MethodName { Service = StreamedService, Method = StreamedMethod } } },
            },
        };

    /// <summary>The streamed fit's service and method, which the channel does not retry.</summary>
    public const string StreamedService = "resilience.regression.v1.RegressionService",
        StreamedMethod = "FitStream";

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
    /// A channel from an address string: <c>http(s)://host:port</c>; <c>dns:///host:port</c>
    /// (round-robin over every address the name resolves to, re-resolved every
    /// <see cref="DnsRefresh"/>; for a headless Kubernetes Service; cleartext); or several
    /// <c>http://</c> or <c>https://</c> addresses separated by commas (round-robin over them,
    /// via <c>static:///</c>). <paramref name="security"/> adds a bearer token to every call and
    /// a certificate to trust for TLS.
    /// </summary>
    public static GrpcChannel Create(string addresses, ChannelSecurity? security = null)
    {
        var target = ChannelTarget.Of(addresses);
        return Create(target.Address, o => target.Apply(o, security), security);
    }

    /// <summary>
    /// Registers the gRPC client <typeparamref name="TClient"/> under <paramref name="name"/> with
    /// the client factory (<c>AddGrpcClient</c>), on the same rules as <see cref="Create(string, ChannelSecurity?)"/>:
    /// the address forms, round-robin, the retry policy, the message limits, the connection
    /// timeouts and the security. The factory keeps one channel per name and client type.
    /// </summary>
    public static IHttpClientBuilder AddServiceClient<TClient>(
        this IServiceCollection services,
        string name,
        string addresses,
        ChannelSecurity? security = null
    )
        where TClient : class
    {
        var target = ChannelTarget.Of(addresses);
        return services
            .AddGrpcClient<TClient>(name, o => o.Address = target.Address)
            .ConfigurePrimaryHttpMessageHandler(() => NewHandler(security))
            .ConfigureChannel(o =>
            {
                ApplyDefaults(o);
                target.Apply(o, security);
            });
    }

    /// <summary>A channel to one address (<c>http(s)://host:port</c>, or <c>dns:///</c> / <c>static:///</c> with load balancing).</summary>
    public static GrpcChannel Create(
        Uri address,
        Action<GrpcChannelOptions>? configure = null,
        ChannelSecurity? security = null
    )
    {
        var options = new GrpcChannelOptions { HttpHandler = NewHandler(security) };
        ApplyDefaults(options);
        if (security?.Token is not null && address.Scheme is "http" or "https")
            options.Credentials = Credentials(address.Scheme == "https", security);
        configure?.Invoke(options);
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>
    /// The channel's credentials: TLS or not, with the bearer token on every call when there is
    /// one. Inside a cluster the token may travel over h2c (behind network policies); across
    /// networks, serve TLS.
    /// </summary>
    private static ChannelCredentials Credentials(bool tls, ChannelSecurity? security)
    {
        ChannelCredentials transport = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        if (security?.Token is not { } token)
            return transport;
        var bearer = CallCredentials.FromInterceptor(
            (_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            }
        );
        return ChannelCredentials.Create(transport, bearer);
    }

    /// <summary>The message limits and the retry policy every channel gets.</summary>
    private static void ApplyDefaults(GrpcChannelOptions options)
    {
        options.MaxReceiveMessageSize = MaxReceiveBytes;
        options.MaxSendMessageSize = null;
        options.ServiceConfig = RetryConfig();
        options.MaxRetryAttempts = MaxAttempts;
        options.MaxRetryBufferPerCallSize = 16 * 1024 * 1024;
        // A token may travel over h2c inside a cluster; Grpc.Net.Client refuses that unless told.
        options.UnsafeUseInsecureChannelCallCredentials = true;
    }

    /// <summary>
    /// The connection settings every channel gets: several HTTP/2 connections, a connect timeout,
    /// keep-alive pings, and the certificate to trust when one is given.
    /// </summary>
    private static SocketsHttpHandler NewHandler(ChannelSecurity? security = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        };
        if (security?.Trust is { } trust)
        {
            // Trust the given certificate (a private CA or a self-signed server) beside the system's roots.
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust };
            policy.CustomTrustStore.Add(trust);
            policy.RevocationMode = X509RevocationMode.NoCheck;
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }
        return handler;
    }

    /// <summary>
    /// Where a channel points: the address it is created for and, for <c>dns:///</c> and comma
    /// lists, the resolver and round-robin balancing that go with it (TLS when every listed
    /// address is https).
    /// </summary>
    private sealed record ChannelTarget(Uri Address, IServiceProvider? Resolvers, bool Tls)
    {
        public static ChannelTarget Of(string addresses)
        {
            var parts = addresses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 1)
            {
                var uris = parts
                    .Select(p => new Uri(p.Contains("://", StringComparison.Ordinal) ? p : "http://" + p))
                    .ToArray();
                var endpoints = uris.Select(u => new BalancerAddress(u.Host, u.Port)).ToArray();
                var services = new ServiceCollection();
                services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => endpoints));
                return new ChannelTarget(
                    new Uri("static:///replicas"),
                    services.BuildServiceProvider(),
                    uris.All(u => u.Scheme == "https")
                );
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
                return new ChannelTarget(single, services.BuildServiceProvider(), false);
            }
            return new ChannelTarget(single, null, single.Scheme == "https");
        }

        /// <summary>Sets the resolver, round-robin balancing and credentials on a channel's options, as the address needs.</summary>
        public void Apply(GrpcChannelOptions options, ChannelSecurity? security)
        {
            if (Resolvers is null)
            {
                if (security?.Token is not null)
                    options.Credentials = Credentials(Tls, security);
                return;
            }
            options.ServiceProvider = Resolvers;
            options.Credentials = Credentials(Tls, security);
            options.ServiceConfig!.LoadBalancingConfigs.Add(new RoundRobinConfig());
        }
    }
}
