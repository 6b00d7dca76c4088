using Grpc.Net.Client;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Client.Embedded;

/// <summary>
/// A channel to one service: to the URL given, or, in embedded mode, to a copy of the
/// service this process starts on a free loopback port. Either way calls go over real
/// gRPC on HTTP/2.
/// </summary>
public sealed class ServiceConnection : IAsyncDisposable
{
    private readonly RunningService? _host;

    public GrpcChannel Channel { get; }
    public string Address { get; }
    public string Name { get; }
    public bool Embedded => _host is not null;

    private ServiceConnection(string name, string address, GrpcChannel channel, RunningService? host)
    {
        Name = name;
        Address = address;
        Channel = channel;
        _host = host;
    }

    /// <summary>Connects to <paramref name="url"/>, or starts the service embedded when there is none.</summary>
    public static async Task<ServiceConnection> OpenAsync(
        ServiceModule module,
        string? url,
        CancellationToken cancellationToken,
        ChannelSecurity? security = null
    )
    {
        if (AddressOf(module.Name, url) is { } address)
            return new ServiceConnection(
                module.Name,
                address,
                GrpcChannels.Create(CheckAddresses(address, module.Name), security),
                null
            );
        var host = await ServiceHosting.StartAsync(
            [module],
            new HostOptions(Quiet: true, Telemetry: false, Settings: EmbeddedSettings.Of()),
            cancellationToken: cancellationToken
        );
        return new ServiceConnection(module.Name, host.Address.ToString(), GrpcChannels.Create(host.Address), host);
    }

    /// <summary>The address of a running service: <paramref name="url"/>, or null when none is given (embedded).</summary>
    public static string? AddressOf(string name, string? url) => string.IsNullOrWhiteSpace(url) ? null : url;

    /// <summary>Checks every address of a comma-separated list; returns the list.</summary>
    public static string CheckAddresses(string addresses, string name)
    {
        foreach (
            var part in addresses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        )
            ParseUrl(part, name);
        return addresses;
    }

    /// <summary>Accepts <c>http://host:port</c>, or <c>host:port</c> (taken as http).</summary>
    public static Uri ParseUrl(string url, string name)
    {
        if (GrpcChannels.TryParseAddress(url, out var uri))
            return uri;
        throw new CommandLineException(
            $"'{url}' is not a valid address for the {name} service; give one like http://127.0.0.1:5103."
        );
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (_host is not null)
            await _host.DisposeAsync();
    }
}

/// <summary>A usage problem (a bad address, a bad option); the command line prints it as one sentence, exit code 2.</summary>
public sealed class CommandLineException(string message) : Exception(message);
