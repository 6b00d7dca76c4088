using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// Tracing and metrics, set up once for every service: ASP.NET Core, gRPC client and
/// HttpClient instrumentation together (so the parent links hold across hops), our own
/// spans from <see cref="Source"/>, and the OTLP exporter when an endpoint is configured
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> in a host's configuration, or given by the caller).
/// </summary>
public static class Telemetry
{
    /// <summary>Name of the project's ActivitySource and Meter.</summary>
    public const string Name = "ResilienceGrpc";

    /// <summary>The environment variable that turns the OTLP exporter on.</summary>
    public const string OtlpEndpointVariable = ConfigurationKeys.OtlpEndpoint;

    /// <summary>Spans of study stages, domain computations and cache lookups.</summary>
    public static readonly ActivitySource Source = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Counters (cache lookups by status).</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>Cache lookups, tagged with <c>cache.intermediate</c> and <c>cache.status</c>.</summary>
    public static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>(
        "resilience.cache.lookups",
        description: "Lookups of cached intermediates by status (hit, miss, unavailable)."
    );

    /// <summary>The instrumentation every process uses.</summary>
    public static TracerProviderBuilder AddResilienceInstrumentation(this TracerProviderBuilder builder) =>
        builder
            .AddSource(Name)
            .AddAspNetCoreInstrumentation(o =>
                o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/grpc.health.v1.Health")
            )
            .AddGrpcClientInstrumentation()
            .AddHttpClientInstrumentation();

    /// <summary>Resource attributes: <c>service.name</c> and version.</summary>
    public static ResourceBuilder Resource(string serviceName) =>
        AddService(ResourceBuilder.CreateDefault(), serviceName);

    private static ResourceBuilder AddService(ResourceBuilder r, string serviceName) =>
        r.AddService(serviceName, serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString(3));

    /// <summary>
    /// A process-wide tracer provider (the CLI's embedded mode, where several hosts share
    /// one process and must not each export every span). Null when no OTLP endpoint is set.
    /// </summary>
    public static TracerProvider? ProcessTracer(string serviceName, string? otlpEndpoint)
    {
        if (string.IsNullOrWhiteSpace(otlpEndpoint))
            return null;
        return Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(Resource(serviceName))
            .AddResilienceInstrumentation()
            .AddOtlpExporter(o => o.Endpoint = new Uri(otlpEndpoint))
            .Build();
    }

    /// <summary>Adds the telemetry services to a host; with an OTLP endpoint, traces and metrics are exported there.</summary>
    public static void AddTelemetry(this IServiceCollection services, string serviceName, string? otlpEndpoint)
    {
        bool export = !string.IsNullOrWhiteSpace(otlpEndpoint);
        services
            .AddOpenTelemetry()
            .ConfigureResource(r => AddService(r, serviceName))
            .WithTracing(t =>
            {
                t.AddResilienceInstrumentation();
                if (export)
                    t.AddOtlpExporter(o => o.Endpoint = new Uri(otlpEndpoint!));
            })
            .WithMetrics(m =>
            {
                m.AddMeter(Name).AddAspNetCoreInstrumentation();
                if (export)
                    m.AddOtlpExporter(o => o.Endpoint = new Uri(otlpEndpoint!));
            });
    }
}
