using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
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
        var cmd = new Command("serve", "Run one service as a standalone gRPC server (h2c) until Ctrl+C.")
        {
            service,
            port,
            bind,
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
                        var (modules, configure) = await ServeModules(name, parse, ct);
                        await using var host = await ServiceHosting.StartAsync(
                            modules,
                            new HostOptions(p, address, OtlpEndpoint: OtlpOf(parse)),
                            configure,
                            ct
                        );
                        io.Err.WriteLine(
                            $"Serving {string.Join(", ", modules.Select(m => m.GrpcServiceName))} on {host.Address} (h2c; health and reflection on). Press Ctrl+C to stop."
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
        CancellationToken ct
    )
    {
        if (ServiceConnection.AddressOf(module.Name, url) is null)
            progress.Report($"Starting the {module.Name} service (embedded)");
        return await ServiceConnection.OpenAsync(module, url, ct);
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
