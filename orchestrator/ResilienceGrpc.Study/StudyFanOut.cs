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
        // The study's own projection starts first, so that a curve's projection refused for the
        // same data can defer to its refusal, which names the study's own field.
        var projectionTasks = new Dictionary<ProjectionVariant, Task<ProjectExportsResponse>>();
        Task<ProjectExportsResponse>? mainProjection = null;
        foreach (var variant in plan.Projections.OrderBy(v => v != plan.MainProjection))
        {
            var task = Project(variant);
            projectionTasks[variant] = task;
            if (variant == plan.MainProjection)
                mainProjection = task;
        }
        Task<ProjectExportsResponse> Project(ProjectionVariant v) =>
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
                            // When the study's own projection is refused too, its refusal is the one
                            // to report (awaiting it throws it). Otherwise only the curve asked for
                            // this projection: say so, and name the curve's field.
                            if (mainProjection is not null)
                                await mainProjection;
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
}
