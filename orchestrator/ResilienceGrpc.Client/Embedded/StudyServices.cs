using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Client.Embedded;

/// <summary>The services a study needs: remote where URLs are given, embedded on loopback otherwise.</summary>
public sealed class StudyServices : IAsyncDisposable
{
    private readonly List<RunningService> _hosts = [];

    public StudyEndpoints Endpoints { get; private set; } = null!;
    public Grpc.Net.Client.GrpcChannel StudyChannel { get; private set; } = null!;
    public Uri StudyAddress { get; private set; } = null!;
    public bool StudyIsRemote { get; private set; }

    /// <summary>Starts (or points at) the three services only.</summary>
    public static async Task<StudyServices> StartBackendsAsync(
        string? indexing,
        string? projection,
        string? regression,
        Action<string>? progress,
        CancellationToken ct
    )
    {
        var s = new StudyServices();
        async Task<string> One(ServiceModule module, string? url)
        {
            if (ServiceConnection.AddressOf(module.Name, url) is { } address)
                return ServiceConnection.CheckAddresses(address, module.Name);
            progress?.Invoke($"Starting the {module.Name} service (embedded)");
            var host = await ServiceHosting.StartAsync(
                [module],
                new HostOptions(Quiet: true, Telemetry: false, Settings: EmbeddedSettings.Of()),
                cancellationToken: ct
            );
            s._hosts.Add(host);
            return host.Address.ToString();
        }
        s.Endpoints = new StudyEndpoints(
            await One(IndexingGrpcService.Module, indexing),
            await One(ProjectionGrpcService.Module, projection),
            await One(RegressionGrpcService.Module, regression)
        );
        return s;
    }

    /// <summary>Starts (or points at) the three services and the orchestrator, and opens a channel to the orchestrator.</summary>
    public static async Task<StudyServices> StartAsync(
        string? indexing,
        string? projection,
        string? regression,
        string? study,
        CacheSettings cache,
        Action<string>? progress,
        CancellationToken ct,
        ChannelSecurity? security = null,
        IReadOnlyDictionary<string, string?>? settings = null
    )
    {
        study = ServiceConnection.AddressOf("study", study);
        StudyServices s;
        if (study is not null)
        {
            s = new StudyServices { StudyAddress = ServiceConnection.ParseUrl(study, "study"), StudyIsRemote = true };
        }
        else
        {
            s = await StartBackendsAsync(indexing, projection, regression, progress, ct);
            progress?.Invoke("Starting the study service (embedded)");
            var host = await ServiceHosting.StartAsync(
                [StudyGrpcService.Module(s.Endpoints, cache: cache)],
                new HostOptions(Quiet: true, Telemetry: false, Settings: EmbeddedSettings.Of(settings)),
                cancellationToken: ct
            );
            s._hosts.Add(host);
            s.StudyAddress = host.Address;
        }
        s.StudyChannel = GrpcChannels.Create(s.StudyAddress.ToString(), security);
        return s;
    }

    public async ValueTask DisposeAsync()
    {
        StudyChannel?.Dispose();
        foreach (var h in Enumerable.Reverse(_hosts))
            await h.DisposeAsync();
    }
}
