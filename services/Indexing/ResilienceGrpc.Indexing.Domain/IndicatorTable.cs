using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Indexing.Domain;

/// <summary>Whether more of an indicator is better or worse.</summary>
public enum IndicatorDirection
{
    /// <summary>More is better.</summary>
    Positive = 1,

    /// <summary>More is worse (emissions, discharges).</summary>
    Negative = 2,
}

/// <summary>How indicator weights are derived.</summary>
public enum WeightingMethod
{
    /// <summary>The entropy weight method (the paper's).</summary>
    Entropy = 1,

    /// <summary>1/m each.</summary>
    Equal = 2,

    /// <summary>CRITIC: standard deviation times total conflict Σ(1 − r).</summary>
    Critic = 3,
}

/// <summary>One indicator column with its catalogue entry.</summary>
public sealed record Indicator(
    string Id,
    string Dimension,
    IndicatorDirection Direction,
    double[] Values,
    string? Label = null
);

/// <summary>Options of the index.</summary>
/// <param name="Method">Weighting method.</param>
/// <param name="Shift">s added to every standardised value; must be positive.</param>
/// <param name="WithinDimension">Dimension scores from weights re-derived inside each dimension.</param>
/// <param name="DimensionMean">The composite is the equal-weight mean of the dimension scores
/// (hierarchical scoring, docs/method.md §2) instead of the global weighted sum.</param>
public sealed record IndexOptions(
    WeightingMethod Method = WeightingMethod.Entropy,
    double Shift = IndexOptions.DefaultShift,
    bool WithinDimension = false,
    bool DimensionMean = false
)
{
    /// <summary>The paper's shift.</summary>
    public const double DefaultShift = 0.0001;
}

/// <summary>Parsing of catalogue words.</summary>
public static class IndicatorCatalogue
{
    /// <summary>Parses <c>positive</c> / <c>negative</c> (case-insensitive, also <c>+</c> / <c>-</c>).</summary>
    /// <exception cref="InvalidInputException">Any other word.</exception>
    public static IndicatorDirection ParseDirection(string? text, string indicatorId, string field)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "positive" or "+" or "pos":
                return IndicatorDirection.Positive;
            case "negative" or "-" or "neg":
                return IndicatorDirection.Negative;
            case null or "":
                throw new InvalidInputException(
                    field,
                    $"Indicator '{indicatorId}' has no direction; give 'positive' (more is better) or 'negative' (more is worse)."
                );
            default:
                throw new InvalidInputException(
                    field,
                    $"Indicator '{indicatorId}' has an unknown direction '{text}'; use 'positive' or 'negative'."
                );
        }
    }

    /// <summary>Parses <c>entropy</c>, <c>equal</c> or <c>critic</c>.</summary>
    public static WeightingMethod ParseMethod(string? text, string field) =>
        text?.Trim().ToLowerInvariant() switch
        {
            "entropy" => WeightingMethod.Entropy,
            "equal" => WeightingMethod.Equal,
            "critic" => WeightingMethod.Critic,
            _ => throw new InvalidInputException(
                field,
                $"Unknown weighting method '{text}'; use 'entropy', 'equal' or 'critic'."
            ),
        };
}
