using MathNet.Numerics.Statistics;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Indexing.Domain;

/// <summary>Weights of one indicator.</summary>
/// <param name="Id">Indicator id.</param>
/// <param name="Dimension">Its dimension.</param>
/// <param name="Direction">Direction used to standardise it.</param>
/// <param name="Weight">Global weight (all weights sum to 1).</param>
/// <param name="Entropy">e_j (entropy method only).</param>
/// <param name="WithinDimensionWeight">Weight re-derived inside its dimension (these sum to 1 per dimension).</param>
/// <param name="Label">The indicator's label, when it has one.</param>
public sealed record IndicatorWeight(
    string Id,
    string Dimension,
    IndicatorDirection Direction,
    double Weight,
    double? Entropy,
    double WithinDimensionWeight,
    string? Label = null
);

/// <summary>Weight of a dimension: Σ of its indicators' global weights.</summary>
public sealed record DimensionWeight(string Dimension, double Weight, int IndicatorCount);

/// <summary>The index over a table of units × indicators.</summary>
/// <param name="UnitIds">Units in input order.</param>
/// <param name="Indicators">Per-indicator weights, in input order.</param>
/// <param name="Dimensions">Dimensions in order of first appearance.</param>
/// <param name="Composite">Composite score per unit.</param>
/// <param name="DimensionScores">[dimension][unit] scores.</param>
/// <param name="Options">The options used.</param>
public sealed record IndexResult(
    IReadOnlyList<string> UnitIds,
    IReadOnlyList<IndicatorWeight> Indicators,
    IReadOnlyList<DimensionWeight> Dimensions,
    double[] Composite,
    double[][] DimensionScores,
    IndexOptions Options
);

/// <summary>
/// The urban resilience index of docs/method.md §2: min-max standardisation by direction,
/// the shift s, weights by the chosen method, composite and dimension scores.
/// </summary>
public static class CompositeIndex
{
    /// <summary>Computes the index.</summary>
    /// <exception cref="InvalidInputException">Missing or non-finite values, bad ids, s ≤ 0, fewer than 2 units.</exception>
    /// <exception cref="InfeasibleInputException">A constant indicator.</exception>
    public static IndexResult Compute(
        IReadOnlyList<string> unitIds,
        IReadOnlyList<Indicator> indicators,
        IndexOptions options,
        CancellationToken cancellationToken = default
    )
    {
        Validate(unitIds, indicators, options);
        int m = indicators.Count;
        var z = new double[m][];
        for (int j = 0; j < m; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            z[j] = Standardise(indicators[j], options.Shift);
        }

        var all = Enumerable.Range(0, m).ToArray();
        var (weights, entropies) = Weigh(z, all, options.Method, cancellationToken);

        var dimensions = indicators.Select(i => i.Dimension).Distinct(StringComparer.Ordinal).ToArray();
        var within = new double[m];
        var dimWeights = new List<DimensionWeight>();
        var members = new int[dimensions.Length][];
        for (int d = 0; d < dimensions.Length; d++)
        {
            members[d] = all.Where(j => indicators[j].Dimension == dimensions[d]).ToArray();
            var (w, _) = Weigh(z, members[d], options.Method, cancellationToken);
            for (int t = 0; t < members[d].Length; t++)
                within[members[d][t]] = w[t];
            dimWeights.Add(new DimensionWeight(dimensions[d], members[d].Sum(j => weights[j]), members[d].Length));
        }

        int n = unitIds.Count;
        var dimScores = new double[dimensions.Length][];
        for (int d = 0; d < dimensions.Length; d++)
        {
            dimScores[d] = new double[n];
            foreach (var j in members[d])
            {
                double w = options.WithinDimension ? within[j] : weights[j];
                for (int i = 0; i < n; i++)
                    dimScores[d][i] += w * z[j][i];
            }
        }

        var composite = new double[n];
        if (options.DimensionMean)
        {
            for (int d = 0; d < dimensions.Length; d++)
                for (int i = 0; i < n; i++)
                    composite[i] += dimScores[d][i];
            for (int i = 0; i < n; i++)
                composite[i] /= dimensions.Length;
        }
        else
        {
            for (int j = 0; j < m; j++)
                for (int i = 0; i < n; i++)
                    composite[i] += weights[j] * z[j][i];
        }

        var iw = new IndicatorWeight[m];
        for (int j = 0; j < m; j++)
            iw[j] = new IndicatorWeight(
                indicators[j].Id,
                indicators[j].Dimension,
                indicators[j].Direction,
                weights[j],
                entropies?[j],
                within[j],
                indicators[j].Label
            );
        return new IndexResult(unitIds.ToArray(), iw, dimWeights, composite, dimScores, options);
    }

