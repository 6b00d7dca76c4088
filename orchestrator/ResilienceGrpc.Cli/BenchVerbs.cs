using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Study.Data;
using static ResilienceGrpc.Cli.CommandLineApp;
using Engine = ResilienceGrpc.Regression.Domain;

namespace ResilienceGrpc.Cli;

/// <summary>
/// <c>resilience bench</c>: timings that belong in benchmarks, never in tests. Each
/// sub-verb prints one JSON line with median_ms, min_ms, max_ms, runs, threads, cores
/// and what was measured. Data are generated from a seed, outside the timed region.
/// </summary>
public static partial class BenchVerbs
{
    public static Command Bench(VerbContext io)
    {
        var cmd = new Command(
            "bench",
            "Time the engine, the services and the study; one JSON line per run (see README, Performance)."
        );
        cmd.Subcommands.Add(Ols(io));
        cmd.Subcommands.Add(Bootstrap(io));
        cmd.Subcommands.Add(StudyBench(io));
        cmd.Subcommands.Add(Throughput(io));
        return cmd;
    }

    private static Option<int> IntOption(string name, string description, int value) =>
        new(name) { Description = description, DefaultValueFactory = _ => value };

    private static readonly Option<int> Runs = new("--runs")
    {
        Description = "Timed runs (after warm-up runs that are not counted).",
        DefaultValueFactory = _ => 7,
    };
    private static readonly Option<int> Warmup = new("--warmup")
    {
        Description = "Untimed runs first.",
        DefaultValueFactory = _ => 2,
    };

