using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>What a service adds to the shared defaults: its registrations and its endpoints.</summary>
/// <param name="Name">Short name, e.g. <c>regression</c>.</param>
/// <param name="GrpcServiceName">Full gRPC service name, e.g. <c>resilience.regression.v1.RegressionService</c>.</param>
/// <param name="Register">Adds the service's registrations.</param>
/// <param name="Map">Maps the service's gRPC endpoints.</param>
public sealed record ServiceModule(
    string Name,
    string GrpcServiceName,
    Action<WebApplicationBuilder> Register,
    Action<WebApplication> Map
);

/// <summary>Where and how a host listens.</summary>
/// <param name="Port">TCP port; 0 picks a free one.</param>
/// <param name="Bind">Address to bind; loopback unless told otherwise.</param>
/// <param name="MaxMessageBytes">Largest single message a service accepts.</param>
/// <param name="Quiet">Log warnings only (embedded hosts share the user's terminal).</param>
/// <param name="Telemetry">Give the host its own tracer and meter providers (standalone servers). Embedded
/// hosts share one process, so the CLI sets up one process-wide provider instead.</param>
/// <param name="Settings">Configuration entries layered over the environment's, before the modules register
/// (for example <c>Limits:Regression:MaxFitWork</c>); the modules bind their options from the result.</param>
/// <param name="HttpPort">A second port serving HTTP/1.1 for the HTTP/JSON routes (cleartext HTTP/1.1 and h2c
/// cannot share a port without TLS); 0 picks a free one. With TLS the main port serves both anyway.</param>
/// <param name="OtlpEndpoint">Where to export traces and metrics; null reads OTEL_EXPORTER_OTLP_ENDPOINT from the host's configuration.</param>
public sealed record HostOptions(
    int Port = 0,
    string Bind = "127.0.0.1",
    int MaxMessageBytes = ServiceDefaultsExtensions.DefaultMaxMessageBytes,
    bool Quiet = false,
    bool Telemetry = true,
    string? OtlpEndpoint = null,
    IReadOnlyDictionary<string, string?>? Settings = null,
    int? HttpPort = null
);

