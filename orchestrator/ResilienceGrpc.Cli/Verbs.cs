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
                        using var channel = GrpcChannels.Create(url.ToString(), SecurityOf(parse));
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
                            parse,
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
                            parse,
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
}
