using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Domain;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.ServiceDefaults;
using V1 = ResilienceGrpc.Contracts.Regression.V1;

namespace ResilienceGrpc.Regression.Api;

/// <summary><c>resilience.regression.v1.RegressionService</c>: validate, map, call <see cref="RegressionAnalysis"/>, map back.</summary>
/// <param name="limits">The work budget, bound from <c>Limits:Regression</c> at start.</param>
public sealed partial class RegressionGrpcService(RegressionLimits limits) : V1.RegressionService.RegressionServiceBase
{
    /// <summary>
    /// The module's short name, a constant so that a caller can name the service without
    /// initialising <see cref="Module"/>, whose gRPC descriptor takes tens of milliseconds to
    /// build in a fresh process (the in-process <c>regress</c> never needs it).
    /// </summary>
    public const string ModuleName = "regression";

    /// <summary>The module that hosts this service; its limits are bound from configuration and checked at start.</summary>
    public static ServiceModule Module { get; } =
        new(
            ModuleName,
            V1.RegressionService.Descriptor.FullName,
            b =>
                b.Services.AddSingleton(
                    ServiceLimits.Bind<RegressionLimits>(b.Configuration, RegressionLimits.Service)
                ),
            app => app.MapGrpcService<RegressionGrpcService>()
        );

    public override Task<V1.FitResponse> Fit(V1.FitRequest request, ServerCallContext context)
    {
        CheckBudget(request, request.Columns.Count == 0 ? 0 : request.Columns.Max(c => c.Values.Count));
        var (data, model, options) = RegressionMapping.ToDomain(request);
        using var span = Telemetry.Source.StartActivity("regression.fit");
        span?.SetTag("regression.rows", data.Columns.Count == 0 ? 0 : data.Columns[0].Values.Length);
        span?.SetTag("regression.regressors", model.Regressors.Count);
        span?.SetTag("regression.covariance_type", options.Covariance.ToString());
        span?.SetTag("regression.bootstrap_replications", options.BootstrapReplications);
        var report = RegressionAnalysis.Run(data, model, options, context.CancellationToken);
        span?.SetTag("regression.n_obs", report.Fit.N);
        return Task.FromResult(RegressionMapping.ToResponse(report, options));
    }

    /// <summary>
    /// Refuses a model over the budget (RESOURCE_EXHAUSTED naming the limit's key) before its
    /// design matrix is built or any fitting starts.
    /// </summary>
    private void CheckBudget(V1.FitRequest model, long rows)
    {
        int parameters = model.Regressors.Count + (model.NoIntercept ? 0 : 1);
        var (fit, bootstrap) = limits.CheckModel(
            rows,
            parameters,
            model.Bootstrap?.Replications ?? 0,
            influence: model.Influence
        );
        limits.CheckWork(fit, bootstrap);
    }

    /// <summary>
    /// The same fit without a server: the request's model fields with data already in
    /// domain form (the CLI's in-process path, on the user's own machine: no work budget).
    /// Domain exceptions propagate as they are.
    /// </summary>
    public static V1.FitResponse FitInProcess(
        V1.FitRequest model,
        RegressionData data,
        CancellationToken cancellationToken
    )
    {
        var (spec, options) = RegressionMapping.ToModel(model);
        var report = RegressionAnalysis.Run(data, spec, options, cancellationToken);
        return RegressionMapping.ToResponse(report, options);
    }

