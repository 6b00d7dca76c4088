using Grpc.Health.V1;
using Grpc.Net.Client;
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
    public StudyEndpoints(Uri indexing, Uri projection, Uri regression) : this(indexing.ToString(), projection.ToString(), regression.ToString()) { }
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

/// <summary>The three services' clients over their channels.</summary>
public sealed class StudyClients : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public StudyEndpoints Endpoints { get; }
    public IndexingService.IndexingServiceClient Indexing { get; }
    public ProjectionService.ProjectionServiceClient Projection { get; }
    public RegressionService.RegressionServiceClient Regression { get; }

    /// <summary>The health clients of the three services, by service name.</summary>
    public IReadOnlyList<(string Service, string Address, Health.HealthClient Client)> Health { get; }

    public StudyClients(StudyEndpoints endpoints)
    {
        Endpoints = endpoints;
        var i = GrpcChannels.Create(endpoints.Indexing);
        var p = GrpcChannels.Create(endpoints.Projection);
        var r = GrpcChannels.Create(endpoints.Regression);
        _channels = [i, p, r];
        Indexing = new IndexingService.IndexingServiceClient(i);
        Projection = new ProjectionService.ProjectionServiceClient(p);
        Regression = new RegressionService.RegressionServiceClient(r);
        Health =
        [
            ("indexing", endpoints.Indexing, new Health.HealthClient(i)),
            ("projection", endpoints.Projection, new Health.HealthClient(p)),
            ("regression", endpoints.Regression, new Health.HealthClient(r)),
        ];
    }

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}
