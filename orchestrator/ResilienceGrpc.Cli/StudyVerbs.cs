using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.Client.Sample;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Study.Data;
using static ResilienceGrpc.Cli.CommandLineApp;

namespace ResilienceGrpc.Cli;

public static partial class Verbs
{
    private static readonly Option<string> IndexingUrl = Url("indexing", "5101");
    private static readonly Option<string> ProjectionUrl = Url("projection", "5102");
    private static readonly Option<string> RegressionUrl = new("--regression")
    {
        Description =
            "URL of the regression service: http://host:port, dns:///host:port (round-robin over its replicas) or several URLs separated by commas (default: Services__regression); without it, embedded.",
        DefaultValueFactory = _ => ProgramEnvironment.ServiceAddress("regression")!,
    };

    private static readonly Option<string> Redis = new("--redis")
    {
        Description =
            "Redis as HOST:PORT for the shared cache of intermediates (default: ConnectionStrings__redis); without it, the cache is in memory.",
        DefaultValueFactory = _ => ProgramEnvironment.Redis!,
    };

    private static readonly Option<string> Otlp = new("--otlp")
    {
        Description =
            "OTLP endpoint for traces and metrics, e.g. http://localhost:4317 (default: OTEL_EXPORTER_OTLP_ENDPOINT).",
        DefaultValueFactory = _ => ProgramEnvironment.OtlpEndpoint!,
    };

    /// <summary>The cache the options ask for: Redis from --redis, the operation timeout from Cache__OperationTimeoutMs.</summary>
    private static CacheSettings CacheOf(ParseResult parse) =>
        CacheSettings.From(parse.GetValue(Redis), ProgramEnvironment.CacheOperationTimeoutMs);

    /// <summary>Extra options of <c>serve</c> for the study service.</summary>
    private static readonly Option[] StudyServeOptions = [IndexingUrl, ProjectionUrl, RegressionUrl, Redis, Otlp];

    private static IEnumerable<Command> StudyVerbs(VerbContext io) => [Study(io), Sample(io)];