/// <summary>
/// Builds and starts a Kestrel host serving one or more modules over cleartext HTTP/2
/// (h2c), with the shared defaults. Used by <c>resilience serve</c>, by the CLI's
/// embedded mode and by tests: the wire path is the same in all three.
/// </summary>
public static class ServiceHosting
{
    /// <summary>Builds, starts and returns the host; <see cref="RunningService.Address"/> says where it listens.</summary>
    public static async Task<RunningService> StartAsync(
        IReadOnlyList<ServiceModule> modules,
        HostOptions options,
        Action<WebApplicationBuilder>? configure = null,
        CancellationToken cancellationToken = default
    )
    {
        if (options.HttpPort is { } sharedPort && sharedPort == options.Port && sharedPort != 0)
            throw new InvalidConfigurationException(
                $"The HTTP/JSON port and the gRPC port are both {sharedPort}; cleartext HTTP/1.1 and h2c cannot share a port, so give the HTTP/JSON routes another."
            );
        var builder = WebApplication.CreateSlimBuilder(
            new WebApplicationOptions { ApplicationName = "ResilienceGrpc" }
        );
        // Only the settings given override the configuration: a null entry (an option not on
        // the command line) would hide the environment's value of the same key, and so served
        // every deployment's Auth__TokenFile and Tls__* away (no token, h2c).
        if (options.Settings is { } settings)
            builder.Configuration.AddInMemoryCollection(settings.Where(s => s.Value is not null));
        // TLS and bearer tokens, when configured (Tls:CertificateFile and Tls:KeyFile, Auth:TokenFile).
        var security = ServerSecurity.From(builder.Configuration);
        builder.Services.AddSingleton(security);
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            var address = options.Bind is "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Bind);
            k.Listen(
                address,
                options.Port,
                l =>
                {
                    // Over TLS, ALPN lets gRPC (h2) and HTTP/JSON (HTTP/1.1) share the port.
                    l.Protocols = security.Certificate is null ? HttpProtocols.Http2 : HttpProtocols.Http1AndHttp2;
                    if (security.Certificate is { } certificate)
                        l.UseHttps(certificate);
                }
            );
            if (options.HttpPort is { } httpPort)
                k.Listen(
                    address,
                    httpPort,
                    l =>
                    {
                        l.Protocols = HttpProtocols.Http1;
                        if (security.Certificate is { } certificate)
                            l.UseHttps(certificate);
                    }
                );
            k.AddServerHeader = false; // no "server: Kestrel" on every response
            k.Limits.MaxRequestBodySize = null; // streamed fits are bounded per message instead
            k.Limits.Http2.MaxStreamsPerConnection = 256;
            // Larger flow-control windows let a streamed fit arrive at loopback speed
            // instead of waiting on window updates every 768 KiB.
            k.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
        });
        builder.AddServiceDefaults(modules, options.MaxMessageBytes, security);
        if (options.Quiet)
            builder.Logging.AddFilter("ResilienceGrpc", LogLevel.Warning);
        if (options.Telemetry)
            builder.Services.AddTelemetry(
                "resilience-" + string.Join("-", modules.Select(m => m.Name)),
                options.OtlpEndpoint ?? builder.Configuration[ConfigurationKeys.OtlpEndpoint]
            );
        foreach (var m in modules)
            m.Register(builder);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        foreach (var m in modules)
            m.Map(app);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await app.DisposeAsync();
            // Kestrel's message names the address ("Failed to bind to address http://127.0.0.1:5103: address already in use.").
            var taken = e.Message.Split("address ", 2) is [_, var rest] ? rest.Split(':', 3) switch
            {
                [_, var host, var port] => $"{host.TrimStart('/')}:{new string(port.TakeWhile(char.IsAsciiDigit).ToArray())}",
                _ => null,
            } : null;
            throw new InvalidConfigurationException(
                $"Cannot listen on {taken ?? $"{options.Bind}:{options.Port}"}: another process already uses that port. Stop it, or choose another port (0 picks a free one)."
            );
        }
        catch (System.Net.Sockets.SocketException e)
            when (e.SocketErrorCode
                    is System.Net.Sockets.SocketError.AddressNotAvailable
                        or System.Net.Sockets.SocketError.AccessDenied
            )
        {
            await app.DisposeAsync();
            throw new InvalidConfigurationException(
                e.SocketErrorCode == System.Net.Sockets.SocketError.AccessDenied
                    ? $"Cannot listen on {options.Bind}:{options.Port}: this user may not open that port (ports below 1024 need privileges). Choose a port from 1024 up (0 picks a free one)."
                    : $"Cannot listen on {options.Bind}: no network interface of this machine has that address. Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its own addresses."
            );
        }

        // The listeners in the order they were added: gRPC first, then the HTTP/1.1 one if any.
        var bound = app
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.Select(a => new Uri(a.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]")))
            .ToList();
        return new RunningService(app, bound[0], modules) { HttpAddress = bound.Count > 1 ? bound[1] : null };
    }
}

/// <summary>A started host. Dispose to stop it.</summary>
public sealed class RunningService(WebApplication app, Uri address, IReadOnlyList<ServiceModule> modules)
    : IAsyncDisposable
{
    /// <summary>The http:// address it listens on.</summary>
    public Uri Address { get; } = address;

    /// <summary>The HTTP/1.1 address of the HTTP/JSON routes, when a second port was asked for.</summary>
    public Uri? HttpAddress { get; init; }

    /// <summary>The modules it serves.</summary>
    public IReadOnlyList<ServiceModule> Modules { get; } = modules;

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>Waits until the host is stopped (Ctrl+C or SIGTERM in a standalone server).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) =>
        app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException) { }
        await app.DisposeAsync();
    }
}

