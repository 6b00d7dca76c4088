using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Domain;
using ResilienceGrpc.Indexing.Domain;
using ResilienceGrpc.ServiceDefaults;
using V1 = ResilienceGrpc.Contracts.Indexing.V1;

namespace ResilienceGrpc.Indexing.Api;

/// <summary><c>resilience.indexing.v1.IndexingService</c>: validate, map, call <see cref="CompositeIndex"/>, map back.</summary>
/// <param name="limits">The work budget, bound from <c>Limits:Indexing</c> at start.</param>
public sealed class IndexingGrpcService(IndexingLimits limits) : V1.IndexingService.IndexingServiceBase
{
    /// <summary>The module that hosts this service; its limits are bound from configuration and checked at start.</summary>
    public static ServiceModule Module { get; } =
        new(
            "indexing",
            V1.IndexingService.Descriptor.FullName,
            b => b.Services.AddSingleton(ServiceLimits.Bind<IndexingLimits>(b.Configuration, IndexingLimits.Service)),
            app => app.MapGrpcService<IndexingGrpcService>()
        );

    public override Task<V1.ComputeIndexResponse> ComputeIndex(
        V1.ComputeIndexRequest request,
        ServerCallContext context
    )
    {
        context.CancellationToken.ThrowIfCancellationRequested();
        limits.Check(request.Indicators.Count);
        var (units, indicators, options) = IndexingMapping.ToDomain(request);
        using var span = Telemetry.Source.StartActivity("indexing.compute_index");
        span?.SetTag("index.units", units.Length);
        span?.SetTag("index.indicators", indicators.Length);
        span?.SetTag("index.method", options.Method.ToString());
        var result = CompositeIndex.Compute(units, indicators, options, context.CancellationToken);
        return Task.FromResult(IndexingMapping.ToResponse(result));
    }
}

/// <summary>Maps between the wire and the domain.</summary>
public static class IndexingMapping
{
    public static (string[] Units, Indicator[] Indicators, IndexOptions Options) ToDomain(
        V1.ComputeIndexRequest request
    )
    {
        var method = request.Method switch
        {
            V1.WeightingMethod.Entropy => WeightingMethod.Entropy,
            V1.WeightingMethod.Equal => WeightingMethod.Equal,
            V1.WeightingMethod.Critic => WeightingMethod.Critic,
            _ => throw new InvalidInputException(
                "method",
                "The weighting method is not set; use WEIGHTING_METHOD_ENTROPY, WEIGHTING_METHOD_EQUAL or WEIGHTING_METHOD_CRITIC."
            ),
        };
        var indicators = new Indicator[request.Indicators.Count];
        for (int j = 0; j < indicators.Length; j++)
        {
            var i = request.Indicators[j];
            var direction = i.Direction switch
            {
                V1.Direction.Positive => IndicatorDirection.Positive,
                V1.Direction.Negative => IndicatorDirection.Negative,
                _ => throw new InvalidInputException(
                    $"indicators[{j}].direction",
                    $"Indicator '{i.Id}' has no direction; set DIRECTION_POSITIVE (more is better) or DIRECTION_NEGATIVE (more is worse)."
                ),
            };
            indicators[j] = new Indicator(
                i.Id,
                i.Dimension,
                direction,
                i.Values.ToArray(),
                string.IsNullOrEmpty(i.Label) ? null : i.Label
            );
        }
        bool dimensionMean = request.CompositeRule switch
        {
            V1.CompositeRule.Unspecified or V1.CompositeRule.Global => false,
            V1.CompositeRule.DimensionMean => true,
            _ => throw new InvalidInputException(
                "composite_rule",
                $"Composite rule {(int)request.CompositeRule} is not known; use COMPOSITE_RULE_GLOBAL or COMPOSITE_RULE_DIMENSION_MEAN."
            ),
        };
        var options = new IndexOptions(
            method,
            request.HasShift ? request.Shift : IndexOptions.DefaultShift,
            request.WithinDimension,
            dimensionMean
        );
        return (request.UnitIds.ToArray(), indicators, options);
    }

    public static V1.ComputeIndexResponse ToResponse(IndexResult result)
    {
        var response = new V1.ComputeIndexResponse
        {
            Method = result.Options.Method switch
            {
                WeightingMethod.Entropy => V1.WeightingMethod.Entropy,
                WeightingMethod.Equal => V1.WeightingMethod.Equal,
                _ => V1.WeightingMethod.Critic,
            },
            Shift = result.Options.Shift,
            WithinDimension = result.Options.WithinDimension,
            CompositeRule = result.Options.DimensionMean ? V1.CompositeRule.DimensionMean : V1.CompositeRule.Global,
        };
        foreach (var w in result.Indicators)
        {
            var iw = new V1.IndicatorWeight
            {
                Id = w.Id,
                Dimension = w.Dimension,
                Weight = w.Weight,
                WithinDimensionWeight = w.WithinDimensionWeight,
                Label = w.Label ?? "",
                Direction = w.Direction == IndicatorDirection.Positive ? V1.Direction.Positive : V1.Direction.Negative,
            };
            if (w.Entropy is { } e)
                iw.Entropy = e;
            response.Indicators.Add(iw);
        }
        foreach (var d in result.Dimensions)
            response.Dimensions.Add(
                new V1.DimensionWeight
                {
                    Dimension = d.Dimension,
                    Weight = d.Weight,
                    IndicatorCount = d.IndicatorCount,
                }
            );
        for (int i = 0; i < result.UnitIds.Count; i++)
        {
            var unit = new V1.UnitScore { UnitId = result.UnitIds[i], Composite = result.Composite[i] };
            for (int d = 0; d < result.Dimensions.Count; d++)
                unit.DimensionScores.Add(
                    new V1.DimensionScore
                    {
                        Dimension = result.Dimensions[d].Dimension,
                        Score = result.DimensionScores[d][i],
                    }
                );
            response.Units.Add(unit);
        }
        return response;
    }
}
