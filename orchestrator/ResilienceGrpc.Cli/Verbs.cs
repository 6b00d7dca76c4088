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

/// <summary>The verbs: index, project, regress, serve (study and sample live in StudyVerbs).</summary>
public static partial class Verbs
{
    public static IEnumerable<Command> All(VerbContext io) =>
        [.. StudyVerbs(io), Index(io), Project(io), Regress(io), Serve(io), Health(io), BenchVerbs.Bench(io)];

    // ---- health ----
    private static Command Health(VerbContext io)
    {
        var address = new Option<string>("--address")
        {
            Description = "The server to ask.",
            DefaultValueFactory = _ => "http://127.0.0.1:8080",
        };
        var service = new Option<string>("--service")
        {
            Description = "Full service name to ask about (default: the server as a whole).",
            DefaultValueFactory = _ => "",
        };
        var cmd = new Command(
            "health",
            "Ask a server's grpc.health.v1 service; exit 0 when SERVING (for container health checks)."
        )
        {
            address,
            service,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        var url = ServiceConnection.ParseUrl(parse.GetValue(address)!, "server");
                        using var channel = GrpcChannels.Create(url);
                        var reply = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(
                            new Grpc.Health.V1.HealthCheckRequest { Service = parse.GetValue(service) },
                            deadline: DateTime.UtcNow.AddSeconds(5),
                            cancellationToken: ct
                        );
                        io.Out.WriteLine(reply.Status.ToString().ToUpperInvariant());
                        return reply.Status == Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving
                            ? ExitOk
                            : ExitUnavailable;
                    }
                )
        );
        return cmd;
    }

    private static Option<string> Url(string service, string port) =>
        new($"--{service}")
        {
            Description =
                $"URL of a running {service} service (e.g. http://127.0.0.1:{port}; default: Services__{service}); without it, the service runs embedded.",
            DefaultValueFactory = _ => ProgramEnvironment.ServiceAddress(service)!,
        };

    private static readonly Option<string> Table = new("--table")
    {
        Description = "Print only this table (for example 'scores').",
    };

    // ---- index ----
    private static Command Index(VerbContext io)
    {
        var data = new Option<string>("--data")
        {
            Description = "Indicator table CSV: first column the unit id, one column per indicator.",
            Required = true,
        };
        var catalogue = new Option<string>("--catalogue")
        {
            Description = "Catalogue CSV: indicator,dimension,direction (positive/negative), optional label.",
            Required = true,
        };
        var method = new Option<string>("--method")
        {
            Description = "Weighting: entropy (the paper's), equal or critic.",
            DefaultValueFactory = _ => "entropy",
        };
        method.AcceptOnlyFromAmong("entropy", "equal", "critic");
        var shift = new Option<double?>("--shift")
        {
            Description = "Shift added to standardised values (default 0.0001); must be positive.",
        };
        var within = new Option<bool>("--within-dimension")
        {
            Description = "Dimension scores from weights re-derived inside each dimension.",
        };
        var url = IndexingUrl;
        var cmd = new Command("index", "Weigh indicators (entropy, equal or CRITIC) and score every unit.")
        {
            data,
            catalogue,
            method,
            shift,
            within,
            url,
            Table,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        var (units, indicators) = Loaders.IndicatorTable(
                            CsvTable.Read(parse.GetValue(data)!),
                            CsvTable.Read(parse.GetValue(catalogue)!)
                        );
                        var request = new ComputeIndexRequest
                        {
                            UnitIds = { units },
                            Indicators = { indicators },
                            Method = parse.GetValue(method) switch
                            {
                                "equal" => WeightingMethod.Equal,
                                "critic" => WeightingMethod.Critic,
                                _ => WeightingMethod.Entropy,
                            },
                            WithinDimension = parse.GetValue(within),
                        };
                        if (parse.GetValue(shift) is { } s)
                            request.Shift = s;
                        using var progress = new TerminalProgress(io.Err, parse.GetValue(Progress));
                        await using var conn = await Connect(
                            IndexingGrpcService.Module,
                            parse.GetValue(url),
                            progress,
                            ct
                        );
                        progress.Report($"Computing the index of {units.Count} units × {indicators.Count} indicators");
                        var client = new IndexingService.IndexingServiceClient(conn.Channel);
                        var response = await Call(
                            conn,
                            () =>
                                client
                                    .ComputeIndexAsync(request, deadline: Deadline(parse), cancellationToken: ct)
                                    .ResponseAsync
                        );
                        progress.Dispose();
                        Write(io.Out, parse, response, ResultTables.Index(response), parse.GetValue(Table));
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    // ---- project ----
    private static Command Project(VerbContext io)
    {
        var exports = new Option<string>("--exports")
        {
            Description = "Exports CSV in long form: city,period,exports (period YYYY or YYYY-MM).",
            Required = true,
        };
        var baseWindow = new Option<string>("--base")
        {
            Description = "Base window FIRST-LAST (default 2015-2019); the next year is projected.",
            DefaultValueFactory = _ => "2015-2019",
        };
        var growth = new Option<string>("--growth")
        {
            Description = "Base growth: geometric (CAGR, the paper's) or arithmetic.",
            DefaultValueFactory = _ => "geometric",
        };
        growth.AcceptOnlyFromAmong("geometric", "arithmetic");
        var cumulative = new Option<bool>("--cumulative")
        {
            Description = "Monthly values are year-to-date cumulative (as customs publishes them).",
        };
        var janShare = new Option<double?>("--january-share")
        {
            Description = "Share of a joint January+February value given to January (default 0.5).",
        };
        var url = ProjectionUrl;
        var cmd = new Command(
            "project",
            "Project each city's exports from its base trend; ratio, growth rate and recovery time."
        )
        {
            exports,
            baseWindow,
            growth,
            cumulative,
            janShare,
            url,
            Table,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        var (series, kind) = Loaders.Exports(
                            CsvTable.Read(parse.GetValue(exports)!),
                            parse.GetValue(cumulative)
                        );
                        var request = new ProjectExportsRequest
                        {
                            Series = { series },
                            Kind = kind,
                            GrowthMethod =
                                parse.GetValue(growth) == "arithmetic"
                                    ? GrowthMethod.Arithmetic
                                    : GrowthMethod.Geometric,
                            BaseWindow = Loaders.BaseWindow(parse.GetValue(baseWindow)!),
                        };
                        if (parse.GetValue(janShare) is { } j)
                            request.JanuaryShare = j;
                        using var progress = new TerminalProgress(io.Err, parse.GetValue(Progress));
                        await using var conn = await Connect(
                            ProjectionGrpcService.Module,
                            parse.GetValue(url),
                            progress,
                            ct
                        );
                        progress.Report($"Projecting exports of {series.Count} cities");
                        var client = new ProjectionService.ProjectionServiceClient(conn.Channel);
                        var response = await Call(
                            conn,
                            () =>
                                client
                                    .ProjectExportsAsync(request, deadline: Deadline(parse), cancellationToken: ct)
                                    .ResponseAsync
                        );
                        progress.Dispose();
                        Write(io.Out, parse, response, ResultTables.Projection(response), parse.GetValue(Table));
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    // ---- regress ----
    /// <summary>Above this many bytes of data, regress streams the rows in chunks.</summary>
    public const int StreamAboveBytes = 3 * 1024 * 1024;

    private const int ChunkValues = 128 * 1024;

    private static Command Regress(VerbContext io)
    {
        var data = new Option<string>("--data")
        {
            Description = "Any CSV with a header row, '.' decimals, empty cell = missing.",
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
                        var read = NumericColumns.Read(
                            parse.GetValue(data)!,
                            regressors.Prepend(dependent),
                            parse.GetValue(id),
                            ct
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
                        if (ServiceConnection.AddressOf(RegressionGrpcService.Module.Name, parse.GetValue(url)) is null)
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
                            request.RowIds.AddRange(read.RowIds);
                            foreach (var (name, values) in read.Columns)
                                request.Columns.Add(new Column { Name = name, Values = { values } });
                            await using var conn = await Connect(
                                RegressionGrpcService.Module,
                                parse.GetValue(url),
                                progress,
                                ct
                            );
                            var client = new RegressionService.RegressionServiceClient(conn.Channel);
                            var deadline = Deadline(parse);
                            if (request.CalculateSize() <= StreamAboveBytes)
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
                                response = await Call(conn, () => Stream(client, request, progress, deadline, ct));
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
    public static async Task<FitResponse> Stream(
        RegressionService.RegressionServiceClient client,
        FitRequest request,
        TerminalProgress? progress,
        DateTime deadline,
        CancellationToken ct
    )
    {
        int rows = request.Columns[0].Values.Count;
        int rowsPerChunk = Math.Max(1, ChunkValues / Math.Max(1, request.Columns.Count));
        using var call = client.FitStream(deadline: deadline, cancellationToken: ct);
        try
        {
            await SendChunks(call, request, rows, rowsPerChunk, progress, ct);
        }
        catch (RpcException) when (!ct.IsCancellationRequested)
        {
            // The server refused mid-stream (a limit, a bad chunk): the write fails with a bare
            // CANCELLED, and the server's own status (code, field, message) is the response's.
            await call.ResponseAsync;
            throw;
        }
        progress?.Report($"Fitting {request.Dependent} on {rows:N0} rows");
        return await call.ResponseAsync;
    }

    private static async Task SendChunks(
        AsyncClientStreamingCall<FitRequest, FitResponse> call,
        FitRequest request,
        int rows,
        int rowsPerChunk,
        TerminalProgress? progress,
        CancellationToken ct
    )
    {
        for (int start = 0; start < rows; start += rowsPerChunk)
        {
            int count = Math.Min(rowsPerChunk, rows - start);
            var chunk = new FitRequest();
            if (start == 0)
            {
                chunk.Dependent = request.Dependent;
                chunk.Regressors.AddRange(request.Regressors);
                chunk.CovarianceType = request.CovarianceType;
                chunk.Bootstrap = request.Bootstrap;
                chunk.Influence = request.Influence;
                chunk.NoIntercept = request.NoIntercept;
                if (request.HasTolerance)
                    chunk.Tolerance = request.Tolerance;
            }
            if (request.RowIds.Count > 0)
                chunk.RowIds.AddRange(request.RowIds.Skip(start).Take(count));
            foreach (var c in request.Columns)
            {
                var part = new Column { Name = c.Name };
                var slice = new double[count];
                for (int i = 0; i < count; i++)
                    slice[i] = c.Values[start + i];
                part.Values.AddRange(slice);
                chunk.Columns.Add(part);
            }
            await call.RequestStream.WriteAsync(chunk, ct);
            progress?.Report($"Sent {start + count:N0} of {rows:N0} rows");
        }
        await call.RequestStream.CompleteAsync();
    }

    // ---- serve ----
    private static Command Serve(VerbContext io)
    {
        var service = new Argument<string>("service") { Description = "indexing, projection, regression or study." };
        service.AcceptOnlyFromAmong("indexing", "projection", "regression", "study");
        var port = new Option<int?>("--port")
        {
            Description =
                "TCP port (defaults: study 5100, indexing 5101, projection 5102, regression 5103; 0 picks a free one).",
        };
        var bind = new Option<string>("--bind")
        {
            Description = "Address to listen on (default 127.0.0.1; 0.0.0.0 in a container).",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var cmd = new Command("serve", "Run one service as a standalone gRPC server (h2c) until Ctrl+C.")
        {
            service,
            port,
            bind,
        };
        foreach (var o in StudyServeOptions)
            cmd.Options.Add(o);
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        string name = parse.GetValue(service)!;
                        int p =
                            parse.GetValue(port)
                            ?? name switch
                            {
                                "study" => 5100,
                                "indexing" => 5101,
                                "projection" => 5102,
                                _ => 5103,
                            };
                        if (p is < 0 or > 65535)
                            throw new CommandLineException($"--port {p} is not a TCP port; use 0 to 65535.");
                        string address = parse.GetValue(bind)!;
                        if (address != "localhost" && !System.Net.IPAddress.TryParse(address, out _))
                            throw new CommandLineException(
                                $"--bind '{address}' is not an IP address; use 127.0.0.1 or 0.0.0.0."
                            );
                        var (modules, configure) = await ServeModules(name, parse, ct);
                        await using var host = await ServiceHosting.StartAsync(
                            modules,
                            new HostOptions(p, address, OtlpEndpoint: OtlpOf(parse)),
                            configure,
                            ct
                        );
                        io.Err.WriteLine(
                            $"Serving {string.Join(", ", modules.Select(m => m.GrpcServiceName))} on {host.Address} (h2c; health and reflection on). Press Ctrl+C to stop."
                        );
                        await host.WaitForShutdownAsync(ct);
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    internal static async Task<ServiceConnection> Connect(
        ServiceModule module,
        string? url,
        TerminalProgress progress,
        CancellationToken ct
    )
    {
        if (ServiceConnection.AddressOf(module.Name, url) is null)
            progress.Report($"Starting the {module.Name} service (embedded)");
        return await ServiceConnection.OpenAsync(module, url, ct);
    }

    /// <summary>Runs a call and names the service when it cannot be reached.</summary>
    internal static async Task<T> Call<T>(ServiceConnection conn, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (Unreachable.Is(e))
        {
            throw Unreachable.Named(
                e,
                conn.Name,
                conn.Address,
                $"start it with 'resilience serve {conn.Name}' or check the address"
            );
        }
    }
}