/// <summary>The shared defaults every service gets.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Largest HTTP/JSON request body: 16 MiB, about what a 4 MiB protobuf message of doubles
    /// becomes as JSON text. Larger data go through gRPC's FitStream.
    /// </summary>
    public const long MaxJsonBodyBytes = 16L * 1024 * 1024;

    /// <summary>4 MiB, gRPC's usual limit; larger data goes through client streaming.</summary>
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Adds gRPC with the error interceptor and size limits, health (answering at once), reflection and logging.</summary>
    public static WebApplicationBuilder AddServiceDefaults(
        this WebApplicationBuilder builder,
        IReadOnlyList<ServiceModule> modules,
        int maxMessageBytes = DefaultMaxMessageBytes,
        ServerSecurity? security = null
    )
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
            o.LogToStandardErrorThreshold = LogLevel.Trace
        );
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("ResilienceGrpc", LogLevel.Information);

        builder
            .Services.AddGrpc(o =>
            {
                // The token check runs first: an unauthenticated call reaches nothing else.
                if (security is { Tokens.Count: > 0 })
                    o.Interceptors.Add<BearerTokenInterceptor>();
                o.Interceptors.Add<ErrorInterceptor>();
                o.MaxReceiveMessageSize = maxMessageBytes;
                o.MaxSendMessageSize = null;
                o.EnableDetailedErrors = false;
            })
            // HTTP/JSON beside gRPC: the google.api.http routes of the protos (POST /v1/...).
            // The errors' google.rpc details (BadRequest and the rest) are written as JSON too.
            .AddJsonTranscoding(o => o.TypeRegistry = ErrorDetails);
        // An OpenAPI document of the HTTP/JSON routes (GET /openapi/v1.json), generated from the
        // protos' google.api.http annotations by Microsoft.AspNetCore.Grpc.Swagger.
        builder.Services.AddGrpcSwagger();
        builder.Services.AddSwaggerGen(o =>
            o.SwaggerDoc(
                "v1",
                new Microsoft.OpenApi.Models.OpenApiInfo
                {
                    Title = "ResilienceGrpc HTTP/JSON",
                    Version = "v1",
                    Description = "The gRPC services' google.api.http routes; errors are google.rpc.Status as JSON.",
                }
            )
        );
        builder.Services.AddGrpcReflection();
        var health = builder.Services.AddGrpcHealthChecks(o =>
        {
            // Run the checks on every Check call: SERVING as soon as the host is up, not after a publisher period.
            o.UseHealthChecksCache = false;
            o.Services.Map("", _ => true);
            foreach (var m in modules)
                o.Services.Map(m.GrpcServiceName, r => r.Tags.Contains(m.Name) || r.Name == "self");
        });
        health.AddCheck("self", () => HealthCheckResult.Healthy("ready"));
        builder.Services.Configure<HealthCheckPublisherOptions>(o => o.Delay = TimeSpan.Zero);
        return builder;
    }

    /// <summary>Maps health, and reflection unless <see cref="ConfigurationKeys.Reflection"/> is false.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        // The HTTP/JSON routes take JSON whatever the client calls it: `curl -d @body.json`
        // sends application/x-www-form-urlencoded, and R's httr2 may send no type at all.
        app.Use(
            (context, next) =>
            {
                var request = context.Request;
                if (
                    HttpMethods.IsPost(request.Method)
                    && request.Path.StartsWithSegments("/v1")
                    && (
                        string.IsNullOrEmpty(request.ContentType)
                        || request.ContentType.StartsWith(
                            "application/x-www-form-urlencoded",
                            StringComparison.OrdinalIgnoreCase
                        )
                        || request.ContentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase)
                    )
                )
                    request.ContentType = "application/json";
                // gRPC bounds each message (MaxMessageBytes); a JSON body is bounded here, before it is read,
                // since Kestrel's own body limit is lifted for streamed fits.
                if (
                    !(request.ContentType ?? "").StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
                    && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()
                        is { IsReadOnly: false } limit
                )
                {
                    // A declared length over the limit is refused before a byte is read, as the
                    // RESOURCE_EXHAUSTED every other limit answers (HTTP 413). A body sent without a
                    // length (chunked) is read into memory first, up to the limit, and refused the
                    // same way when it passes it; the transcoder then reads the copy. Kestrel's own
                    // limit, higher, stays as the backstop.
                    if (request.ContentLength > MaxJsonBodyBytes)
                        return BodyTooLarge(context, request.ContentLength.Value);
                    limit.MaxRequestBodySize = MaxJsonBodyBytes + (4 << 20);
                    // A transcoded route's body is read here too, to refuse a name its request
                    // message does not have (the transcoder would drop it silently).
                    var message = BodyMessage(context);
                    if (
                        message is not null
                        || request.ContentLength is null
                            && !HttpMethods.IsGet(request.Method)
                            && !HttpMethods.IsHead(request.Method)
                    )
                        return ReadBoundedBodyAsync(context, next, message);
                }
                return next(context);
            }
        );
        app.MapGrpcHealthChecksService();
        if (ReflectionEnabled(app.Configuration))
        {
            app.MapGrpcReflectionService();
            // The OpenAPI document describes the services as reflection does, and is switched with it.
            app.UseSwagger(o => o.RouteTemplate = "openapi/{documentName}.json");
        }
        return app;
    }

    /// <summary>The google.rpc error details, for writing a status's details as JSON.</summary>
    private static readonly Google.Protobuf.Reflection.TypeRegistry ErrorDetails =
        Google.Protobuf.Reflection.TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor);

    private static readonly Google.Protobuf.JsonFormatter StatusJson = new(
        Google.Protobuf.JsonFormatter.Settings.Default.WithTypeRegistry(ErrorDetails)
    );

    private static string BodyLimitMessage(string size) =>
        $"The request body has {size} bytes; an HTTP/JSON body may have at most {MaxJsonBodyBytes:N0} (16 MiB). "
        + "Send larger data over gRPC, where FitStream takes the rows in chunks.";

    /// <summary>The message a transcoded route's JSON body is (its request, or the field its rule names); null for any other route.</summary>
    private static Google.Protobuf.Reflection.MessageDescriptor? BodyMessage(HttpContext context)
    {
        if (
            !HttpMethods.IsPost(context.Request.Method)
            || context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Grpc.JsonTranscoding.GrpcJsonTranscodingMetadata>()
                is not { } transcoded
        )
            return null;
        // A call without the token is refused (401) before its body is looked into, which would
        // otherwise tell a caller without the token the request's field names.
        if (
            context.RequestServices.GetService<ServerSecurity>() is { } security
            && !BearerTokenInterceptor.Accepts(security, context.Request.Headers.Authorization)
        )
            return null;
        var input = transcoded.MethodDescriptor.InputType;
        return transcoded.HttpRule.Body switch
        {
            "*" => input,
            "" => null,
            var body => input.FindFieldByName(body)?.MessageType,
        };
    }

    /// <summary>
    /// Reads a body into memory, up to the limit (answering 413 past it); when it is the JSON of
    /// <paramref name="message"/>, refuses a name that message does not have (400, INVALID_ARGUMENT
    /// naming the field, <see cref="JsonBodyFields"/>); and hands the rest of the pipeline the copy.
    /// </summary>
    private static async Task ReadBoundedBodyAsync(
        HttpContext context,
        RequestDelegate next,
        Google.Protobuf.Reflection.MessageDescriptor? message
    )
    {
        var copy = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int n;
            while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (copy.Length + n > MaxJsonBodyBytes)
                {
                    await BodyTooLarge(context, null);
                    return;
                }
                copy.Write(chunk, 0, n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        if (message is not null && JsonBodyFields.FindUnknown(copy.GetBuffer().AsSpan(0, (int)copy.Length), message) is { } unknown)
        {
            var status = Statuses.InvalidArgumentStatus(unknown.Message, (unknown.Field, unknown.Message));
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(StatusJson.Format(status), context.RequestAborted);
            return;
        }
        copy.Position = 0;
        context.Request.Body = copy;
        context.Request.ContentLength = copy.Length;
        // Kestrel's own pipe reader would read the consumed socket: read the copy through the stream.
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IRequestBodyPipeFeature>(
            new Microsoft.AspNetCore.Http.Features.RequestBodyPipeFeature(context)
        );
        await next(context);
    }

    /// <summary>Answers 413 with the JSON status of RESOURCE_EXHAUSTED on the body, naming the limit.</summary>
    private static Task BodyTooLarge(HttpContext context, long? length)
    {
        var message = BodyLimitMessage(
            length is { } declared
                ? declared.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)
                : "more than " + MaxJsonBodyBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)
        );
        var status = Statuses.ResourceExhaustedStatus(message, "body");
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        context.Response.ContentType = "application/json; charset=utf-8";
        // A declared body is not read at all: an HTTP/1.x connection is closed after the answer (an
        // HTTP/2 stream is reset by Kestrel, and HTTP/2 has no Connection header). A chunked body's
        // rest is left to Kestrel, which drains it up to its own limit and then closes.
        if (
            length is not null
            && (HttpProtocol.IsHttp10(context.Request.Protocol) || HttpProtocol.IsHttp11(context.Request.Protocol))
        )
            context.Response.Headers.Connection = "close";
        return context.Response.WriteAsync(StatusJson.Format(status), context.RequestAborted);
    }

    /// <summary>Reflection is on unless the configuration says <c>Grpc:Reflection=false</c> (the production overlay does).</summary>
    public static bool ReflectionEnabled(Microsoft.Extensions.Configuration.IConfiguration config) =>
        config[ConfigurationKeys.ReflectionKey] is not { } v || !bool.TryParse(v, out var on) || on;
}
