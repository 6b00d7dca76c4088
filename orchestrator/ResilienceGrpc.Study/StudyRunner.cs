using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Study;

/// <summary>
/// Runs a study in four named steps: <see cref="StudyPlan.Make">plan</see> (the spec
/// completed and every call listed, before any call), <see cref="StudyFanOut">fan-out</see>
/// (the calls, over gRPC only), <see cref="StudyReportBuilder.Tables">assemble the tables</see>,
/// and <see cref="StudyReportBuilder.Report">build the report model</see>. Progress is
/// reported as it goes.
/// </summary>
public sealed partial class StudyRunner(
    StudyFanOut fanOut,
    IntermediateCache cache,
    StudyLimits limits,
    ILogger<StudyRunner> logger
)
{
    /// <summary>The software version written into every manifest.</summary>
    public static string SoftwareVersion => StudyReportBuilder.SoftwareVersion;

    /// <summary>Runs one study. Throws <see cref="RpcException"/> when a service is unavailable or the data are rejected.</summary>
    public async Task<StudyReport> RunAsync(
        StudyData data,
        StudySpec? userSpec,
        Func<StudyProgress, ValueTask> progress,
        DateTime? deadline,
        CancellationToken ct
    )
    {
        var clock = Stopwatch.StartNew();
        string startedAt = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
        using var run = Telemetry.Source.StartActivity("study.run");
        run?.SetTag("study.cities", data.CityIds.Count);
        run?.SetTag("study.indicators", data.Indicators.Count);
        run?.SetTag("study.synthetic", data.Synthetic);

        var plan = StudyPlan.Make(data, userSpec, limits);
        run?.SetTag("study.tables", plan.Spec.Tables.Count);
        run?.SetTag("study.specifications", plan.Curve.Count);
        run?.SetTag("study.covariance_type", plan.Spec.CovarianceType.ToString());
        LogStarting(data.CityIds.Count, plan.Spec.Tables.Count, plan.Curve.Count);
        var reporter = new StudyProgressReporter(progress, plan.Steps, ct);
        await reporter.Report(
            "load",
            $"Loaded {data.Label}: {data.CityIds.Count} cities, {data.Indicators.Count} indicators; {plan.Fits} regressions in {plan.Spec.Tables.Count} tables"
                + (plan.Curve.Count > 0 ? $", and a specification curve of {plan.Curve.Count:N0} specifications." : ".")
        );

        var results = await fanOut.RunAsync(data, plan, reporter, deadline, ct);

        using var assembling = Telemetry.Source.StartActivity("study.report");
        var tables = StudyReportBuilder.Tables(plan, results);
        var report = StudyReportBuilder.Report(
            data,
            plan,
            results,
            tables,
            startedAt,
            clock.Elapsed.TotalSeconds,
            cache.SharedLevel
        );
        await reporter.Report("report", $"Study finished in {clock.Elapsed.TotalSeconds:0.0} s.");
        LogFinished(clock.Elapsed.TotalSeconds);
        return report;
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Study starting: {Cities} cities, {Tables} tables, {Specifications} specifications"
    )]
    private partial void LogStarting(int cities, int tables, int specifications);

    [LoggerMessage(Level = LogLevel.Information, Message = "Study finished in {Seconds} s")]
    private partial void LogFinished(double seconds);
}