    // ---- study ----
    private static Command Study(VerbContext io)
    {
        var data = new Option<string>("--data")
        {
            Description =
                "Data folder (indicators.csv, catalogue.csv, exports.csv, cities.csv); default: the bundled synthetic sample.",
        };
        var spec = new Option<string>("--spec")
        {
            Description =
                "Study spec as JSON (a StudySpec message); absent fields take the defaults (see --print-spec).",
        };
        var outDir = new Option<string>("--out")
        {
            Description =
                "Folder for report.html, report.md, tables.tex, results.json, manifest.json and multiverse.csv.",
            DefaultValueFactory = _ => "study-report",
        };
        var study = new Option<string>("--study")
        {
            Description =
                "URL of a running study service (default: Services__study); without it the orchestrator runs embedded.",
            DefaultValueFactory = _ => ProgramEnvironment.ServiceAddress("study")!,
        };
        var printSpec = new Option<bool>("--print-spec")
        {
            Description = "Print the default spec for the data as JSON and stop.",
        };
        var cmd = new Command("study", "Run the whole study: every table of the paper and more, written as a report.")
        {
            data,
            spec,
            outDir,
            IndexingUrl,
            ProjectionUrl,
            RegressionUrl,
            study,
            Redis,
            Otlp,
            printSpec,
        };
        foreach (var o in TableStyleOptions.All)
            cmd.Options.Add(o);
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        using var tracer = Telemetry.ProcessTracer("resilience-cli", OtlpOf(parse));
                        using var progress = new TerminalProgress(io.Err, parse.GetValue(Progress));
                        var request = new RunStudyRequest();
                        StudyData loaded;
                        if (parse.GetValue(data) is { } dir)
                        {
                            progress.Report($"Loading {dir}");
                            loaded = StudyDataFolder.Load(dir);
                            request.Data = loaded;
                        }
                        else
                        {
                            loaded = BundledData.Sample();
                            request.Dataset = BundledData.SampleName;
                        }
                        if (parse.GetValue(spec) is { } specFile)
                            request.Spec = ReadSpec(specFile);
                        request.Spec = TableStyleOptions.Apply(parse, request.Spec);
                        if (parse.GetValue(printSpec))
                        {
                            progress.Dispose();
                            io.Out.WriteLine(
                                new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(
                                    StudySpecs.Complete(request.Spec, loaded)
                                )
                            );
                            return ExitOk;
                        }

                        // The report's folder is checked before the study runs, not after.
                        PrepareOutputFolder(parse.GetValue(outDir)!);
                        await using var services = await StudyServices.StartAsync(
                            parse.GetValue(IndexingUrl),
                            parse.GetValue(ProjectionUrl),
                            parse.GetValue(RegressionUrl),
                            parse.GetValue(study),
                            CacheOf(parse),
                            progress.Report,
                            ct,
                            SecurityOf(parse),
                            SecuritySettings(parse)
                        );
                        var client = new StudyService.StudyServiceClient(services.StudyChannel);
                        StudyReport? report = null;
                        try
                        {
                            using var root = Telemetry.Source.StartActivity("resilience.study");
                            using var call = client.RunStudy(request, deadline: Deadline(parse), cancellationToken: ct);
                            await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                            {
                                if (e.EventCase == RunStudyResponse.EventOneofCase.Progress)
                                    progress.Report(
                                        $"[{e.Progress.Completed}/{e.Progress.Total}] {e.Progress.Message}"
                                            + (
                                                e.Progress.HasEtaSeconds && e.Progress.EtaSeconds >= 1
                                                    ? $" About {e.Progress.EtaSeconds:0} s left."
                                                    : ""
                                            )
                                    );
                                else if (e.EventCase == RunStudyResponse.EventOneofCase.Report)
                                    report = e.Report;
                            }
                        }
                        catch (RpcException e) when (Unreachable.Is(e))
                        {
                            throw Unreachable.Named(
                                e,
                                "study",
                                services.StudyAddress.ToString(),
                                "start it with 'resilience serve study' or check the address"
                            );
                        }
                        if (report is null)
                            throw new RpcException(
                                new Status(StatusCode.Internal, "The study service ended without a report.")
                            );
                        foreach (var e in report.CacheEvents.Where(e => e.Status == CacheStatus.Hit))
                            progress.Report($"{e.Intermediate} read from the cache ({e.Source})");
                        string outPath = parse.GetValue(outDir)!;
                        progress.Report($"Writing the report to {outPath}");
                        await ReportWriter.WriteAsync(report, outPath, ct);
                        progress.Dispose();

                        var format = FormatOf(parse);
                        if (format == OutputFormat.Json)
                            io.Out.WriteLine(ReportWriter.ResultsJson(report));
                        else
                        {
                            io.Out.Write(TableRenderer.Render(PublishedTables.For(report), format));
                            if (report.Multiverse is { } curve)
                                io.Out.Write("\n" + TableRenderer.Render(MultiverseReport.Summary(curve), format));
                        }
                        io.Err.WriteLine(
                            $"Report written to {Path.GetFullPath(outPath)}: {string.Join(", ", ReportWriter.FilesFor(report))}."
                                + (report.Synthetic ? " The data are SYNTHETIC." : "")
                        );
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    /// <summary>The OTLP endpoint asked for (checked), or null: passed to the tracer and the hosts, never put into the environment.</summary>
    private static string? OtlpOf(ParseResult parse)
    {
        if (parse.GetValue(Otlp) is not { Length: > 0 } otlp)
            return null;
        // The exporter takes an absolute http(s) URL as it is; anything else used to surface as
        // .NET's "Invalid URI: The format of the URI could not be determined."
        if (
            !Uri.TryCreate(otlp, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || uri.Host.Length == 0
        )
            throw new CommandLineException(
                $"'{otlp}' (--otlp, or OTEL_EXPORTER_OTLP_ENDPOINT) is not an OTLP endpoint; give one like http://localhost:4317."
            );
        return otlp;
    }

    /// <summary>
    /// Creates the --out folder and checks that a file can be written in it, so that a folder
    /// that cannot be used is one sentence before any work, not an exception's text after it.
    /// </summary>
    internal static void PrepareOutputFolder(string path)
    {
        if (File.Exists(path))
            throw new CommandLineException($"--out '{path}' is a file; give a folder (it is created when missing).");
        try
        {
            Directory.CreateDirectory(path);
            using var probe = new FileStream(
                Path.Combine(path, $".resilience-write-check-{Guid.NewGuid():N}"),
                FileMode.CreateNew,
                FileAccess.Write,
                FileShare.None,
                1,
                FileOptions.DeleteOnClose
            );
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e switch
            {
                UnauthorizedAccessException => "permission denied",
                DirectoryNotFoundException or FileNotFoundException =>
                    "part of the path is missing or is not a folder",
                _ => "the folder cannot be created or written",
            };
            throw new CommandLineException($"--out '{path}' cannot hold the files: {reason}.");
        }
    }

    internal static StudySpec ReadSpec(string path)
    {
        if (!File.Exists(path))
            throw new DataFileException(
                path,
                0,
                0,
                null,
                Directory.Exists(path)
                    ? "this is a folder; give the spec's JSON file (print the default with 'resilience study --print-spec')."
                    : $"the spec file does not exist (looked for {Path.GetFullPath(path)})."
            );
        try
        {
            return new JsonParser(JsonParser.Settings.Default).Parse<StudySpec>(File.ReadAllText(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"this is not a valid study spec: {e.Message.TrimEnd('.')}; print the default with 'resilience study --print-spec'."
            );
        }
        catch (InvalidJsonException e)
        {
            throw new DataFileException(path, 0, 0, null, $"this is not valid JSON: {e.Message.TrimEnd('.')}.");
        }
    }

    // ---- sample ----
    private static Command Sample(VerbContext io)
    {
        var outDir = new Option<string>("--out")
        {
            Description = "Folder to write the sample's files into.",
            Required = true,
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed of the generator (the bundled sample uses 20200123).",
            DefaultValueFactory = _ => SampleGenerator.DefaultSeed,
        };
        var cmd = new Command(
            "sample",
            "Write the synthetic sample data set (38 cities, labelled as synthetic) from its structural model."
        )
        {
            outDir,
            seed,
            IndexingUrl,
            ProjectionUrl,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        PrepareOutputFolder(parse.GetValue(outDir)!);
                        using var progress = new TerminalProgress(io.Err, parse.GetValue(Progress));
                        await using var indexing = await Connect(
                            IndexingGrpcService.Module,
                            parse.GetValue(IndexingUrl),
                            progress,
                            parse,
                            ct
                        );
                        await using var projection = await Connect(
                            ProjectionGrpcService.Module,
                            parse.GetValue(ProjectionUrl),
                            progress,
                            parse,
                            ct
                        );
                        progress.Report("Generating the synthetic sample");
                        var (files, _) = await SampleGenerator.GenerateAsync(
                            parse.GetValue(seed),
                            new IndexingService.IndexingServiceClient(indexing.Channel),
                            new ProjectionService.ProjectionServiceClient(projection.Channel),
                            ct
                        );
                        string dir = parse.GetValue(outDir)!;
                        Directory.CreateDirectory(dir);
                        foreach (var (name, content) in files)
                            await File.WriteAllTextAsync(Path.Combine(dir, name), content, ct);
                        progress.Dispose();
                        io.Err.WriteLine(
                            $"Wrote the SYNTHETIC sample (seed {parse.GetValue(seed)}) to {Path.GetFullPath(dir)}: {string.Join(", ", files.Keys.Order(StringComparer.Ordinal))}."
                        );
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    private static async Task<(
        IReadOnlyList<ServiceModule> Modules,
        Action<WebApplicationBuilder>? Configure
    )> ServeModules(string name, ParseResult parse, CancellationToken ct)
    {
        switch (name)
        {
            case "indexing":
                return ([IndexingGrpcService.Module], null);
            case "projection":
                return ([ProjectionGrpcService.Module], null);
            case "regression":
                return ([RegressionGrpcService.Module], null);
        }
        // The study service: against the given services, or with any missing one hosted alongside it.
        var services = await StudyServices.StartBackendsAsync(
            parse.GetValue(IndexingUrl),
            parse.GetValue(ProjectionUrl),
            parse.GetValue(RegressionUrl),
            null,
            ct
        );
        var module = StudyGrpcService.Module(services.Endpoints, cache: CacheOf(parse));
        return (
            [
                module with
                {
                    Map = app =>
                    {
                        module.Map(app);
                        app.Lifetime.ApplicationStopped.Register(() =>
                            services.DisposeAsync().AsTask().GetAwaiter().GetResult()
                        );
                    },
                },
            ],
            null
        );
    }
}