    public override async Task<V1.FitResponse> FitStream(
        IAsyncStreamReader<V1.FitRequest> requestStream,
        ServerCallContext context
    )
    {
        // Chunks are copied straight out of each message into each column's large blocks and put
        // together once at the end; no per-value list, no intermediate FitRequest.
        using var lease = StreamMemory.Start();
        V1.FitRequest? head = null;
        var names = new List<string>();
        var columns = new List<ColumnBuilder>();
        using var release = new ColumnsRelease(columns);
        var rowIds = new List<string>();
        long values = 0,
            rows = 0;
        int chunk = 0;
        await foreach (var part in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (head is null)
            {
                head = new V1.FitRequest
                {
                    Dependent = part.Dependent,
                    Regressors = { part.Regressors },
                    CovarianceType = part.CovarianceType,
                    Bootstrap = part.Bootstrap,
                    Influence = part.Influence,
                    NoIntercept = part.NoIntercept,
                };
                if (part.HasTolerance)
                    head.Tolerance = part.Tolerance;
                foreach (var c in part.Columns)
                {
                    names.Add(c.Name);
                    columns.Add(new ColumnBuilder(StreamMemory.Blocks));
                }
            }
            else if (ChangedModel(part, head) is { } changed)
            {
                throw new InvalidInputException(
                    changed,
                    $"Chunk {chunk + 1} changes the model ({changed}); send the model in the first chunk only, or the same model in every chunk."
                );
            }
            else if (part.Columns.Count != names.Count)
            {
                throw new InvalidInputException(
                    "columns",
                    $"Chunk {chunk + 1} has {part.Columns.Count} columns but the first chunk had {names.Count}; every chunk must send the same columns."
                );
            }
            int longest = 0;
            for (int c = 0; c < part.Columns.Count; c++)
            {
                if (part.Columns[c].Name != names[c])
                    throw new InvalidInputException(
                        $"columns[{c}].name",
                        $"Chunk {chunk + 1} sends column '{part.Columns[c].Name}' where the first chunk sent '{names[c]}'; keep the columns in the same order."
                    );
                int count = part.Columns[c].Values.Count;
                values += count;
                longest = Math.Max(longest, count);
                if (values > limits.MaxStreamedValues)
                    throw new WorkLimitException(
                        "columns",
                        $"The streamed data exceed {limits.MaxStreamedValues:N0} values in all; the limit is {RegressionLimits.Key(nameof(RegressionLimits.MaxStreamedValues))}. Fit a sample or aggregate first."
                    );
                Append(columns[c], part.Columns[c].Values);
            }
            rowIds.AddRange(part.RowIds);
            chunk++;
            // The budget is checked as the rows arrive, so an oversized model stops at the
            // chunk that passes it, not after the whole stream.
            rows += longest;
            CheckBudget(head, rows);
        }
        if (head is null)
            throw new InvalidInputException(
                "columns",
                "The stream ended before any data arrived; send at least one chunk."
            );

        using var span = Telemetry.Source.StartActivity("regression.fit_stream");
        span?.SetTag("regression.chunks", chunk);
        lease.Large = values * sizeof(double) >= LargeStreamBytes;
        var (spec, options) = RegressionMapping.ToModel(head);
        // The memory of a large stream: the blocks go back to the service's pool as they are
        // copied into the design's layout, which the design then uses as it is, so the peak is
        // about two copies of the data; the pool's blocks and the heap's memory go back to the
        // system once no large stream has run for a moment (StreamMemory; README, "Operating").
        // The helpers keep no reference to what they let go.
        var design = BuildDesign(names, columns, rowIds, spec);
        // The fit runs in its own frame and this one lets go of the design first, so nothing
        // of the fit outlives it.
        return FitDesign(Interlocked.Exchange(ref design, null!), options, context.CancellationToken);
    }

    private static V1.FitResponse FitDesign(
        DesignMatrix design,
        RegressionOptions options,
        CancellationToken cancellationToken
    ) => RegressionMapping.ToResponse(RegressionAnalysis.Run(design, options, cancellationToken), options);

    /// <summary>Puts each column together (releasing its blocks as they are copied), then builds the design.</summary>
    private static DesignMatrix BuildDesign(
        List<string> names,
        List<ColumnBuilder> columns,
        List<string> rowIds,
        ModelSpec spec
    )
    {
        // The columns laid out as the design will be, so that building it copies nothing (a
        // ragged column keeps its own length, for the design to refuse by name).
        var taken = ColumnBuilder.TakeAll(columns, names, spec);
        var whole = names.Select((name, c) => new NamedColumn(name, taken[c])).ToList();
        return DesignMatrix.Build(new RegressionData(whole, rowIds.Count == 0 ? null : rowIds.ToArray()), spec);
    }

