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

/// <summary>bench throughput: small fits against running replicas, fits per second and latency percentiles.</summary>
public static partial class BenchVerbs
{
    // ---- bench throughput ----
    private static Command Throughput(VerbContext io)
    {
        var regression = new Option<string>("--regression")
        {
            Description = "Running regression service(s), comma separated (default: one started in this process).",
        };
        var concurrency = IntOption("--concurrency", "Calls in flight at once.", 16);
        var seconds = new Option<double>("--seconds")
        {
            Description = "How long to send calls.",
            DefaultValueFactory = _ => 5,
        };
        var n = IntOption("--n", "Rows of each small fit.", 38);
        var warmupSeconds = new Option<double>("--warmup-seconds")
        {
            Description = "Untimed load first, at the same concurrency, so that both ends run tiered-up code.",
            DefaultValueFactory = _ => 2,
        };
        var cmd = new Command(
            "throughput",
            "Small unary fits against running replicas: fits per second, p50 and p99 latency."
        )
        {
            regression,
            concurrency,
            seconds,
            n,
            warmupSeconds,
        };
        cmd.SetAction(
            (parse, ct) =>
                Guard(
                    parse,
                    io.Err,
                    async () =>
                    {
                        int c = Positive(parse.GetValue(concurrency), "--concurrency"),
                            rows = Positive(parse.GetValue(n), "--n");
                        double s = parse.GetValue(seconds);
                        if (!(s > 0 && s <= 600))
                            throw new CommandLineException("--seconds must be between 0 and 600.");
                        double warm = parse.GetValue(warmupSeconds);
                        if (!(warm >= 0 && warm <= 600))
                            throw new CommandLineException("--warmup-seconds must be between 0 and 600.");
                        var (columns, names) = Generate(rows, 2, 3);
                        var request = new FitRequest
                        {
                            Dependent = "y",
                            Regressors = { names },
                            CovarianceType = CovarianceType.Hc1,
                        };
                        foreach (var col in columns)
                            request.Columns.Add(new Column { Name = col.Name, Values = { col.Values.ToArray() } });
                        await using var conn = await ServiceConnection.OpenAsync(
                            RegressionGrpcService.Module,
                            parse.GetValue(regression),
                            ct
                        );
                        var client = new RegressionService.RegressionServiceClient(conn.Channel);
                        for (int i = 0; i < 200; i++)
                            await client.FitAsync(
                                request,
                                deadline: DateTime.UtcNow.AddSeconds(10),
                                cancellationToken: ct
                            );

                        var latencies = new List<double>[c];
                        long failures = 0;
                        var stop = Stopwatch.StartNew();
                        if (warm > 0)
                            await Load(warm);
                        Interlocked.Exchange(ref failures, 0);
                        stop.Restart();
                        await Load(s);
                        double elapsed = stop.Elapsed.TotalSeconds;

                        // c calls in flight for the given seconds, each worker recording its latencies.
                        Task Load(double duration) =>
                            Task.WhenAll(
                            Enumerable
                                .Range(0, c)
                                .Select(async w =>
                                {
                                    var mine = latencies[w] = new List<double>(4096);
                                    while (stop.Elapsed.TotalSeconds < duration && !ct.IsCancellationRequested)
                                    {
                                        long start = Stopwatch.GetTimestamp();
                                        try
                                        {
                                            await client.FitAsync(
                                                request,
                                                deadline: DateTime.UtcNow.AddSeconds(10),
                                                cancellationToken: ct
                                            );
                                        }
                                        catch (RpcException)
                                        {
                                            Interlocked.Increment(ref failures);
                                            continue;
                                        }
                                        mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                                    }
                                })
                        );
                        var all = latencies.SelectMany(l => l).Order().ToArray();
                        var fields = new Dictionary<string, object>
                        {
                            ["bench"] = "throughput",
                            ["n"] = rows,
                            ["concurrency"] = c,
                            ["server"] = conn.Embedded ? "embedded" : "remote",
                            ["replicas"] = (parse.GetValue(regression) ?? "")
                                .Split(',', StringSplitOptions.RemoveEmptyEntries)
                                .Length
                                is var r
                                    and > 0
                                ? r
                                : 1,
                            ["seconds"] = Math.Round(elapsed, 3),
                            ["warmup_seconds"] = warm,
                            ["fits"] = all.Length,
                            ["failed"] = failures,
                            ["fits_per_s"] = Math.Round(all.Length / elapsed, 1),
                            ["p50_ms"] = Math.Round(Percentile(all, 0.50), 4),
                            ["p99_ms"] = Math.Round(Percentile(all, 0.99), 4),
                            ["cores"] = Environment.ProcessorCount,
                        };
                        io.Out.WriteLine(JsonSerializer.Serialize(fields));
                        return ExitOk;
                    }
                )
        );
        return cmd;
    }

    /// <summary>y = 1 + Σ x_j/(j+1) + heteroskedastic noise, x uniform; the same numbers for the same seed.</summary>
}