    /// <summary>
    /// Min-max standardisation by direction plus the shift:
    /// positive (x − min)/(max − min) + s, negative (max − x)/(max − min) + s.
    /// </summary>
    public static double[] Standardise(Indicator indicator, double shift)
    {
        var x = indicator.Values;
        double min = x.Min(),
            max = x.Max(),
            range = max - min;
        var z = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
            z[i] =
                (indicator.Direction == IndicatorDirection.Positive ? (x[i] - min) / range : (max - x[i]) / range)
                + shift;
        return z;
    }

    /// <summary>Weights of the indicators <paramref name="subset"/> (summing to 1 over the subset), and entropies for the entropy method.
    /// The token is observed once per indicator: CRITIC's pairwise correlations are the one
    /// part that grows with the square of the indicators.</summary>
    private static (double[] Weights, double[]? Entropies) Weigh(
        double[][] z,
        int[] subset,
        WeightingMethod method,
        CancellationToken cancellationToken
    )
    {
        int m = subset.Length;
        switch (method)
        {
            case WeightingMethod.Entropy:
                {
                    var e = subset.Select(j => Entropy(z[j])).ToArray();
                    var d = e.Select(v => 1.0 - v).ToArray();
                    double sum = d.Sum();
                    // Every indicator of the subset equally uninformative: weigh them equally.
                    var w = sum > 0 ? d.Select(v => v / sum).ToArray() : Enumerable.Repeat(1.0 / m, m).ToArray();
                    return (w, e);
                }
            case WeightingMethod.Equal:
                return (Enumerable.Repeat(1.0 / m, m).ToArray(), null);
            case WeightingMethod.Critic:
                {
                    if (m == 1)
                        return ([1.0], null);
                    var c = new double[m];
                    for (int a = 0; a < m; a++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        double conflict = 0;
                        for (int b = 0; b < m; b++)
                            if (a != b)
                                conflict += 1.0 - Correlation.Pearson(z[subset[a]], z[subset[b]]);
                        c[a] = z[subset[a]].StandardDeviation() * conflict;
                    }
                    double sum = c.Sum();
                    var w = sum > 0 ? c.Select(v => v / sum).ToArray() : Enumerable.Repeat(1.0 / m, m).ToArray();
                    return (w, null);
                }
            default:
                throw new InvalidInputException(
                    "method",
                    $"Unknown weighting method {(int)method}; use entropy, equal or critic."
                );
        }
    }

    /// <summary>e = −(1/ln n) Σ p ln p with p = z / Σ z (z &gt; 0 thanks to the shift).</summary>
    public static double Entropy(double[] z)
    {
        double total = z.Sum();
        double s = 0;
        foreach (var v in z)
        {
            double p = v / total;
            s += p * Math.Log(p);
        }
        return -s / Math.Log(z.Length);
    }