    /// <summary>Appends a parsed field (whose array is not reachable) through a pooled array.</summary>
    private static void Append(ColumnBuilder column, Google.Protobuf.Collections.RepeatedField<double> values)
    {
        var staging = System.Buffers.ArrayPool<double>.Shared.Rent(values.Count);
        values.CopyTo(staging, 0);
        column.Append(staging.AsSpan(0, values.Count));
        System.Buffers.ArrayPool<double>.Shared.Return(staging);
    }

    /// <summary>Releases a stream's blocks however the call ends.</summary>
    private sealed class ColumnsRelease(List<ColumnBuilder> columns) : IDisposable
    {
        public void Dispose()
        {
            foreach (var c in columns)
                c.Dispose();
        }
    }

    /// <summary>Streams at least this large give their memory back once the service is idle.</summary>
    public const long LargeStreamBytes = 32L * 1024 * 1024;

    /// <summary>
    /// The most bytes of column blocks kept for the next stream (256 MiB: two streams at the
    /// default limit); they are unmapped once no stream has run for a second.
    /// </summary>
    public const long PooledStreamBytes = 256L * 1024 * 1024;
}

public sealed partial class RegressionGrpcService
{
    /// <summary>The first model field a later chunk sets to something other than the first chunk's, or null.</summary>
    private static string? ChangedModel(V1.FitRequest part, V1.FitRequest head)
    {
        if (part.Dependent.Length > 0 && part.Dependent != head.Dependent)
            return "dependent";
        if (part.Regressors.Count > 0 && !part.Regressors.SequenceEqual(head.Regressors))
            return "regressors";
        if (part.CovarianceType != V1.CovarianceType.Unspecified && part.CovarianceType != head.CovarianceType)
            return "covariance_type";
        if (part.Bootstrap is not null && !part.Bootstrap.Equals(head.Bootstrap))
            return "bootstrap";
        if (part.Influence && !head.Influence)
            return "influence";
        if (part.HasTolerance && (!head.HasTolerance || part.Tolerance != head.Tolerance))
            return "tolerance";
        if (part.NoIntercept && !head.NoIntercept)
            return "no_intercept";
        return null;
    }
}

/// <summary>Maps between the wire and the domain.</summary>
public static class RegressionMapping
{
    /// <summary>The smallest pivot tolerance accepted: below it, rounding noise would pass as a real column.</summary>
    public const double MinTolerance = 1e-15;

    public static (RegressionData Data, ModelSpec Model, RegressionOptions Options) ToDomain(V1.FitRequest request)
    {
        var (model, options) = ToModel(request);
        var data = new RegressionData(
            request.Columns.Select(c => new NamedColumn(c.Name, c.Values.ToArray())).ToList(),
            request.RowIds.Count == 0 ? null : request.RowIds.ToArray()
        );
        return (data, model, options);
    }

    /// <summary>The model and options of a request, without its data.</summary>
    public static (ModelSpec Model, RegressionOptions Options) ToModel(V1.FitRequest request)
    {
        var covariance = ToDomain(request.CovarianceType, "covariance_type");
        int replications = request.Bootstrap?.Replications ?? 0;
        if (replications < 0)
            throw new InvalidInputException(
                "bootstrap.replications",
                $"Bootstrap replications must be 0 (off) or more; {replications} was given."
            );
        double tolerance = request.HasTolerance ? request.Tolerance : HouseholderQr.Tolerance;
        if (!(tolerance >= MinTolerance && tolerance < 1))
            throw new InvalidInputException(
                "tolerance",
                $"The pivot tolerance must be at least {MinTolerance:0e0} and below 1 (R's default is 1e-7); {tolerance.ToString(System.Globalization.CultureInfo.InvariantCulture)} was given."
            );
        var model = new ModelSpec(request.Dependent, request.Regressors.ToArray(), request.NoIntercept);
        return (
            model,
            new RegressionOptions(covariance, replications, request.Bootstrap?.Seed ?? 0, request.Influence, tolerance)
        );
    }

