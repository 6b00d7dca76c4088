using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Operations.Tests.Otlp;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// One study over four separate processes (indexing, projection, regression and the
/// orchestrator, each `resilience serve`), exporting OTLP to a collector in the test:
/// the spans of all four form one trace, each service's server spans are children of the
/// orchestrator's client spans, and our own spans are there by name.
/// </summary>
public class TraceTests
{
    /// <summary>An OTLP trace receiver that keeps every span with its process's service.name.</summary>
    public sealed class Collector : TraceService.TraceServiceBase
    {
        public static readonly ConcurrentBag<(string Service, Span Span)> Spans = [];

        public override Task<ExportTraceServiceResponse> Export(
            ExportTraceServiceRequest request,
            ServerCallContext context
        )
        {
            foreach (var rs in request.ResourceSpans)
            {
                var service =
                    rs.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "?";
                foreach (var ss in rs.ScopeSpans)
                    foreach (var span in ss.Spans)
                        Spans.Add((service, span));
            }
            return Task.FromResult(new ExportTraceServiceResponse());
        }
    }

    public sealed class MetricsSink : OtlpMetrics.MetricsService.MetricsServiceBase
    {
        public override Task<OtlpMetrics.ExportMetricsServiceResponse> Export(
            OtlpMetrics.ExportMetricsServiceRequest request,
            ServerCallContext context
        ) => Task.FromResult(new OtlpMetrics.ExportMetricsServiceResponse());
    }

    public static readonly string[] OwnSpans =
    [
        "study.run",
        "study.index",
        "study.projection",
        "study.regressions",
        "study.report",
        "cache.lookup",
        "indexing.compute_index",
        "projection.project_exports",
        "regression.fit",
    ];

    [Fact]
    public async Task OneStudyGivesOneTraceOverAllFourProcesses()
    {
        var module = new ServiceModule(
            "otlp",
            TraceService.Descriptor.FullName,
            _ => { },
            app =>
            {
                app.MapGrpcService<Collector>();
                app.MapGrpcService<MetricsSink>();
            }
        );
        await using var collector = await ServiceHosting.StartAsync(
            [module],
            new HostOptions(Quiet: true, Telemetry: false)
        );
        var env = new Dictionary<string, string>
        {
            [ConfigurationKeys.OtlpEndpoint] = collector.Address.ToString().TrimEnd('/'),
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "60000",
        };
        await using var indexing = await ChildProcess.ServeAsync(env, "indexing");
        await using var projection = await ChildProcess.ServeAsync(env, "projection");
        await using var regression = await ChildProcess.ServeAsync(env, "regression");
        await using var study = await ChildProcess.ServeAsync(
            env,
            "study",
            "--indexing",
            indexing.Address.ToString(),
            "--projection",
            projection.Address.ToString(),
            "--regression",
            regression.Address.ToString()
        );

        using var channel = GrpcChannels.Create(study.Address);
        using (
            var call = new StudyService.StudyServiceClient(channel).RunStudy(
                new RunStudyRequest
                {
                    Dataset = "sample",
                    Spec = new StudySpec { Bootstrap = new BootstrapOptions { Replications = 0 } },
                },
                deadline: DateTime.UtcNow.AddMinutes(2)
            )
        )
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        }

        string[] services =
        [
            "resilience-study",
            "resilience-indexing",
            "resilience-projection",
            "resilience-regression",
        ];
        // Each process exports in batches: wait until every service's server spans and every span name are in.
        for (int i = 0; i < 300; i++)
        {
            var names = Collector.Spans.Select(s => s.Span.Name).ToHashSet();
            if (
                services.All(svc => Collector.Spans.Any(s => s.Service == svc && s.Span.Kind == SpanKind.Server))
                && OwnSpans.All(names.Contains)
            )
                break;
            await Task.Delay(100);
        }
        var spans = Collector.Spans.ToList();
        foreach (var svc in services)
            Assert.True(
                spans.Any(s => s.Service == svc),
                $"no spans from {svc}; got {string.Join(", ", spans.Select(s => s.Service).Distinct())}"
            );
        foreach (var name in OwnSpans)
            Assert.True(spans.Any(s => s.Span.Name == name), $"no span named {name}");

        // One trace.
        var traces = spans.Select(s => Convert.ToHexString(s.Span.TraceId.Span)).Distinct().ToList();
        Assert.True(
            traces.Count == 1,
            "traces: "
                + string.Join(
                    " | ",
                    spans
                        .GroupBy(s => Convert.ToHexString(s.Span.TraceId.Span))
                        .Select(g => string.Join(", ", g.Select(s => $"{s.Service}:{s.Span.Name}").Distinct().Take(8)))
                )
        );

        // Each service's server spans hang under spans of the orchestrator's process.
        var studyIds = spans
            .Where(s => s.Service == "resilience-study")
            .Select(s => Convert.ToHexString(s.Span.SpanId.Span))
            .ToHashSet();
        foreach (var svc in services.Skip(1))
        {
            var servers = spans.Where(s => s.Service == svc && s.Span.Kind == SpanKind.Server).ToList();
            Assert.NotEmpty(servers);
            Assert.All(servers, s => Assert.Contains(Convert.ToHexString(s.Span.ParentSpanId.Span), studyIds));
        }

        // Attributes: cache hits, sizes and the covariance type.
        Assert.Contains(spans, s => s.Span.Name == "cache.lookup" && s.Span.Attributes.Any(a => a.Key == "cache.hit"));
        Assert.Contains(
            spans,
            s =>
                s.Span.Name == "regression.fit"
                && s.Span.Attributes.Any(a => a.Key == "regression.covariance_type" && a.Value.StringValue == "HC1")
        );
        Assert.Contains(
            spans,
            s =>
                s.Span.Name == "indexing.compute_index"
                && s.Span.Attributes.Any(a => a.Key == "index.units" && a.Value.IntValue == 38)
        );
    }
}
