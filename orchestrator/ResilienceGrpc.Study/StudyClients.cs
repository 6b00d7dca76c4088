using Grpc.Health.V1;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Study;

/// <summary>
/// Where the three services are: <c>http://host:port</c>, <c>dns:///host:port</c> (every
/// address the name resolves to, round-robin, re-resolved periodically), or a comma-separated
/// list of <c>http://</c> addresses (round-robin over them).
/// </summary>
public sealed record StudyEndpoints(string Indexing, string Projection, string Regression)
{
    public StudyEndpoints(Uri indexing, Uri projection, Uri regression)
        : this(indexing.ToString(), projection.ToString(), regression.ToString()) { }
}

/// <summary>How the runner calls the services.</summary>
/// <param name="CallTimeout">Deadline of each outbound call (shortened to the study's own deadline).</param>
/// <param name="Parallelism">Regressions in flight at once.</param>
/// <param name="PreflightTimeout">How long each service has to answer its health check before the study starts
/// (null: 5 s); a silent listener fails the study then, named, instead of holding every call to its deadline.</param>
public sealed record StudyRunnerOptions(TimeSpan CallTimeout, int Parallelism = 4, TimeSpan? PreflightTimeout = null)
{
    public static StudyRunnerOptions Default { get; } = new(TimeSpan.FromMinutes(2));

    /// <summary>The preflight's bound.</summary>
    public TimeSpan Preflight => PreflightTimeout ?? TimeSpan.FromSeconds(5);
}

/// <summary>
/// The three services' clients, registered with the gRPC client factory
/// (<see cref="GrpcChannels.AddServiceClient{TClient}"/>: round-robin, retries and limits as
/// everywhere else) and resolved once; the factory owns the channels.
/// </summary>
public sealed class StudyClients(StudyEndpoints endpoints, GrpcClientFactory factory)
{
    public StudyEndpoints Endpoints { get; } = endpoints;
    public IndexingService.IndexingServiceClient Indexing { get; } =
        factory.CreateClient<IndexingService.IndexingServiceClient>("indexing");
    public ProjectionService.ProjectionServiceClient Projection { get; } =
        factory.CreateClient<ProjectionService.ProjectionServiceClient>("projection");
    public RegressionService.RegressionServiceClient Regression { get; } =
        factory.CreateClient<RegressionService.RegressionServiceClient>("regression");

    /// <summary>The health clients of the three services, by service name.</summary>
    public IReadOnlyList<(string Service, string Address, Health.HealthClient Client)> Health { get; } =
    [
        ("indexing", endpoints.Indexing, factory.CreateClient<Health.HealthClient>(HealthName("indexing"))),
        ("projection", endpoints.Projection, factory.CreateClient<Health.HealthClient>(HealthName("projection"))),
        ("regression", endpoints.Regression, factory.CreateClient<Health.HealthClient>(HealthName("regression"))),
    ];

    /// <summary>Registers the clients of the three services and their health services, and this class.</summary>
    public static void Register(IServiceCollection services, StudyEndpoints endpoints, ChannelSecurity? security = null)
    {
        services.AddSingleton(endpoints);
        foreach (
            var (name, address) in new[]
            {
                ("indexing", endpoints.Indexing),
                ("projection", endpoints.Projection),
                ("regression", endpoints.Regression),
            }
        )
            services.AddServiceClient<Health.HealthClient>(HealthName(name), address, security);
        services.AddServiceClient<IndexingService.IndexingServiceClient>("indexing", endpoints.Indexing, security);
        services.AddServiceClient<ProjectionService.ProjectionServiceClient>(
            "projection",
            endpoints.Projection,
            security
        );
        services.AddServiceClient<RegressionService.RegressionServiceClient>(
            "regression",
            endpoints.Regression,
            security
        );
        services.AddSingleton<StudyClients>();
    }

    private static string HealthName(string service) => service + ".health";
}
