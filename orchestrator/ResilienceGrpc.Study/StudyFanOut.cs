using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Study;

/// <summary>What the fan-out brought back: every service answer the report is made of.</summary>
public sealed record StudyResults(
    IReadOnlyDictionary<IndexVariant, ComputeIndexResponse> Indices,
    IReadOnlyDictionary<ProjectionVariant, ProjectExportsResponse> Projections,
    IReadOnlyList<IReadOnlyList<RegressionModel>> Models,
    IReadOnlyList<Specification> Curve,
    IReadOnlyList<CacheEvent> CacheEvents
);

/// <summary>Progress of a running study: a step counter and the writer, one event at a time.</summary>
public sealed class StudyProgressReporter(Func<StudyProgress, ValueTask> write, int total, CancellationToken ct)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _done;

    /// <summary>Counts finished steps.</summary>
    public void Done(int steps = 1) => Interlocked.Add(ref _done, steps);

    public async Task Report(string stage, string message, double? eta = null)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var p = new StudyProgress
            {
                Stage = stage,
                Message = message,
                Completed = Volatile.Read(ref _done),
                Total = total,
            };
            if (eta is { } e)
                p.EtaSeconds = e;
            await write(p);
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>
/// Step 2 of a study, fan-out: every call of the plan, over gRPC only. The indices and
/// projections run concurrently, each through the cache; then the table models and the
/// curve's batches, a few calls at a time. Every call has its deadline (never later than the
/// study's); the first failure cancels every call still queued or in flight.
/// </summary>
public sealed partial class StudyFanOut(
    StudyClients clients,
    StudyRunnerOptions options,
    IntermediateCache cache,
    StudyLimits limits,
    ILogger<StudyFanOut> logger
)
{
    public async Task<StudyResults> RunAsync(
        StudyData data,
        StudyPlan plan,
        StudyProgressReporter progress,
        DateTime? deadline,
        CancellationToken ct
    )
    {
        var spec = plan.Spec;
        await PreflightAsync(deadline, ct);
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = failFast.Token;

        var cacheEvents = new List<CacheEvent>();
        var indexTasks = plan.Indices.ToDictionary(
            v => v,
            v =>
                FailFast(
                    failFast,
                    async () =>
                    {
                        using var stage = Telemetry.Source.StartActivity("study.index");
                        stage?.SetTag("index.method", v.Weighting.ToString());
                        stage?.SetTag("index.within_dimension", v.WithinDimension);
                        var request = StudyPlan.IndexRequest(data, spec, v);
                        var (r, e) = await cache.GetOrComputeAsync(
                            $"index-{v.Name}",
                            request,
                            t =>
                                Call(
                                    "indexing",
                                    clients.Endpoints.Indexing,
                                    o => clients.Indexing.ComputeIndexAsync(request, o).ResponseAsync,
                                    deadline,
                                    t
                                ),
                            token
                        );
                        lock (cacheEvents)
                            cacheEvents.Add(e);
                        progress.Done();
                        await progress.Report(
                            "index",
                            $"Index ({StudySpecs.Short(v.Weighting)} weights{(v.WithinDimension ? ", within-dimension scoring" : "")}) {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "computed")}."
                        );
                        return r;
                    }
                )
        );
        var projectionTasks = plan.Projections.ToDictionary(
            v => v,
            v =>
                FailFast(
                    failFast,
                    async () =>
                    {
                        using var stage = Telemetry.Source.StartActivity("study.projection");
                        var request = StudyPlan.ProjectionRequest(data, spec, v);
                        CacheEvent e;
                        ProjectExportsResponse r;
                        try
                        {
                            (r, e) = await cache.GetOrComputeAsync(
                                v == plan.MainProjection ? "projection" : $"projection-{v.Name}",
                                request,
                                t =>
                                    Call(
                                        "projection",
                                        clients.Endpoints.Projection,
                                        o => clients.Projection.ProjectExportsAsync(request, o).ResponseAsync,
                                        deadline,
                                        t
                                    ),
                                token
                            );
                        }
                        catch (RpcException x)
                            when (v != plan.MainProjection
                                && x.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition
                            )
                        {
                            // Only the curve asked for this projection: say so, and name the curve's field.
                            throw new InvalidInputException(
                                "spec.multiverse",
                                $"The specification curve's projection ({MultiversePlan.Word(v.Growth)} growth, base window {v.StartYear}-{v.EndYear}) was refused: {x.Status.Detail}"
                            );
                        }
                        lock (cacheEvents)
                            cacheEvents.Add(e);
                        stage?.SetTag("projection.cities", r.Cities.Count);
                        progress.Done();
                        await progress.Report(
                            "projection",
                            $"Exports of {r.Cities.Count} cities {(e.Status == CacheStatus.Hit ? $"read from the cache ({e.Source})" : "projected")} ({v.Name})."
                        );
                        return r;
                    }
                )
        );
        await WhenAll(indexTasks.Values.Cast<Task>().Concat(projectionTasks.Values));
        var indices = indexTasks.ToDictionary(kv => kv.Key, kv => kv.Value.Result);
        var projections = projectionTasks.ToDictionary(kv => kv.Key, kv => kv.Value.Result);
        var variableSets = new Dictionary<(IndexVariant, ProjectionVariant), Dictionary<string, double[]>>();
        Dictionary<string, double[]> VariablesOf(IndexVariant i, ProjectionVariant p)
        {
            if (!variableSets.TryGetValue((i, p), out var v))
                variableSets[(i, p)] = v = StudyVariables.Build(data, spec, indices[i], projections[p]);
            return v;
        }

        using var fitting = Telemetry.Source.StartActivity("study.regressions");
        fitting?.SetTag("regression.models", plan.Fits);
        fitting?.SetTag("regression.specifications", plan.Curve.Count);
        fitting?.SetTag("regression.covariance_type", spec.CovarianceType.ToString());
        fitting?.SetTag("regression.bootstrap_replications", spec.Bootstrap.Replications);
        var limiter = new SemaphoreSlim(options.Parallelism);
        var modelTasks = spec
            .Tables.Select(t =>
                t.Regressions.Select(r =>
                    {
                        var variables = VariablesOf(
                            new IndexVariant(StudyPlan.WeightingOf(r, spec), false),
                            plan.MainProjection
                        );
                        return FailFast(
                            failFast,
                            async () =>
                            {
                                await limiter.WaitAsync(token);
                                try
                                {
                                    var model = await Fit(t, r, variables, data, spec, deadline, token);
                                    progress.Done();
                                    await progress.Report(
                                        "regressions",
                                        $"{t.Id} {r.Label}: {(model.Error.Length > 0 ? "not fitted" : "fitted")}."
                                    );
                                    return model;
                                }
                                finally
                                {
                                    limiter.Release();
                                }
                            }
                        );
                    })
                    .ToArray()
            )
            .ToArray();
        var specifications = new Specification[plan.Curve.Count];
        var curveClock = Stopwatch.StartNew();
        int fitted = 0;
        var batchTasks = MultiverseBatches
            .Plan(plan.Curve, spec, data.CityIds.Count, limits)
            .Select(batch =>
            {
                var request = MultiverseBatches.Request(
                    batch,
                    plan.Curve,
                    spec,
                    data,
                    VariablesOf(batch.Index, batch.Projection)
                );
                return FailFast(
                    failFast,
                    async () =>
                    {
                        await limiter.WaitAsync(token);
                        try
                        {
                            var response = await Call(
                                "regression",
                                clients.Endpoints.Regression,
                                o => clients.Regression.FitBatchAsync(request, o).ResponseAsync,
                                deadline,
                                token
                            );
                            MultiverseBatches.Read(batch, plan.Curve, response, specifications);
                            progress.Done(batch.Members.Length);
                            int now = Interlocked.Add(ref fitted, batch.Members.Length);
                            double eta = curveClock.Elapsed.TotalSeconds / now * (plan.Curve.Count - now);
                            await progress.Report(
                                "multiverse",
                                $"Specification curve: {now:N0} of {plan.Curve.Count:N0} specifications fitted.",
                                eta
                            );
                        }
                        finally
                        {
                            limiter.Release();
                        }
                    }
                );
            })
            .ToList();
        await WhenAll(modelTasks.SelectMany(m => m).Cast<Task>().Concat(batchTasks));
        return new StudyResults(
            indices,
            projections,
            modelTasks.Select(m => (IReadOnlyList<RegressionModel>)m.Select(x => x.Result).ToList()).ToList(),
            specifications,
            cacheEvents.OrderBy(e => e.Intermediate, StringComparer.Ordinal).ToList()
        );
    }

    /// <summary>Runs a step of the study; its failure cancels every other step still running.</summary>
    private static Task<T> FailFast<T>(CancellationTokenSource study, Func<Task<T>> step) => Guard(study, step);

    private static Task FailFast(CancellationTokenSource study, Func<Task> step) =>
        Guard(
            study,
            async () =>
            {
                await step();
                return true;
            }
        );

    private static async Task<T> Guard<T>(CancellationTokenSource study, Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
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
        try
        {
            await Task.WhenAll(all);
        }
        catch
        {
            var cause = all.Where(t => t.IsFaulted)
                .Select(t => t.Exception!.InnerException!)
                .FirstOrDefault(e =>
                    e is not OperationCanceledException && !(e is RpcException { StatusCode: StatusCode.Cancelled })
                );
            if (cause is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
        }
    }

    private async Task<RegressionModel> Fit(
        TableSpec table,
        RegressionSpec r,
        Dictionary<string, double[]> variables,
        StudyData data,
        StudySpec spec,
        DateTime? deadline,
        CancellationToken ct
    )
    {
        var request = new FitRequest
        {
            RowIds = { data.CityIds },
            Dependent = r.Dependent,
            Regressors = { r.Regressors },
            CovarianceType = spec.CovarianceType,
            Influence = spec.LeaveOneOut,
        };
        if (spec.Bootstrap.Replications > 0)
            request.Bootstrap = spec.Bootstrap;
        foreach (var name in r.Regressors.Prepend(r.Dependent).SelectMany(n => n.Split('*')).Distinct())
            request.Columns.Add(new Column { Name = name, Values = { variables[name] } });

        var model = new RegressionModel { Spec = r, Weighting = StudyPlan.WeightingOf(r, spec) };
        try
        {
            model.Fit = await Call(
                "regression",
                clients.Endpoints.Regression,
                o => clients.Regression.FitAsync(request, o).ResponseAsync,
                deadline,
                ct
            );
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
    private async Task<T> Call<T>(
        string service,
        string address,
        Func<CallOptions, Task<T>> call,
        DateTime? deadline,
        CancellationToken ct
    )
    {
        var own = DateTime.UtcNow + options.CallTimeout;
        var callOptions = new CallOptions(deadline: deadline is { } d && d < own ? d : own, cancellationToken: ct);
        try
        {
            return await call(callOptions);
        }
        catch (RpcException e)
            when (Unreachable.Is(e)
                || (e.Status.DebugException is not null && e.StatusCode is StatusCode.Internal or StatusCode.Unknown)
            )
        {
            // A failure on this side of the wire (no connection, no answer to a ping): a sentence naming the service, no .NET text.
            LogUnavailable(service, address);
            throw Unreachable.Named(e, service, address, "the study cannot run without it");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new RpcException(
                new Status(
                    StatusCode.DeadlineExceeded,
                    $"The {service} service did not answer within the deadline; allow the study more time."
                )
            );
        }
    }

    /// <summary>
    /// Before any work, every service answers its health check within the preflight bound, so a
    /// service that is down, or a listener that accepts connections and never answers, fails the
    /// study in seconds with UNAVAILABLE naming it, instead of holding each call to its deadline.
    /// </summary>
    private async Task PreflightAsync(DateTime? deadline, CancellationToken ct)
    {
        var checks = clients
            .Health.Select(async h =>
            {
                var own = DateTime.UtcNow + options.Preflight;
                bool studyDeadline = deadline is { } d && d < own;
                try
                {
                    var reply = await h.Client.CheckAsync(
                        new HealthCheckRequest(),
                        deadline: studyDeadline ? deadline : own,
                        cancellationToken: ct
                    );
                    if (reply.Status != HealthCheckResponse.Types.ServingStatus.Serving)
                        throw new RpcException(
                            new Status(
                                StatusCode.Unavailable,
                                $"The {h.Service} service at {h.Address} is not serving ({reply.Status}); the study cannot run without it."
                            )
                        );
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
                {
                    // A server without the health service: nothing to check here; its calls are bounded by their deadlines.
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && !studyDeadline)
                {
                    LogUnavailable(h.Service, h.Address);
                    throw new RpcException(
                        new Status(
                            StatusCode.Unavailable,
                            $"The {h.Service} service at {h.Address} did not answer its health check within {options.Preflight.TotalSeconds:0.#} s; the study cannot run without it."
                        )
                    );
                }
                catch (RpcException e)
                    when (e.Status.DebugException is not null
                        && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown
                    )
                {
                    LogUnavailable(h.Service, h.Address);
                    throw Unreachable.Named(
                        new RpcException(new Status(StatusCode.Unavailable, e.Status.Detail, e.Status.DebugException)),
                        h.Service,
                        h.Address,
                        "the study cannot run without it"
                    );
                }
            })
            .ToList();
        try
        {
            await Task.WhenAll(checks);
        }
        catch
        {
            // The first service found down, in the order indexing, projection, regression.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(
                checks.First(t => t.IsFaulted).Exception!.InnerException!
            );
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Table} {Label} was not fitted: {Code}")]
    private partial void LogModelFailed(string table, string label, StatusCode code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Service} service at {Address} is unavailable")]
    private partial void LogUnavailable(string service, string address);
}
