using Grpc.Health.V1;
using Microsoft.Extensions.Configuration;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;

// The study server on its own, the entry point of the study image (which carries no client
// code): configuration from the environment and the command line, checked at start.
// `health [--address URL]` asks a running server's health service instead (for container
// health checks): exit 0 when SERVING.
if (args.Length > 0 && args[0] == "health")
{
    var address = args.Length > 2 && args[1] == "--address" ? args[2] : "http://127.0.0.1:8080";
    try
    {
        using var channel = GrpcChannels.Create(address);
        var reply = await new Health.HealthClient(channel).CheckAsync(
            new HealthCheckRequest(),
            deadline: DateTime.UtcNow.AddSeconds(3)
        );
        Console.Error.WriteLine($"{address}: {reply.Status}");
        return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
    }
    catch (Exception e) when (e is Grpc.Core.RpcException or UriFormatException)
    {
        Console.Error.WriteLine(
            $"{address}: not serving ({(e as Grpc.Core.RpcException)?.StatusCode.ToString() ?? "bad address"})."
        );
        return 1;
    }
}

var config = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
StudyServerOptions options;
try
{
    options = StudyServerOptions.FromConfiguration(config);
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
RunningService host;
try
{
    // The host sees the same settings (environment and command line), limits included.
    host = await ServiceHosting.StartAsync(
        [StudyGrpcService.Module(options.Endpoints, cache: options.Cache)],
        new HostOptions(
            options.Port,
            options.Bind,
            Settings: config.AsEnumerable().Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value)
        )
    );
}
catch (InvalidConfigurationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
await using var running = host;
Console.Error.WriteLine($"Serving {StudyGrpcService.Module(options.Endpoints).GrpcServiceName} on {host.Address}.");
await host.WaitForShutdownAsync();
return 0;
