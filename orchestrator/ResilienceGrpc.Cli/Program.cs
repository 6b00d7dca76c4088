return await ResilienceGrpc.Cli.CommandLineApp.RunAsync(args, Console.Out, Console.Error);

namespace ResilienceGrpc.Cli
{
    /// <summary>
    /// The only place the command line reads its environment: defaults of options that a
    /// deployment sets by variable (a service's address, Redis, the OTLP endpoint). Nothing
    /// below the command line reads or changes the process environment.
    /// </summary>
    internal static class ProgramEnvironment
    {
        /// <summary><c>Services__{service}</c>: a running service's address.</summary>
        public static string? ServiceAddress(string service) =>
            Get(ServiceDefaults.ConfigurationKeys.ServiceAddress(service));

        /// <summary><c>ConnectionStrings__redis</c>.</summary>
        public static string? Redis => Get(ServiceDefaults.ConfigurationKeys.Redis);

        /// <summary><c>Cache__OperationTimeoutMs</c>.</summary>
        public static string? CacheOperationTimeoutMs => Get(ServiceDefaults.ConfigurationKeys.CacheOperationTimeoutMs);

        /// <summary><c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
        public static string? OtlpEndpoint => Get(ServiceDefaults.ConfigurationKeys.OtlpEndpoint);

        private static string? Get(string key) =>
            Environment.GetEnvironmentVariable(key) is { Length: > 0 } v ? v : null;
    }
}
