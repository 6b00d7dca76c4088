namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// The names the code reads from its environment, and the names the deployment uses
/// (compose, Kubernetes); a test checks that they agree.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>The services, by the short names used for hosts, Services and settings.</summary>
    public static readonly string[] ServiceNames = ["indexing", "projection", "regression", "study"];

    /// <summary>The port every service listens on in a container.</summary>
    public const int ContainerPort = 8080;

    /// <summary>The environment variable holding a service's address, e.g. <c>Services__regression</c>.</summary>
    public static string ServiceAddress(string service) => $"Services__{service}";

    /// <summary>The environment variable holding Redis's address (the cache's shared level).</summary>
    public const string Redis = "ConnectionStrings__redis";

    /// <summary>The environment variable bounding one Redis operation, in milliseconds.</summary>
    public const string CacheOperationTimeoutMs = "Cache__OperationTimeoutMs";

    /// <summary>The environment variable naming the bearer-token file (<see cref="ServerSecurity.TokenKey"/>).</summary>
    public const string TokenFile = "Auth__TokenFile";

    /// <summary>The configuration key that switches server reflection (default on; off in production).</summary>
    public const string ReflectionKey = "Grpc:Reflection";

    /// <summary>The environment variable of <see cref="ReflectionKey"/>.</summary>
    public const string Reflection = "Grpc__Reflection";

    /// <summary>The environment variable that turns the OTLP exporter on.</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
}
