using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using static ResilienceGrpc.Cli.CommandLineApp;

namespace ResilienceGrpc.Cli;

/// <summary>The regress verb: a fit in process or against a service, streamed above a size.</summary>
public static partial class Verbs
{
    // ---- regress ----
    /// <summary>Above this many bytes of data, regress streams the rows in chunks.</summary>
    public const int StreamAboveBytes = 3 * 1024 * 1024;

    private const int ChunkValues = 128 * 1024;

    /// <summary>
    /// At most this many values of one column per chunk: the receiver's parser gives each column
    /// of a chunk its own array, and at 64 KiB it stays below the large-object heap (85,000
    /// bytes), where short-lived arrays are cheap and their memory is reused at once.
    /// </summary>
    private const int ColumnChunkValues = 8 * 1024;

    private static Command Regress(VerbContext io)
    {
        var data = new Option<string>("--data")
        {
            Description = "Any CSV with a header row, '.' decimals, empty cell = missing; or an Apache Parquet file (.parquet: numeric columns, null = missing).",
            Required = true,
        };
        var y = new Option<string>("--y") { Description = "Dependent variable's column.", Required = true };
        var x = new Option<string>("--x")
        {
            Description = "Regressors' columns, comma separated; 'a*b' is the product of a and b.",
            Required = true,
        };
        var vce = new Option<string>("--vce")
        {
            Description = "Covariance: classical, hc0, hc1 (Stata's robust; default), hc2 or hc3.",
            DefaultValueFactory = _ => "hc1",
        };
        vce.AcceptOnlyFromAmong("classical", "hc0", "hc1", "hc2", "hc3");
        var bootstrap = new Option<int?>("--bootstrap")
        {
            Description = "Wild-bootstrap replications for the slopes' p-values (9999 is usual).",
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed of the bootstrap (default 20200123).",
            DefaultValueFactory = _ => 20200123UL,
        };
        var influence = new Option<bool>("--influence")
        {
            Description = "Also report each row's leave-one-out coefficients (in json).",
        };
        var id = new Option<string>("--id")
        {
            Description = "Column of row ids (default: a 'city' or 'id' column if present).",
        };
        var tolerance = new Option<double?>("--tolerance")
        {
            Description =
                "Pivot tolerance of the rank decision (default 1e-7, R's); smaller values, down to 1e-15, accept ill-conditioned designs such as high-degree polynomials.",
        };
        var noIntercept = new Option<bool>("--no-intercept")
        {
            Description = "Fit without an intercept (R's y ~ 0 + x).",
        };
        var url = RegressionUrl;
        var cmd = new Command("regress", "OLS with robust standard errors on any CSV.")
        {
            data,
            y,
            x,
            vce,
            bootstrap,
            seed,
            influence,
            id,
            tolerance,
            noIntercept,
            url,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        var regressors = parse
                            .GetValue(x)!
                            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                        if (regressors.Length == 0)
                            throw new CommandLineException("--x names no columns; give at least one, comma separated.");
                        string dependent = parse.GetValue(y)!;
                        using var progress = new TerminalProgress(io.Err, parse.GetValue(Progress));
                        progress.Report($"Reading {Path.GetFileName(parse.GetValue(data))}");
                        bool inProcess =
                            ServiceConnection.AddressOf(RegressionGrpcService.ModuleName, parse.GetValue(url)) is null;
                        // Fitted here, the columns are read straight into the design's layout (no copy of X).
                        var read = NumericColumns.Read(
                            parse.GetValue(data)!,
                            regressors.Prepend(dependent),
                            parse.GetValue(id),
                            ct,
                            inProcess
                                ? new Regression.Domain.ModelSpec(dependent, regressors, parse.GetValue(noIntercept))
                                : null
                        );
                        var request = new FitRequest
                        {
                            Dependent = dependent,
                            Regressors = { regressors },
                            CovarianceType = parse.GetValue(vce) switch
                            {
                                "classical" => CovarianceType.Classical,
                                "hc0" => CovarianceType.Hc0,
                                "hc2" => CovarianceType.Hc2,
                                "hc3" => CovarianceType.Hc3,
                                _ => CovarianceType.Hc1,
                            },
                            Influence = parse.GetValue(influence),
                            NoIntercept = parse.GetValue(noIntercept),
                        };
                        if (parse.GetValue(tolerance) is { } tol)
                            request.Tolerance = tol;
                        if (parse.GetValue(bootstrap) is { } b)
                        {
                            if (b < 1)
                                throw new CommandLineException(
                                    "--bootstrap needs a positive number of replications, for example 9999."
                                );
                            request.Bootstrap = new BootstrapOptions { Replications = b, Seed = parse.GetValue(seed) };
                        }
                        string what =
                            $"Fitting {dependent} on {regressors.Length} regressors, {read.Rows:N0} rows"
                            + (
                                request.Bootstrap is null
                                    ? ""
                                    : $", {request.Bootstrap.Replications:N0} bootstrap replications"
                            );
                        FitResponse response;
                        if (inProcess)
                        {
                            // No service named: run the regression service's own code in this process
                            // (no server to start, no second copy of the data on the wire), under the
                            // same --timeout a call would have.
                            progress.Report(what);
                            var columns = read
                                .Columns.Select(c => new Regression.Domain.NamedColumn(c.Name, c.Values))
                                .ToList();
                            var dataSet = new Regression.Domain.RegressionData(
                                columns,
                                read.RowIds.Count == 0 ? null : read.RowIds
                            );
                            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                            deadline.CancelAfter(
                                TimeSpan.FromMilliseconds(
                                    Math.Min(int.MaxValue - 1, (Deadline(parse) - DateTime.UtcNow).TotalMilliseconds)
                                )
                            );
                            try
                            {
                                response = RegressionGrpcService.FitInProcess(request, dataSet, deadline.Token);
                            }
                            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                            {
                                // The same outcome, sentence and exit code as a served call past its deadline.
                                throw new RpcException(
                                    new Status(StatusCode.DeadlineExceeded, "Deadline exceeded in process.")
                                );
                            }
                        }
                        else
                        {
                            // Small data go in one call; larger data are streamed straight from
                            // the columns read, with no message holding a copy of them.
                            var streamed = new StreamedData(request, read.Columns, read.RowIds);
                            bool whole =
                                StreamedFit.Size(new StreamedChunk(streamed, 0, read.Rows, First: true))
                                <= StreamAboveBytes;
                            if (whole)
                            {
                                request.RowIds.AddRange(read.RowIds);
                                foreach (var (name, values) in read.Columns)
                                    request.Columns.Add(new Column { Name = name, Values = { values.ToArray() } });
                            }
                            await using var conn = await Connect(
                                RegressionGrpcService.Module,
                                parse.GetValue(url),
                                progress,
                                parse,
                                ct
                            );
                            var client = new RegressionService.RegressionServiceClient(conn.Channel);
                            var deadline = Deadline(parse);
                            if (whole)
                            {
                                progress.Report(what);
                                response = await Call(
                                    conn,
                                    () =>
                                        client
                                            .FitAsync(request, deadline: deadline, cancellationToken: ct)
                                            .ResponseAsync
                                );
                            }
                            else
                            {
                                response = await Call(conn, () => Stream(client, streamed, progress, deadline, ct));
                            }
                        }
                        progress.Dispose();
                        Write(io.Out, parse, response, ResultTables.Regression(response));
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    /// <summary>Sends a large fit in chunks of rows over <c>FitStream</c>.</summary>
    public static Task<FitResponse> Stream(
        RegressionService.RegressionServiceClient client,
        FitRequest request,
        TerminalProgress? progress,
        DateTime deadline,
        CancellationToken ct
    ) => Stream(client, StreamedData.Of(request), progress, deadline, ct);

    /// <summary>Sends a large fit in chunks of rows over <c>FitStream</c>, written straight from the data's arrays.</summary>
    public static async Task<FitResponse> Stream(
        RegressionService.RegressionServiceClient client,
        StreamedData data,
        TerminalProgress? progress,
        DateTime deadline,
        CancellationToken ct
    )
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(data);
        // The channel does not retry a streamed fit (it would buffer every chunk to replay
        // it; GrpcChannels), so a replica that dies mid-stream is handled here: the whole
        // stream is sent again (it is side-effect free), to whichever replica the balancer
        // picks, a few times at most.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StreamOnce(client, data, progress, deadline, ct);
            }
            catch (RpcException e)
                when (e.StatusCode == StatusCode.Unavailable
                    && attempt < StreamAttempts
                    && !ct.IsCancellationRequested
                    && DateTime.UtcNow < deadline
                )
            {
                progress?.Report(
                    $"The regression service went away mid-stream; sending again ({attempt + 1} of {StreamAttempts})"
                );
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct);
            }
        }
    }

    /// <summary>Attempts of a streamed fit, the first included.</summary>
    private const int StreamAttempts = 3;

    private static async Task<FitResponse> StreamOnce(
        RegressionService.RegressionServiceClient client,
        StreamedData data,
        TerminalProgress? progress,
        DateTime deadline,
        CancellationToken ct
    )
    {
        int rows = data.Rows;
        int rowsPerChunk = Math.Clamp(ChunkValues / Math.Max(1, data.Columns.Count), 1, ColumnChunkValues);
        using var call = client.Invoker.AsyncClientStreamingCall(
            StreamedFit.Method,
            null,
            new CallOptions(deadline: deadline, cancellationToken: ct)
        );
        try
        {
            for (int start = 0; start == 0 || start < rows; start += rowsPerChunk)
            {
                int count = Math.Min(rowsPerChunk, rows - start);
                await call.RequestStream.WriteAsync(new StreamedChunk(data, start, count, start == 0), ct);
                progress?.Report($"Sent {start + count:N0} of {rows:N0} rows");
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) when (!ct.IsCancellationRequested)
        {
            // The server refused mid-stream (a limit, a bad chunk): the write fails with a bare
            // CANCELLED, and the server's own status (code, field, message) is the response's.
            await call.ResponseAsync;
            throw;
        }
        catch (IOException) when (!ct.IsCancellationRequested)
        {
            // A replica killed mid-write fails the write with an IOException ("the request was
            // aborted"): the connection is gone, so unless the response says otherwise it is
            // UNAVAILABLE, which Stream sends again.
            try
            {
                await call.ResponseAsync;
            }
            catch (RpcException r)
                when (r.StatusCode
                        is StatusCode.Unavailable
                            or StatusCode.Internal
                            or StatusCode.Unknown
                            or StatusCode.Cancelled
                )
            {
                throw new RpcException(
                    new Status(StatusCode.Unavailable, "The connection to the regression service was lost mid-stream.")
                );
            }
            throw;
        }
        progress?.Report($"Fitting {data.Model.Dependent} on {rows:N0} rows");
        return await call.ResponseAsync;
    }
}