    // ---- bench ols ----
    private static Command Ols(VerbContext io)
    {
        var n = IntOption("--n", "Rows.", 1_000_000);
        var k = IntOption("--k", "Parameters, intercept included (k − 1 regressors).", 10);
        var vce = new Option<string>("--vce") { Description = "Covariance type.", DefaultValueFactory = _ => "hc1" };
        vce.AcceptOnlyFromAmong("classical", "hc0", "hc1", "hc2", "hc3");
        var threads = IntOption("--threads", "Threads for the fit (0 = one per core).", 0);
        var grpc = new Option<bool>("--grpc")
        {
            Description = "Time the fit through a served regression service over loopback, streamed with FitStream.",
        };
        var regression = new Option<string>("--regression")
        {
            Description = "With --grpc: a running regression service (default: one started in this process).",
        };
        var cmd = new Command("ols", "OLS + inference at n × k on generated data, in process or over gRPC.")
        {
            n,
            k,
            vce,
            threads,
            grpc,
            regression,
            Runs,
            Warmup,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        int rows = Positive(parse.GetValue(n), "--n"),
                            parameters = Positive(parse.GetValue(k), "--k");
                        if (parameters < 2)
                            throw new CommandLineException("--k must be at least 2 (the intercept and one regressor).");
                        if (rows <= parameters)
                            throw new CommandLineException("--n must exceed --k.");
                        if ((long)rows * parameters > 200_000_000)
                            throw new CommandLineException("--n × --k is limited to 200,000,000 values here.");
                        var type = ParseVce(parse.GetValue(vce)!);
                        int t = Threads(parse.GetValue(threads));
                        var (columns, names) = Generate(rows, parameters - 1, 20200123);
                        var fields = new Dictionary<string, object>
                        {
                            ["bench"] = "ols",
                            ["n"] = rows,
                            ["k"] = parameters,
                            ["vce"] = parse.GetValue(vce)!,
                        };
                        if (!parse.GetValue(grpc))
                        {
                            var design = Engine.DesignMatrix.Build(
                                new Engine.RegressionData(columns),
                                new Engine.ModelSpec("y", names)
                            );
                            var options = new Engine.FitOptions(Threads: t, Covariance: type);
                            var times = Time(
                                parse,
                                () =>
                                {
                                    var fit = Engine.OlsFit.Fit(design, options, ct);
                                    Engine.OlsInference.Infer(fit, type, ct);
                                }
                            );
                            fields["mode"] = "in-process";
                            Emit(io, fields, times, t);
                            return ExitOk;
                        }

                        var request = new StreamedData(
                            new FitRequest
                            {
                                Dependent = "y",
                                Regressors = { names },
                                CovarianceType = RegressionMapping.ToWire(type),
                            },
                            columns.Select(c => (c.Name, c.Values)).ToList(),
                            []
                        );
                        await using var conn = await ServiceConnection.OpenAsync(
                            RegressionGrpcService.Module,
                            parse.GetValue(regression),
                            ct
                        );
                        var client = new RegressionService.RegressionServiceClient(conn.Channel);
                        var grpcTimes = await TimeAsync(
                            parse,
                            () => Verbs.Stream(client, request, null, DateTime.UtcNow.AddMinutes(10), ct)
                        );
                        fields["mode"] = "grpc-fitstream";
                        fields["server"] = conn.Embedded ? "embedded" : "remote";
                        Emit(io, fields, grpcTimes, t);
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    // ---- bench bootstrap ----
    private static Command Bootstrap(VerbContext io)
    {
        var n = IntOption("--n", "Rows.", 38);
        var k = IntOption("--k", "Parameters, intercept included.", 3);
        var b = IntOption("--b", "Replications.", 9999);
        var threads = IntOption("--threads", "Threads (0 = one per core); one slope per thread.", 0);
        var cmd = new Command("bootstrap", "Wild-bootstrap p-values of every slope, reusing the fit's factorisation.")
        {
            n,
            k,
            b,
            threads,
            Runs,
            Warmup,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    () =>
                    {
                        int rows = Positive(parse.GetValue(n), "--n"),
                            parameters = Positive(parse.GetValue(k), "--k"),
                            reps = Positive(parse.GetValue(b), "--b");
                        if (parameters < 2 || rows <= parameters)
                            throw new CommandLineException("--k must be at least 2 and --n must exceed --k.");
                        var (columns, names) = Generate(rows, parameters - 1, 7);
                        var design = Engine.DesignMatrix.Build(
                            new Engine.RegressionData(columns),
                            new Engine.ModelSpec("y", names)
                        );
                        var fit = Engine.OlsFit.Fit(design, new Engine.FitOptions(Threads: Threads(parse.GetValue(threads))));
                        var inference = Engine.OlsInference.Infer(fit, Engine.CovarianceType.HC1);
                        var times = Time(
                            parse,
                            () =>
                                Engine.WildBootstrap.SlopePValues(
                                    fit,
                                    Engine.CovarianceType.HC1,
                                    inference.Coefficients,
                                    reps,
                                    1,
                                    ct
                                )
                        );
                        Emit(
                            io,
                            new()
                            {
                                ["bench"] = "bootstrap",
                                ["n"] = rows,
                                ["k"] = parameters,
                                ["replications"] = reps,
                                ["vce"] = "hc1",
                            },
                            times,
                            parse.GetValue(threads)
                        );
                        return Task.FromResult(ExitOk);
                    }
                )
        );
        return cmd;
    }

    // ---- bench study ----
    private static Command StudyBench(VerbContext io)
    {
        var spec = new Option<string>("--spec")
        {
            Description = "Study spec as JSON (for example docs/examples/multiverse.json); default: the default spec.",
        };
        var regression = new Option<string>("--regression")
        {
            Description = "Running regression service(s), comma separated or dns:///; default: embedded.",
        };
        var cmd = new Command(
            "study",
            "The study on the bundled sample, warm (services started once, report not written)."
        )
        {
            Runs,
            Warmup,
            spec,
            regression,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        var request = new RunStudyRequest { Dataset = BundledData.SampleName };
                        if (parse.GetValue(spec) is { } file)
                            request.Spec = Verbs.ReadSpec(file);
                        using var progress = new TerminalProgress(io.Err, false);
                        await using var services = await StudyServices.StartAsync(
                            null,
                            null,
                            parse.GetValue(regression),
                            null,
                            CacheSettings.InMemory,
                            progress.Report,
                            ct
                        );
                        progress.Dispose();
                        var client = new StudyService.StudyServiceClient(services.StudyChannel);
                        int models = 0,
                            specifications = 0;
                        var times = await TimeAsync(
                            parse,
                            async () =>
                            {
                                using var call = client.RunStudy(
                                    request,
                                    deadline: DateTime.UtcNow.AddMinutes(10),
                                    cancellationToken: ct
                                );
                                await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                                    if (e.EventCase == RunStudyResponse.EventOneofCase.Report)
                                    {
                                        models = e.Report.Tables.Sum(t => t.Models.Count);
                                        specifications = e.Report.Multiverse?.Specifications.Count ?? 0;
                                    }
                                return models;
                            }
                        );
                        Emit(
                            io,
                            new()
                            {
                                ["bench"] = "study",
                                ["mode"] = parse.GetValue(regression) is null
                                    ? "embedded-warm"
                                    : "served-regression-warm",
                                ["models"] = models,
                                ["specifications"] = specifications,
                                ["replicas"] = parse.GetValue(regression)?.Split(',').Length ?? 0,
                            },
                            times,
                            0
                        );
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    internal static (List<Engine.NamedColumn> Columns, string[] Names) Generate(int n, int regressors, int seed)
    {
        var rng = new Random(seed);
        var y = new double[n];
        var columns = new List<Engine.NamedColumn>();
        var names = new string[regressors];
        for (int j = 0; j < regressors; j++)
        {
            var x = new double[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = rng.NextDouble() * 10;
                y[i] += x[i] / (j + 1);
            }
            names[j] = $"x{j + 1}";
            columns.Add(new(names[j], x));
        }
        for (int i = 0; i < n; i++)
            y[i] += 1 + (rng.NextDouble() - 0.5) * (1 + columns[0].Values.Span[i]);
        columns.Insert(0, new("y", y));
        return (columns, names);
    }

    private static double[] Time(ParseResult parse, Action body)
    {
        for (int i = 0; i < Math.Max(0, parse.GetValue(Warmup)); i++)
            body();
        var times = new double[Positive(parse.GetValue(Runs), "--runs")];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            body();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return times;
    }

    private static async Task<double[]> TimeAsync<T>(ParseResult parse, Func<Task<T>> body)
    {
        for (int i = 0; i < Math.Max(0, parse.GetValue(Warmup)); i++)
            await body();
        var times = new double[Positive(parse.GetValue(Runs), "--runs")];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await body();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return times;
    }

    private static void Emit(VerbContext io, Dictionary<string, object> fields, double[] times, int threads)
    {
        var sorted = times.Order().ToArray();
        fields["median_ms"] = Math.Round(Percentile(sorted, 0.5), 4);
        fields["min_ms"] = Math.Round(sorted[0], 4);
        fields["max_ms"] = Math.Round(sorted[^1], 4);
        fields["runs"] = times.Length;
        fields["threads"] = threads > 0 ? threads : Environment.ProcessorCount;
        fields["cores"] = Environment.ProcessorCount;
        io.Out.WriteLine(JsonSerializer.Serialize(fields));
    }

    private static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
            return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos),
            hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static int Threads(int value) =>
        value >= 0
            ? value
            : throw new CommandLineException(
                string.Create(CultureInfo.InvariantCulture, $"--threads must be 0 (one per core) or more; {value} was given.")
            );

    private static int Positive(int value, string name) =>
        value > 0
            ? value
            : throw new CommandLineException(
                string.Create(CultureInfo.InvariantCulture, $"{name} must be a positive number; {value} was given.")
            );

    private static Engine.CovarianceType ParseVce(string v) =>
        v switch
        {
            "classical" => Engine.CovarianceType.Classical,
            "hc0" => Engine.CovarianceType.HC0,
            "hc2" => Engine.CovarianceType.HC2,
            "hc3" => Engine.CovarianceType.HC3,
            _ => Engine.CovarianceType.HC1,
        };
}