    public static CovarianceType ToDomain(V1.CovarianceType type, string field) =>
        type switch
        {
            V1.CovarianceType.Classical => CovarianceType.Classical,
            V1.CovarianceType.Hc0 => CovarianceType.HC0,
            V1.CovarianceType.Hc1 => CovarianceType.HC1,
            V1.CovarianceType.Hc2 => CovarianceType.HC2,
            V1.CovarianceType.Hc3 => CovarianceType.HC3,
            _ => throw new InvalidInputException(
                field,
                "The covariance type is not set; use COVARIANCE_TYPE_CLASSICAL, _HC0, _HC1 (Stata's robust), _HC2 or _HC3."
            ),
        };

    public static V1.CovarianceType ToWire(CovarianceType type) =>
        type switch
        {
            CovarianceType.Classical => V1.CovarianceType.Classical,
            CovarianceType.HC0 => V1.CovarianceType.Hc0,
            CovarianceType.HC1 => V1.CovarianceType.Hc1,
            CovarianceType.HC2 => V1.CovarianceType.Hc2,
            _ => V1.CovarianceType.Hc3,
        };

    public static V1.FitResponse ToResponse(RegressionReport report, RegressionOptions options)
    {
        var response = new V1.FitResponse();
        var order = report.ReportingOrder.ToArray();
        foreach (int j in order)
        {
            var c = report.Inference.Coefficients[j];
            var coef = new V1.Coefficient
            {
                Term = c.Term,
                Estimate = c.Estimate,
                StdError = c.StdError,
                TValue = c.TValue,
                PValue = c.PValue,
                CiLow = c.CiLow,
                CiHigh = c.CiHigh,
            };
            if (report.Bootstrap?.FirstOrDefault(b => b.Term == c.Term) is { } boot)
                coef.BootstrapPValue = boot.PValue;
            response.Coefficients.Add(coef);
        }
        var f = report.Inference.FTest;
        response.Model = new V1.ModelSummary
        {
            NObs = report.Fit.N,
            NParams = report.Fit.K,
            DfResid = report.Fit.DfResid,
            RSquared = report.Fit.RSquared,
            AdjRSquared = report.Fit.AdjRSquared,
            FStatistic = f.Statistic,
            FDfNum = f.DfNum,
            FDfDen = f.DfDen,
            FPValue = f.PValue,
            FType = f.Robust ? V1.FTestType.Wald : V1.FTestType.Classical,
            CovarianceType = ToWire(report.Inference.CovarianceType),
            Rmse = Math.Sqrt(report.Fit.Sigma2),
            NDropped = report.Design.DroppedRowIds.Length,
            Dependent = report.Design.Dependent,
        };
        if (report.Bootstrap is not null)
            response.Bootstrap = new V1.BootstrapSummary
            {
                Replications = options.BootstrapReplications,
                Seed = options.BootstrapSeed,
                Weights = "rademacher",
                CovarianceType = ToWire(options.Covariance),
            };
        if (report.Influence is not null)
            foreach (var r in report.Influence)
            {
                var row = new V1.RowInfluence { RowId = r.RowId, Leverage = r.Leverage };
                if (r.EstimatesWithout is { } est)
                    row.EstimatesWithout.AddRange(order.Select(j => est[j]));
                response.Influence.Add(row);
            }
        response.Warnings.AddRange(report.Warnings);
        response.DroppedRowIds.AddRange(report.Design.DroppedRowIds);
        return response;
    }
}
