using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using ResilienceGrpc.Domain;
using ResilienceGrpc.Projection.Domain;
using ResilienceGrpc.ServiceDefaults;
using V1 = ResilienceGrpc.Contracts.Projection.V1;

namespace ResilienceGrpc.Projection.Api;

/// <summary><c>resilience.projection.v1.ProjectionService</c>: validate, map, call <see cref="ExportProjection"/>, map back.</summary>
public sealed class ProjectionGrpcService : V1.ProjectionService.ProjectionServiceBase
{
    /// <summary>The module that hosts this service.</summary>
    public static ServiceModule Module { get; } =
        new(
            "projection",
            V1.ProjectionService.Descriptor.FullName,
            b => { },
            app => app.MapGrpcService<ProjectionGrpcService>()
        );

    public override Task<V1.ProjectExportsResponse> ProjectExports(
        V1.ProjectExportsRequest request,
        ServerCallContext context
    )
    {
        context.CancellationToken.ThrowIfCancellationRequested();
        var (series, options) = ProjectionMapping.ToDomain(request);
        using var span = Telemetry.Source.StartActivity("projection.project_exports");
        span?.SetTag("projection.cities", series.Length);
        span?.SetTag("projection.kind", options.Kind.ToString());
        span?.SetTag("projection.growth", options.Growth.ToString());
        var result = ExportProjection.Project(series, options, context.CancellationToken);
        return Task.FromResult(ProjectionMapping.ToResponse(result, options));
    }
}

/// <summary>Maps between the wire and the domain.</summary>
public static class ProjectionMapping
{
    public static (ExportSeries[] Series, ProjectionOptions Options) ToDomain(V1.ProjectExportsRequest request)
    {
        var kind = request.Kind switch
        {
            V1.SeriesKind.Monthly => SeriesKind.Monthly,
            V1.SeriesKind.Annual => SeriesKind.Annual,
            V1.SeriesKind.MonthlyCumulative => SeriesKind.MonthlyCumulative,
            _ => throw new InvalidInputException(
                "kind",
                "The series kind is not set; use SERIES_KIND_MONTHLY, SERIES_KIND_ANNUAL or SERIES_KIND_MONTHLY_CUMULATIVE."
            ),
        };
        var growth = request.GrowthMethod switch
        {
            V1.GrowthMethod.Geometric => GrowthMethod.Geometric,
            V1.GrowthMethod.Arithmetic => GrowthMethod.Arithmetic,
            _ => throw new InvalidInputException(
                "growth_method",
                "The growth method is not set; use GROWTH_METHOD_GEOMETRIC or GROWTH_METHOD_ARITHMETIC."
            ),
        };
        int start = request.BaseWindow?.StartYear ?? 2015,
            end = request.BaseWindow?.EndYear ?? 2019;
        var options = new ProjectionOptions(
            kind,
            growth,
            start,
            end,
            request.HasJanuaryShare ? request.JanuaryShare : 0.5
        );
        var series = request
            .Series.Select(s => new ExportSeries(s.CityId, s.Periods.ToArray(), s.Values.ToArray()))
            .ToArray();
        return (series, options);
    }

    public static V1.ProjectExportsResponse ToResponse(IReadOnlyList<CityProjection> cities, ProjectionOptions options)
    {
        var response = new V1.ProjectExportsResponse
        {
            ShockYear = options.ShockYear,
            BaseWindow = new V1.BaseWindow { StartYear = options.BaseStart, EndYear = options.BaseEnd },
            GrowthMethod =
                options.Growth == GrowthMethod.Geometric ? V1.GrowthMethod.Geometric : V1.GrowthMethod.Arithmetic,
        };
        foreach (var c in cities)
        {
            var r = c.Recovery;
            var recovery = new V1.RecoveryTime
            {
                Status = r.Status switch
                {
                    RecoveryStatus.Recovered => V1.RecoveryStatus.Recovered,
                    RecoveryStatus.NoDip => V1.RecoveryStatus.NoDip,
                    RecoveryStatus.Censored => V1.RecoveryStatus.Censored,
                    _ => V1.RecoveryStatus.Unavailable,
                },
                DipPeriod = r.DipIndex is { } d ? c.Monthly[d].Period.ToString() : "",
                RecoveryPeriod = r.RecoveryIndex is { } ri ? c.Monthly[ri].Period.ToString() : "",
                Reason = r.Reason ?? "",
            };
            if (r.Months is { } months)
                recovery.Months = months;
            var city = new V1.CityProjection
            {
                CityId = c.CityId,
                BaseStartValue = c.BaseStartValue,
                BaseEndValue = c.BaseEndValue,
                BaseGrowth = c.BaseGrowth,
                Projected = c.Projected,
                Actual = c.Actual,
                Ratio = c.Ratio,
                GrowthRate = c.GrowthRate,
                Recovery = recovery,
            };
            foreach (var m in c.Monthly)
                city.Monthly.Add(
                    new V1.MonthlyPoint
                    {
                        Period = m.Period.ToString(),
                        Actual = m.Actual,
                        Expected = m.Expected,
                        Ratio = m.Ratio,
                    }
                );
            response.Cities.Add(city);
        }
        return response;
    }
}
