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
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

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

        var plan = MultiversePlan.Specifications(spec, data);
        var mainIndex = new IndexVariant(spec.Weighting, false);
        var mainProjection = new ProjectionVariant(spec.GrowthMethod, spec.BaseWindow.StartYear, spec.BaseWindow.EndYear);
        var indexVariants = spec.Tables.SelectMany(t => t.Regressions).Select(r => new IndexVariant(Weighting(r, spec), false))
            .Prepend(mainIndex).Concat(plan.Select(p => p.Index)).Distinct().ToList();
        var projectionVariants = plan.Select(p => p.Projection).Prepend(mainProjection).Distinct().ToList();
        int fits = spec.Tables.Sum(t => t.Regressions.Count);
        int total = indexVariants.Count + projectionVariants.Count + fits + plan.Count;
        int done = 0;
        var gate = new SemaphoreSlim(1, 1);
        async Task Report(string stage, string message, double? eta = null)
        {
            await gate.WaitAsync(ct);
            try
            {
                var p = new StudyProgress { Stage = stage, Message = message, Completed = Volatile.Read(ref done), Total = total };
                if (eta is { } e) p.EtaSeconds = e;
                await progress(p);
            }
            finally { gate.Release(); }
        }

        await Report("load", $"Loaded {data.Label}: {data.CityIds.Count} cities, {data.Indicators.Count} indicators; {fits} regressions in {spec.Tables.Count} tables"
            + (plan.Count > 0 ? $", and a specification curve of {plan.Count:N0} specifications." : "."));

        // The first failure (a service down, a deadline) cancels every call still queued or in flight.
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = failFast.Token;

        // Index per variant, and the projections: independent, so concurrent; each through the cache.
        var cacheEvents = new List<CacheEvent>();
        var indexTasks = indexVariants.ToDictionary(v => v, v => FailFast(failFast, async () =>
        {
            using var stage = Telemetry.Source.StartActivity("study.index");
            stage?.SetTag("index.method", v.Weighting.ToString());
            stage?.SetTag("index.within_dimension", v.WithinDimension);
            var request = IndexRequest(data, spec, v);
            var (r, e) = await cache.GetOrComputeAsync($"index-{v.Name}", request,
                t => Call("indexing", clients.Endpoints.Indexing, o => clients.Indexing.ComputeIndexAsync(request, o).ResponseAsync, deadline, t), token);
            lock (cacheEvents) cacheEvents.Add(e);
            Interlocked.Increment(ref done);
            await Report("index", $"Index ({StudySpecs.Short(v.Weighting)} weights{(v.WithinDimension ? ", within-dimension scoring" : "")}) {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "computed")}.");
            return r;
        }));
        var projectionTasks = projectionVariants.ToDictionary(v => v, v => FailFast(failFast, async () =>
        {
            using var stage = Telemetry.Source.StartActivity("study.projection");
            var request = ProjectionRequest(data, spec, v);
            CacheEvent e;
            ProjectExportsResponse r;
            try
            {
                (r, e) = await cache.GetOrComputeAsync(v == mainProjection ? "projection" : $"projection-{v.Name}", request,
                    t => Call("projection", clients.Endpoints.Projection, o => clients.Projection.ProjectExportsAsync(request, o).ResponseAsync, deadline, t), token);
            }
            catch (RpcException x) when (v != mainProjection && x.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
            {
                // Only the curve asked for this projection: say so, and name the curve's field.
                throw new InvalidInputException("spec.multiverse", $"The specification curve's projection ({MultiversePlan.Word(v.Growth)} growth, base window {v.StartYear}-{v.EndYear}) was refused: {x.Status.Detail}");
            }
            lock (cacheEvents) cacheEvents.Add(e);
            stage?.SetTag("projection.cities", r.Cities.Count);
            Interlocked.Increment(ref done);
            await Report("projection", $"Exports of {r.Cities.Count} cities {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "projected")} ({v.Name}).");
            return r;
        }));
        await WhenAll(indexTasks.Values.Cast<Task>().Concat(projectionTasks.Values));
        var indices = indexTasks.ToDictionary(kv => kv.Key, kv => kv.Value.Result);
        var projections = projectionTasks.ToDictionary(kv => kv.Key, kv => kv.Value.Result);
        var projection = projections[mainProjection];
        var variableSets = new Dictionary<(IndexVariant, ProjectionVariant), Dictionary<string, double[]>>();
        Dictionary<string, double[]> VariablesOf(IndexVariant i, ProjectionVariant p)
        {
            if (!variableSets.TryGetValue((i, p), out var v))
                variableSets[(i, p)] = v = StudyVariables.Build(data, spec, indices[i], projections[p]);
            return v;
        }

        // Every regression of the tables, and the specification curve in batches, a few calls at a time.
        using var fitting = Telemetry.Source.StartActivity("study.regressions");
        fitting?.SetTag("regression.models", fits);
        fitting?.SetTag("regression.specifications", plan.Count);
        fitting?.SetTag("regression.covariance_type", spec.CovarianceType.ToString());
        fitting?.SetTag("regression.bootstrap_replications", spec.Bootstrap.Replications);
        var limiter = new SemaphoreSlim(options.Parallelism);
        var modelTasks = spec.Tables.Select(t => t.Regressions.Select(r =>
        {
            var variables = VariablesOf(new IndexVariant(Weighting(r, spec), false), mainProjection);
            return FailFast(failFast, async () =>
            {
                await limiter.WaitAsync(token);
                try
                {
                    var model = await Fit(t, r, variables, data, spec, deadline, token);
                    Interlocked.Increment(ref done);
                    await Report("regressions", $"{t.Id} {r.Label}: {(model.Error.Length > 0 ? "not fitted" : "fitted")}.");
                    return model;
                }
                finally { limiter.Release(); }
            });
        }).ToArray()).ToArray();
        var specifications = new Specification[plan.Count];
        var curveClock = Stopwatch.StartNew();
        int fitted = 0;
        var batchTasks = MultiverseBatches.Plan(plan, spec, data.CityIds.Count).Select(batch =>
        {
            var request = MultiverseBatches.Request(batch, plan, spec, data, VariablesOf(batch.Index, batch.Projection));
            return FailFast(failFast, async () =>
            {
                await limiter.WaitAsync(token);
                try
                {
                    var response = await Call("regression", clients.Endpoints.Regression, o => clients.Regression.FitBatchAsync(request, o).ResponseAsync, deadline, token);
                    MultiverseBatches.Read(batch, plan, response, specifications);
                    Interlocked.Add(ref done, batch.Members.Length);
                    int now = Interlocked.Add(ref fitted, batch.Members.Length);
                    double eta = curveClock.Elapsed.TotalSeconds / now * (plan.Count - now);
                    await Report("multiverse", $"Specification curve: {now:N0} of {plan.Count:N0} specifications fitted.", eta);
                }
                finally { limiter.Release(); }
            });
        }).ToList();
        await WhenAll(modelTasks.SelectMany(m => m).Cast<Task>().Concat(batchTasks));
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
            Weights = indices[mainIndex],
            Note = "Global weights sum to 1; a dimension's weight is the sum of its indicators' weights.",
        });
        for (int t = 0; t < spec.Tables.Count; t++)
        {
            var table = new Table { Id = spec.Tables[t].Id, Title = spec.Tables[t].Title };
            table.Models.AddRange(modelTasks[t].Select(m => m.Result));
            report.Tables.Add(table);
        }
        var tiers = StudyVariables.TierOf(data, spec);
        var main = indices[mainIndex];
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
        if (plan.Count > 0)
        {
            report.Multiverse = new Multiverse { Term = MultiversePlan.Term, Dependent = spec.Outcome, Specifications = { specifications } };
            report.Multiverse.Summary = MultiversePlan.Summarise(specifications);
        }
        if (data.Synthetic)
            report.Warnings.Add($"SYNTHETIC DATA ({data.Label}): these results come from generated numbers and say nothing about the cities named.");
        var censored = projection.Cities.Where(c => c.Recovery.Status == RecoveryStatus.Censored).Select(c => c.CityId).ToList();
        if (censored.Count > 0)
            report.Warnings.Add($"{censored.Count} {(censored.Count == 1 ? "city never recovers" : "cities never recover")} inside the data ({string.Join(", ", censored)}); the recovery-time regression drops them.");
        foreach (var m in report.Tables.SelectMany(t => t.Models.Select(m => (t, m))).Where(x => x.m.Error.Length > 0))
            report.Warnings.Add($"{m.t.Id} {m.m.Spec.Label} was not fitted: {m.m.Error}");
        if (specifications.FirstOrDefault(x => x.Error.Length > 0) is { } failed)
            report.Warnings.Add($"{specifications.Count(x => x.Error.Length > 0):N0} of {plan.Count:N0} specifications of the curve were not fitted; the first ({failed.Id}): {failed.Error}");

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
        => IndexRequest(data, spec, new IndexVariant(method, false));

    /// <summary>
    /// The index request of a variant. The global variant is the tables' request (the spec's own
    /// within-dimension setting shapes only the dimension scores); within-dimension scoring also
    /// makes the composite the mean of the dimension scores (docs/method.md §6).
    /// </summary>
    public static ComputeIndexRequest IndexRequest(StudyData data, StudySpec spec, IndexVariant variant)
    {
        var r = new ComputeIndexRequest { UnitIds = { data.CityIds }, Indicators = { data.Indicators }, Method = variant.Weighting, WithinDimension = spec.WithinDimension };
        if (variant.WithinDimension)
        {
            r.WithinDimension = true;
            r.CompositeRule = CompositeRule.DimensionMean;
        }
        if (spec.HasShift) r.Shift = spec.Shift;
        return r;
    }

    public static ProjectExportsRequest ProjectionRequest(StudyData data, StudySpec spec)
        => ProjectionRequest(data, spec, new ProjectionVariant(spec.GrowthMethod, spec.BaseWindow.StartYear, spec.BaseWindow.EndYear));

    public static ProjectExportsRequest ProjectionRequest(StudyData data, StudySpec spec, ProjectionVariant variant)
    {
        var r = new ProjectExportsRequest
        {
            Series = { data.Exports },
            Kind = data.ExportKind,
            GrowthMethod = variant.Growth,
            BaseWindow = new BaseWindow { StartYear = variant.StartYear, EndYear = variant.EndYear },
        };
        if (spec.HasJanuaryShare) r.JanuaryShare = spec.JanuaryShare;
        return r;
    }

    /// <summary>Runs a step of the study; its failure cancels every other step still running.</summary>
    private static Task<T> FailFast<T>(CancellationTokenSource study, Func<Task<T>> step) => Guard(study, step);

    private static Task FailFast(CancellationTokenSource study, Func<Task> step) => Guard(study, async () => { await step(); return true; });

    private static async Task<T> Guard<T>(CancellationTokenSource study, Func<Task<T>> step)
    {
        try { return await step(); }
        catch (Exception e) when (e is not OperationCanceledException || !study.IsCancellationRequested)
        {
            await study.CancelAsync();
            throw;
        }
    }

    /// <summary>Waits for every step; throws the failure that stopped the study, not a cancellation it caused.</summary>
    private static async Task WhenAll(IEnumerable<Task> tasks)
    {
        var all = tasks.ToList();
        try { await Task.WhenAll(all); }
        catch
        {
            var cause = all.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!)
                .FirstOrDefault(e => e is not OperationCanceledException && !(e is RpcException { StatusCode: StatusCode.Cancelled }));
            if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
        }
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
