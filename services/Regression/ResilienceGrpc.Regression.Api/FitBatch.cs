using System.Globalization;
using Grpc.Core;
using ResilienceGrpc.Domain;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.ServiceDefaults;
using V1 = ResilienceGrpc.Contracts.Regression.V1;

namespace ResilienceGrpc.Regression.Api;

/// <summary>
/// <c>FitBatch</c>: many models over one data set in one call, for the specification curve
/// (thousands of tiny fits that should not each pay a round trip). The columns are
/// converted once; each model is validated, its work counted against the batch limits
/// before anything runs, then the models are fitted in parallel, each exactly as
/// <c>Fit</c> would fit it (the same bits), with results in request order.
/// </summary>
public sealed partial class RegressionGrpcService
{
    public override Task<V1.FitBatchResponse> FitBatch(V1.FitBatchRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var plan = PlanBatch(request);
        using var span = Telemetry.Source.StartActivity("regression.fit_batch");
        span?.SetTag("regression.models", plan.Length);
        span?.SetTag("regression.rows", plan.Length == 0 ? 0 : RowCount(request));

        var columns = request.Columns.Select(c => new NamedColumn(c.Name, c.Values.ToArray())).ToList();
        var rowIds = request.RowIds.Count == 0 ? null : request.RowIds.ToArray();
        var full = new RegressionData(columns, rowIds);
        var results = new V1.BatchResult[plan.Length];
        Parallel.For(
            0,
            plan.Length,
            new ParallelOptions { CancellationToken = ct },
            i =>
            {
                var (model, options, excluded) = plan[i];
                var data = excluded.Length == 0 ? full : Without(full, excluded);
                try
                {
                    var report = RegressionAnalysis.Run(data, model, options with { Threads = 1 }, ct);
                    results[i] = new V1.BatchResult { Fit = RegressionMapping.ToResponse(report, options) };
                }
                catch (DomainInputException e) when (e is InvalidInputException or InfeasibleInputException)
                {
                    results[i] = new V1.BatchResult
                    {
                        Error = new V1.BatchError
                        {
                            Code = (int)(
                                e is InvalidInputException ? StatusCode.InvalidArgument : StatusCode.FailedPrecondition
                            ),
                            Field = e.Field,
                            Message = e.Message,
                        },
                    };
                }
            }
        );
        var response = new V1.FitBatchResponse();
        response.Results.AddRange(results);
        return Task.FromResult(response);
    }

    private static int RowCount(V1.FitBatchRequest request) =>
        request.Columns.Count == 0 ? request.RowIds.Count : request.Columns[0].Values.Count;

    /// <summary>
    /// Every model's spec and options, and the rows it leaves out, checked before any fit:
    /// a malformed model or an unknown excluded row fails the whole request (INVALID_ARGUMENT,
    /// naming <c>models[i]...</c>), and a batch over a limit fails with RESOURCE_EXHAUSTED.
    /// </summary>
    private (ModelSpec Model, RegressionOptions Options, int[] Excluded)[] PlanBatch(V1.FitBatchRequest request)
    {
        if (request.Models.Count == 0)
            throw new InvalidInputException("models", "The batch has no models; send at least one.");
        if (request.Models.Count > limits.MaxBatchModels)
            throw new WorkLimitException(
                "models",
                $"The batch has {request.Models.Count:N0} models; the limit is {limits.MaxBatchModels:N0} per call ({RegressionLimits.Key(nameof(RegressionLimits.MaxBatchModels))}). Split it into several calls."
            );
        long rows = RowCount(request);
        Dictionary<string, int>? rowIndex = null;
        var plan = new (ModelSpec, RegressionOptions, int[])[request.Models.Count];
        long fitWork = 0,
            bootstrapWork = 0;
        for (int i = 0; i < request.Models.Count; i++)
        {
            var m = request.Models[i];
            var head = new V1.FitRequest
            {
                Dependent = m.Dependent,
                Regressors = { m.Regressors },
                CovarianceType = m.CovarianceType,
                Bootstrap = m.Bootstrap,
                NoIntercept = m.NoIntercept,
            };
            if (m.HasTolerance)
                head.Tolerance = m.Tolerance;
            ModelSpec model;
            RegressionOptions options;
            try
            {
                (model, options) = RegressionMapping.ToModel(head);
            }
            catch (InvalidInputException e)
            {
                throw new InvalidInputException($"models[{i}].{e.Field}", $"Model {i + 1}: {e.Message}");
            }
            if (string.IsNullOrEmpty(m.Dependent))
                throw new InvalidInputException(
                    $"models[{i}].dependent",
                    $"Model {i + 1} names no dependent variable."
                );
            var excluded = new int[m.ExcludedRowIds.Count];
            if (excluded.Length > 0)
            {
                if (request.RowIds.Count == 0)
                    throw new InvalidInputException(
                        $"models[{i}].excluded_row_ids",
                        $"Model {i + 1} leaves rows out by id, but the batch sends no row_ids."
                    );
                rowIndex ??= IndexRows(request.RowIds);
                for (int r = 0; r < excluded.Length; r++)
                    if (!rowIndex.TryGetValue(m.ExcludedRowIds[r], out excluded[r]))
                        throw new InvalidInputException(
                            $"models[{i}].excluded_row_ids[{r}]",
                            $"Model {i + 1} leaves out row '{Names.Shown(m.ExcludedRowIds[r])}', which is not among the batch's row_ids."
                        );
                Array.Sort(excluded);
            }
            plan[i] = (model, options, excluded);
            int parameters = m.Regressors.Count + (m.NoIntercept ? 0 : 1);
            var (fit, bootstrap) = limits.CheckModel(rows, parameters, options.BootstrapReplications, $"models[{i}].");
            fitWork += fit;
            bootstrapWork += bootstrap;
        }
        limits.CheckWork(fitWork, bootstrapWork, "models", "models");
        return plan;
    }

    private static Dictionary<string, int> IndexRows(IReadOnlyList<string> ids)
    {
        var index = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (int r = 0; r < ids.Count; r++)
            if (!index.TryAdd(ids[r], r))
                throw new InvalidInputException(
                    $"row_ids[{r}]",
                    $"Row id '{Names.Shown(ids[r])}' appears twice; row ids must be unique."
                );
        return index;
    }

    /// <summary>The data without the given rows (sorted indices).</summary>
    private static RegressionData Without(RegressionData data, int[] excluded)
    {
        int n = data.Columns.Count == 0 ? data.RowIds?.Count ?? 0 : data.Columns[0].Values.Length;
        var keep = new List<int>(n);
        for (int r = 0, e = 0; r < n; r++)
        {
            while (e < excluded.Length && excluded[e] < r)
                e++;
            if (e < excluded.Length && excluded[e] == r)
                continue;
            keep.Add(r);
        }
        var columns = data
            .Columns.Select(c => new NamedColumn(
                c.Name,
                c.Values.Length == n ? Subset(c.Values.Span, keep) : c.Values
            ))
            .ToList();
        var ids = data.RowIds is { } all ? keep.Select(r => all[r]).ToArray() : null;
        return new RegressionData(columns, ids);
    }

    private static double[] Subset(ReadOnlySpan<double> values, List<int> rows)
    {
        var subset = new double[rows.Count];
        for (int i = 0; i < subset.Length; i++)
            subset[i] = values[rows[i]];
        return subset;
    }
}
