using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using static ResilienceGrpc.Cli.CommandLineApp;

namespace ResilienceGrpc.Cli;

/// <summary>The serve verb, and the helpers the client verbs share to reach a service.</summary>
public static partial class Verbs
{
    // ---- serve ----
    private static Command Serve(VerbContext io)
    {
        var service = new Argument<string>("service") { Description = "indexing, projection, regression or study." };
        service.AcceptOnlyFromAmong("indexing", "projection", "regression", "study");
        var port = new Option<int?>("--port")
        {
            Description =
                "TCP port (defaults: study 5100, indexing 5101, projection 5102, regression 5103; 0 picks a free one).",
        };
        var bind = new Option<string>("--bind")
        {
            Description = "Address to listen on (default 127.0.0.1; 0.0.0.0 in a container).",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var tlsCert = new Option<string?>("--tls-cert")
        {
            Description = "PEM certificate to serve TLS with (with --tls-key); without them the server speaks h2c.",
        };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert." };
        var httpPort = new Option<int?>("--http-port")
        {
            Description =
                "Also serve the HTTP/JSON routes (POST /v1/...) over HTTP/1.1 on this port, for curl and R (0 picks a free one).",
        };
        var cmd = new Command(
            "serve",
            "Run one service as a standalone gRPC server until Ctrl+C: h2c, or TLS with --tls-cert/--tls-key; "
                + "with --token-file every call but health needs 'authorization: Bearer <token>'."
        )
        {
            service,
            port,
            bind,
            tlsCert,
            tlsKey,
            httpPort,
        };
        foreach (var o in StudyServeOptions)
            cmd.Options.Add(o);
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        string name = parse.GetValue(service)!;
                        int p =
                            parse.GetValue(port)
                            ?? name switch
                            {
                                "study" => 5100,
                                "indexing" => 5101,
                                "projection" => 5102,
                                _ => 5103,
                            };
                        if (p is < 0 or > 65535)
                            throw new CommandLineException($"--port {p} is not a TCP port; use 0 to 65535.");
                        string address = parse.GetValue(bind)!;
                        if (address != "localhost" && !System.Net.IPAddress.TryParse(address, out _))
                            throw new CommandLineException(
                                $"--bind '{address}' is not an IP address; use 127.0.0.1 or 0.0.0.0."
                            );
                        var (modules, serveConfigure) = await ServeModules(name, parse, ct);
                        // A server that cannot start is reported on one line (Guard); the host's own
                        // log of that failure would add a stack trace to stderr.
                        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> configure = b =>
                        {
                            b.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
                            serveConfigure?.Invoke(b);
                        };
                        var settings = SecuritySettings(parse);
                        settings[ServerSecurity.CertificateKey] = parse.GetValue(tlsCert);
                        settings[ServerSecurity.PrivateKeyKey] = parse.GetValue(tlsKey);
                        await using var host = await ServiceHosting.StartAsync(
                            modules,
                            new HostOptions(
                                p,
                                address,
                                OtlpEndpoint: OtlpOf(parse),
                                Settings: settings,
                                HttpPort: parse.GetValue(httpPort) is { } hp && hp is >= 0 and <= 65535 ? hp
                                    : parse.GetValue(httpPort) is { } bad
                                        ? throw new CommandLineException(
                                            $"--http-port {bad} is not a TCP port; use 0 to 65535."
                                        )
                                    : null
                            ),
                            configure,
                            ct
                        );
                        var security = host.Services.GetRequiredService<ServerSecurity>();
                        io.Err.WriteLine(
                            $"Serving {string.Join(", ", modules.Select(m => m.GrpcServiceName))} on {host.Address} "
                                + $"({(security.Certificate is null ? "h2c" : "TLS")}; "
                                + $"{(security.Tokens.Count == 0 ? "no token needed" : "bearer token needed, health open")})"
                                + (host.HttpAddress is { } http ? $"; HTTP/JSON on {http}" : "")
                                + ". Press Ctrl+C to stop."
                        );
                        await host.WaitForShutdownAsync(ct);
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    internal static async Task<ServiceConnection> Connect(
        ServiceModule module,
        string? url,
        TerminalProgress progress,
        ParseResult parse,
        CancellationToken ct
    )
    {
        if (ServiceConnection.AddressOf(module.Name, url) is null)
            progress.Report($"Starting the {module.Name} service (embedded)");
        return await ServiceConnection.OpenAsync(module, url, ct, SecurityOf(parse));
    }

    /// <summary>Runs a call and names the service when it cannot be reached.</summary>
    internal static async Task<T> Call<T>(ServiceConnection conn, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (Unreachable.Is(e))
        {
            throw Unreachable.Named(
                e,
                conn.Name,
                conn.Address,
                $"start it with 'resilience serve {conn.Name}' or check the address"
            );
        }
    }
}