    private static void Validate(
        IReadOnlyList<string> unitIds,
        IReadOnlyList<Indicator> indicators,
        IndexOptions options
    )
    {
        if (!(options.Shift > 0) || double.IsInfinity(options.Shift))
            throw new InvalidInputException(
                "shift",
                $"The shift must be a positive number (it keeps ln defined); {options.Shift} was given."
            );
        if (options.Shift > 1)
            throw new InvalidInputException(
                "shift",
                string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"The shift must be at most 1 (the paper uses 0.0001); standardised values lie in [0, 1], and a shift of {options.Shift:G4} drowns them, making every weight equal."
                )
            );
        for (int i = 0; i < unitIds.Count; i++)
            Names.CheckPrintable(unitIds[i] ?? "", $"unit_ids[{i}]", "unit id");
        for (int j = 0; j < indicators.Count; j++)
        {
            Names.CheckPrintable(indicators[j].Id ?? "", $"indicators[{j}].id", "indicator id");
            Names.CheckPrintable(indicators[j].Dimension ?? "", $"indicators[{j}].dimension", "dimension");
        }
        if (!Enum.IsDefined(options.Method))
            throw new InvalidInputException(
                "method",
                $"Unknown weighting method {(int)options.Method}; use entropy, equal or critic."
            );
        int n = unitIds.Count;
        if (n < 2)
            throw new InvalidInputException(
                "unit_ids",
                $"The index needs at least 2 units (cities) to standardise and weigh; {n} {(n == 1 ? "was" : "were")} given."
            );
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (string.IsNullOrWhiteSpace(unitIds[i]))
                throw new InvalidInputException($"unit_ids[{i}]", $"Unit {i + 1} has an empty id.");
            if (!seen.Add(unitIds[i]))
                throw new InvalidInputException(
                    $"unit_ids[{i}]",
                    $"City id '{unitIds[i]}' appears twice; every city must appear once."
                );
        }
        if (indicators.Count == 0)
            throw new InvalidInputException("indicators", "No indicators were given.");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int j = 0; j < indicators.Count; j++)
        {
            var ind = indicators[j];
            if (string.IsNullOrWhiteSpace(ind.Id))
                throw new InvalidInputException($"indicators[{j}].id", $"Indicator {j + 1} has no id.");
            if (!ids.Add(ind.Id))
                throw new InvalidInputException($"indicators[{j}].id", $"Indicator '{ind.Id}' appears twice.");
            if (string.IsNullOrWhiteSpace(ind.Dimension))
                throw new InvalidInputException(
                    $"indicators[{j}].dimension",
                    $"Indicator '{ind.Id}' has no dimension; the catalogue must give one."
                );
            if (!Enum.IsDefined(ind.Direction))
                throw new InvalidInputException(
                    $"indicators[{j}].direction",
                    $"Indicator '{ind.Id}' has an unknown direction; use positive or negative."
                );
            if (ind.Values.Length != n)
                throw new InvalidInputException(
                    $"indicators[{j}].values",
                    $"Indicator '{ind.Id}' has {ind.Values.Length} values for {n} cities; give one value per city."
                );
            for (int i = 0; i < n; i++)
            {
                double v = ind.Values[i];
                if (double.IsNaN(v))
                    throw new InvalidInputException(
                        $"indicators[{j}].values[{i}]",
                        $"Indicator '{ind.Id}' is missing for city '{unitIds[i]}'; the index needs every value (impute it or drop the city)."
                    );
                if (double.IsInfinity(v))
                    throw new InvalidInputException(
                        $"indicators[{j}].values[{i}]",
                        $"Indicator '{ind.Id}' is infinite for city '{unitIds[i]}'; every value must be a finite number."
                    );
            }
            double min = ind.Values.Min(),
                max = ind.Values.Max();
            if (double.IsInfinity(max - min))
                throw new InvalidInputException(
                    $"indicators[{j}].values",
                    $"Indicator '{ind.Id}' spans more than a double can hold (from {min.ToString(System.Globalization.CultureInfo.InvariantCulture)} to {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}); rescale it."
                );
            if (max == min)
                throw new InfeasibleInputException(
                    $"indicators[{j}].values",
                    $"Indicator '{ind.Id}' has the same value ({max.ToString(System.Globalization.CultureInfo.InvariantCulture)}) for every city, so it cannot be standardised (max = min); drop it from the catalogue."
                );
        }
    }
}
