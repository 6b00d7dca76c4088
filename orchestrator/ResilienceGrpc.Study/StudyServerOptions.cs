using Microsoft.Extensions.Configuration;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Study;

/// <summary>
/// The study server's settings, bound from configuration (environment variables such as
/// <c>Services__regression</c>, or <c>--Services:regression=...</c> on the command line) and
/// checked at start: every key the server cannot run without is named when it is missing or
/// malformed.
/// </summary>
/// <param name="Endpoints">The three services (<c>Services:indexing</c>, <c>Services:projection</c>, <c>Services:regression</c>).</param>
/// <param name="Cache">The cache (<c>ConnectionStrings:redis</c>, <c>Cache:OperationTimeoutMs</c>).</param>
/// <param name="Port">TCP port (<c>Server:Port</c>, default 8080).</param>
/// <param name="Bind">Address to listen on (<c>Server:Bind</c>, default 0.0.0.0).</param>
public sealed record StudyServerOptions(StudyEndpoints Endpoints, CacheSettings Cache, int Port, string Bind)
{
    /// <summary>Binds and validates; throws <see cref="InvalidOperationException"/> naming the key at fault.</summary>
    public static StudyServerOptions FromConfiguration(IConfiguration config)
    {
        string Address(string service)
        {
            string key = $"Services:{service}";
            var value = config[key];
            if (string.IsNullOrWhiteSpace(value))
                throw new InvalidOperationException(
                    $"{key} is not set; give the {service} service's address, for example Services__{service}=http://{service}:8080."
                );
            foreach (
                var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            )
                if (!GrpcChannels.TryParseAddress(part, out _))
                    throw new InvalidOperationException(
                        $"{key} = '{part}' is not an address; give one like http://{service}:8080 or dns:///{service}:8080."
                    );
            return value;
        }
        int port = 8080;
        if (config["Server:Port"] is { Length: > 0 } p && !(int.TryParse(p, out port) && port is >= 0 and <= 65535))
            throw new InvalidOperationException($"Server:Port = '{p}' is not a TCP port; use 0 to 65535.");
        string bind = config["Server:Bind"] is { Length: > 0 } b ? b : "0.0.0.0";
        if (bind != "localhost" && !System.Net.IPAddress.TryParse(bind, out _))
            throw new InvalidOperationException(
                $"Server:Bind = '{bind}' is not an IP address; use 0.0.0.0 or 127.0.0.1."
            );
        // An unusable setting is an InvalidConfigurationException (an InvalidOperationException).
        var cache = CacheSettings.From(config["ConnectionStrings:redis"], config["Cache:OperationTimeoutMs"]);
        return new StudyServerOptions(
            new StudyEndpoints(Address("indexing"), Address("projection"), Address("regression")),
            cache,
            port,
            bind
        );
    }
}
