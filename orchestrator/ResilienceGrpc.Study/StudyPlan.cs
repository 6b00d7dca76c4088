using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study;

/// <summary>
/// Step 1 of a study, plan: the completed spec, and every call it will make, known before any
/// call: the index variants (the tables' weightings, then the curve's), the projection
/// variants, the table models and the curve's specifications.
/// </summary>
public sealed record StudyPlan(
    StudySpec Spec,
    IndexVariant MainIndex,
    ProjectionVariant MainProjection,
    IReadOnlyList<IndexVariant> Indices,
    IReadOnlyList<ProjectionVariant> Projections,
    IReadOnlyList<PlannedSpecification> Curve
)
{
    /// <summary>Regressions of the tables.</summary>
    public int Fits => Spec.Tables.Sum(t => t.Regressions.Count);

    /// <summary>Progress steps in all: every index, projection, table model and specification.</summary>
    public int Steps => Indices.Count + Projections.Count + Fits + Curve.Count;

    /// <summary>Completes and validates the user's spec against the data, and lists the calls.</summary>
    /// <exception cref="Domain.DomainInputException">A spec field the data cannot satisfy, or a curve over its limits.</exception>
    public static StudyPlan Make(StudyData data, StudySpec? userSpec, StudyLimits? limits = null)
    {
        var spec = StudySpecs.Complete(userSpec, data, limits);
        var curve = MultiversePlan.Specifications(spec, data);
        var mainIndex = new IndexVariant(spec.Weighting, false);
        var mainProjection = new ProjectionVariant(
            spec.GrowthMethod,
            spec.BaseWindow.StartYear,
            spec.BaseWindow.EndYear
        );
        var indices = spec
            .Tables.SelectMany(t => t.Regressions)
            .Select(r => new IndexVariant(WeightingOf(r, spec), false))
            .Prepend(mainIndex)
            .Concat(curve.Select(p => p.Index))
            .Distinct()
            .ToList();
        var projections = curve.Select(p => p.Projection).Prepend(mainProjection).Distinct().ToList();
        return new StudyPlan(spec, mainIndex, mainProjection, indices, projections, curve);
    }

    /// <summary>The weighting a regression's resilience variables come from.</summary>
    public static WeightingMethod WeightingOf(RegressionSpec r, StudySpec spec) =>
        r.Weighting == WeightingMethod.Unspecified ? spec.Weighting : r.Weighting;

    /// <summary>The index request of a variant (docs/method.md, the specification curve).</summary>
    /// <remarks>
    /// The global variant is the tables' request (the spec's own within-dimension setting shapes
    /// only the dimension scores); within-dimension scoring also makes the composite the mean
    /// of the dimension scores.
    /// </remarks>
    public static ComputeIndexRequest IndexRequest(StudyData data, StudySpec spec, IndexVariant variant)
    {
        var r = new ComputeIndexRequest
        {
            UnitIds = { data.CityIds },
            Indicators = { data.Indicators },
            Method = variant.Weighting,
            WithinDimension = spec.WithinDimension,
        };
        if (variant.WithinDimension)
        {
            r.WithinDimension = true;
            r.CompositeRule = CompositeRule.DimensionMean;
        }
        if (spec.HasShift)
            r.Shift = spec.Shift;
        return r;
    }

    /// <summary>The projection request of a variant.</summary>
    public static ProjectExportsRequest ProjectionRequest(StudyData data, StudySpec spec, ProjectionVariant variant)
    {
        var r = new ProjectExportsRequest
        {
            Series = { data.Exports },
            Kind = data.ExportKind,
            GrowthMethod = variant.Growth,
            BaseWindow = new BaseWindow { StartYear = variant.StartYear, EndYear = variant.EndYear },
        };
        if (spec.HasJanuaryShare)
            r.JanuaryShare = spec.JanuaryShare;
        return r;
    }
}
