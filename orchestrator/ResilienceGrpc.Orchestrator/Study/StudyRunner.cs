using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Orchestrator.Caching;
using ResilienceGrpc.Orchestrator.Clients;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Orchestrator.Study;

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
public sealed record StudyRunnerOptions(TimeSpan CallTimeout, int Parallelism = 4)
{
    public static StudyRunnerOptions Default { get; } = new(TimeSpan.FromMinutes(2));
}

/// <summary>The three services' clients over their channels.</summary>
public sealed class StudyClients : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public StudyEndpoints Endpoints { get; }
    public IndexingService.IndexingServiceClient Indexing { get; }
    public ProjectionService.ProjectionServiceClient Projection { get; }
    public RegressionService.RegressionServiceClient Regression { get; }

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
    }

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}

/// <summary>
/// Composes a study from the services, over gRPC only: the index (main and alternative
/// weightings) and the projection run concurrently, then every regression, a few at a
/// time; progress is reported as it goes, and the report is assembled at the end.
/// </summary>
public sealed partial class StudyRunner(StudyClients clients, StudyRunnerOptions options, IntermediateCache cache, ILogger<StudyRunner> logger)
{
    /// <summary>The software version written into every manifest.</summary>
    public static string SoftwareVersion { get; } =
        typeof(StudyRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs one study. Throws <see cref="RpcException"/> when a service is unavailable or the data are rejected.</summary>
    public async Task<StudyReport> RunAsync(StudyData data, StudySpec? userSpec, Func<StudyProgress, ValueTask> progress, DateTime? deadline, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        string startedAt = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
        using var run = Telemetry.Source.StartActivity("study.run");
        run?.SetTag("study.cities", data.CityIds.Count);
        run?.SetTag("study.indicators", data.Indicators.Count);
        run?.SetTag("study.synthetic", data.Synthetic);
        var spec = StudySpecs.Complete(userSpec, data);
        run?.SetTag("study.tables", spec.Tables.Count);
        run?.SetTag("study.covariance_type", spec.CovarianceType.ToString());
        LogStarting(data.CityIds.Count, spec.Tables.Count);

        var weightings = spec.Tables.SelectMany(t => t.Regressions).Select(r => Weighting(r, spec))
            .Prepend(spec.Weighting).Distinct().ToList();
        int fits = spec.Tables.Sum(t => t.Regressions.Count);
        int total = weightings.Count + 1 + fits;
        int done = 0;
        var gate = new SemaphoreSlim(1, 1);
        async Task Report(string stage, string message)
        {
            await gate.WaitAsync(ct);
            try { await progress(new StudyProgress { Stage = stage, Message = message, Completed = done, Total = total }); }
            finally { gate.Release(); }
        }

        await Report("load", $"Loaded {data.Label}: {data.CityIds.Count} cities, {data.Indicators.Count} indicators; {fits} regressions in {spec.Tables.Count} tables.");

        // Index per weighting, and the projection: independent, so concurrent; each through the cache.
        var cacheEvents = new List<CacheEvent>();
        var indexTasks = weightings.ToDictionary(w => w, async w =>
        {
            using var stage = Telemetry.Source.StartActivity("study.index");
            stage?.SetTag("index.method", w.ToString());
            var request = IndexRequest(data, spec, w);
            var (r, e) = await cache.GetOrComputeAsync($"index-{StudySpecs.Short(w).ToLowerInvariant()}", request,
                token => Call("indexing", clients.Endpoints.Indexing, o => clients.Indexing.ComputeIndexAsync(request, o).ResponseAsync, deadline, token), ct);
            lock (cacheEvents) cacheEvents.Add(e);
            Interlocked.Increment(ref done);
            await Report("index", $"Index ({StudySpecs.Short(w)} weights) {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "computed")}.");
            return r;
        });
        var projectionTask = Task.Run(async () =>
        {
            using var stage = Telemetry.Source.StartActivity("study.projection");
            var request = ProjectionRequest(data, spec);
            var (r, e) = await cache.GetOrComputeAsync("projection", request,
                token => Call("projection", clients.Endpoints.Projection, o => clients.Projection.ProjectExportsAsync(request, o).ResponseAsync, deadline, token), ct);
            lock (cacheEvents) cacheEvents.Add(e);
            stage?.SetTag("projection.cities", r.Cities.Count);
            Interlocked.Increment(ref done);
            await Report("projection", $"Exports of {r.Cities.Count} cities {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "projected")}.");
            return r;
        }, ct);
        await Task.WhenAll(indexTasks.Values.Cast<Task>().Append(projectionTask));
        var indices = indexTasks.ToDictionary(kv => kv.Key, kv => kv.Value.Result);
        var projection = projectionTask.Result;
        var variables = indices.ToDictionary(kv => kv.Key, kv => StudyVariables.Build(data, spec, kv.Value, projection));

        // Every regression, a few at a time.
        using var fitting = Telemetry.Source.StartActivity("study.regressions");
        fitting?.SetTag("regression.models", fits);
        fitting?.SetTag("regression.covariance_type", spec.CovarianceType.ToString());
        fitting?.SetTag("regression.bootstrap_replications", spec.Bootstrap.Replications);
        var limiter = new SemaphoreSlim(options.Parallelism);
        var modelTasks = spec.Tables.Select(t => t.Regressions.Select(async r =>
        {
            await limiter.WaitAsync(ct);
            try
            {
                var model = await Fit(t, r, variables[Weighting(r, spec)], data, spec, deadline, ct);
                Interlocked.Increment(ref done);
                await Report("regressions", $"{t.Id} {r.Label}: {(model.Error.Length > 0 ? "not fitted" : "fitted")}.");
                return model;
            }
            finally { limiter.Release(); }
        }).ToArray()).ToArray();
        await Task.WhenAll(modelTasks.SelectMany(m => m));
        fitting?.Dispose();

        using var assembling = Telemetry.Source.StartActivity("study.report");
        var report = new StudyReport { Title = spec.Title, Synthetic = data.Synthetic };
        report.CacheEvents.AddRange(cacheEvents.OrderBy(e => e.Intermediate, StringComparer.Ordinal));
        if (cacheEvents.Any(e => e.Status == CacheStatus.Unavailable))
            report.Warnings.Add($"The shared cache ({cache.SharedLevel}) was unavailable; the intermediates were recomputed.");
        report.Tables.Add(new Table
        {
            Id = "weights",
            Title = $"Table 1. {Capitalised(Words(spec.Weighting))} of the urban resilience index",
            Weights = indices[spec.Weighting],
            Note = "Global weights sum to 1; a dimension's weight is the sum of its indicators' weights.",
        });
        for (int t = 0; t < spec.Tables.Count; t++)
        {
            var table = new Table { Id = spec.Tables[t].Id, Title = spec.Tables[t].Title };
            table.Models.AddRange(modelTasks[t].Select(m => m.Result));
            report.Tables.Add(table);
        }
        var tiers = StudyVariables.TierOf(data, spec);
        var main = indices[spec.Weighting];
        for (int i = 0; i < data.CityIds.Count; i++)
        {
            var unit = main.Units[i];
            report.Cities.Add(new CityResult
            {
                CityId = data.CityIds[i],
                Name = data.CityNames.Count > i ? data.CityNames[i] : data.CityIds[i],
                Tier = tiers[i],
                Rescity = unit.Composite,
                DimensionScores = { unit.DimensionScores },
                Projection = projection.Cities[i],
            });
        }
        if (data.Synthetic)
            report.Warnings.Add($"SYNTHETIC DATA ({data.Label}): these results come from generated numbers and say nothing about the cities named.");
        var censored = projection.Cities.Where(c => c.Recovery.Status == RecoveryStatus.Censored).Select(c => c.CityId).ToList();
        if (censored.Count > 0)
            report.Warnings.Add($"{censored.Count} {(censored.Count == 1 ? "city never recovers" : "cities never recover")} inside the data ({string.Join(", ", censored)}); the recovery-time regression drops them.");
        foreach (var m in report.Tables.SelectMany(t => t.Models.Select(m => (t, m))).Where(x => x.m.Error.Length > 0))
            report.Warnings.Add($"{m.t.Id} {m.m.Spec.Label} was not fitted: {m.m.Error}");

        report.Manifest = new Manifest
        {
            SoftwareVersion = SoftwareVersion,
            Inputs = { data.Inputs },
            Spec = spec,
            StartedAt = startedAt,
            ElapsedSeconds = clock.Elapsed.TotalSeconds,
            DataLabel = data.Label,
            Synthetic = data.Synthetic,
            DataSha256 = Convert.ToHexStringLower(SHA256.HashData(data.ToByteArray())),
        };
        await Report("report", $"Study finished in {clock.Elapsed.TotalSeconds:0.0} s.");
        LogFinished(clock.Elapsed.TotalSeconds);
        return report;
    }

    private static WeightingMethod Weighting(RegressionSpec r, StudySpec spec)
        => r.Weighting == WeightingMethod.Unspecified ? spec.Weighting : r.Weighting;

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Words(WeightingMethod w) => w switch
    {
        WeightingMethod.Entropy => "entropy weights",
        WeightingMethod.Equal => "equal weights",
        _ => "CRITIC weights",
    };

    public static ComputeIndexRequest IndexRequest(StudyData data, StudySpec spec, WeightingMethod method)
    {
        var r = new ComputeIndexRequest { UnitIds = { data.CityIds }, Indicators = { data.Indicators }, Method = method, WithinDimension = spec.WithinDimension };
        if (spec.HasShift) r.Shift = spec.Shift;
        return r;
    }

    public static ProjectExportsRequest ProjectionRequest(StudyData data, StudySpec spec)
    {
        var r = new ProjectExportsRequest { Series = { data.Exports }, Kind = data.ExportKind, GrowthMethod = spec.GrowthMethod, BaseWindow = spec.BaseWindow };
        if (spec.HasJanuaryShare) r.JanuaryShare = spec.JanuaryShare;
        return r;
    }

    private async Task<RegressionModel> Fit(TableSpec table, RegressionSpec r, Dictionary<string, double[]> variables, StudyData data, StudySpec spec, DateTime? deadline, CancellationToken ct)
    {
        var request = new FitRequest
        {
            RowIds = { data.CityIds },
            Dependent = r.Dependent,
            Regressors = { r.Regressors },
            CovarianceType = spec.CovarianceType,
            Influence = spec.LeaveOneOut,
        };
        if (spec.Bootstrap.Replications > 0) request.Bootstrap = spec.Bootstrap;
        foreach (var name in r.Regressors.Prepend(r.Dependent).SelectMany(n => n.Split('*')).Distinct())
            request.Columns.Add(new Column { Name = name, Values = { variables[name] } });

        var model = new RegressionModel { Spec = r, Weighting = Weighting(r, spec) };
        try
        {
            model.Fit = await Call("regression", clients.Endpoints.Regression, o => clients.Regression.FitAsync(request, o).ResponseAsync, deadline, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            model.Error = e.Status.Detail;
            LogModelFailed(table.Id, r.Label, e.StatusCode);
            return model;
        }
        if (spec.LeaveOneOut && model.Fit.Influence.Count > 0)
        {
            var usable = model.Fit.Influence.Where(i => i.EstimatesWithout.Count > 0).ToList();
            if (usable.Count > 0)
            {
                var min = usable.MinBy(i => i.EstimatesWithout[0])!;
                var max = usable.MaxBy(i => i.EstimatesWithout[0])!;
                model.LooMin = min.EstimatesWithout[0];
                model.LooMinCity = min.RowId;
                model.LooMax = max.EstimatesWithout[0];
                model.LooMaxCity = max.RowId;
            }
        }
        return model;
    }

    /// <summary>
    /// One outbound call: its own deadline (never later than the study's) and the study's
    /// cancellation; a service that cannot be reached fails the study at once, named.
    /// </summary>
    private async Task<T> Call<T>(string service, string address, Func<CallOptions, Task<T>> call, DateTime? deadline, CancellationToken ct)
    {
        var own = DateTime.UtcNow + options.CallTimeout;
        var callOptions = new CallOptions(deadline: deadline is { } d && d < own ? d : own, cancellationToken: ct);
        try
        {
            return await call(callOptions);
        }
        catch (RpcException e) when (Unreachable.Is(e))
        {
            LogUnavailable(service, address);
            throw Unreachable.Named(e, service, address, "the study cannot run without it");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"The {service} service did not answer within the deadline; allow the study more time."));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Study starting: {Cities} cities, {Tables} tables")]
    private partial void LogStarting(int cities, int tables);

    [LoggerMessage(Level = LogLevel.Information, Message = "Study finished in {Seconds} s")]
    private partial void LogFinished(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Table} {Label} was not fitted: {Code}")]
    private partial void LogModelFailed(string table, string label, StatusCode code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Service} service at {Address} is unavailable")]
    private partial void LogUnavailable(string service, string address);
}
