using System.Globalization;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>What to compute beyond the fit and its inference.</summary>
/// <param name="Covariance">Covariance type of the standard errors.</param>
/// <param name="BootstrapReplications">Wild-bootstrap replications; 0 turns it off.</param>
/// <param name="BootstrapSeed">Seed of the bootstrap.</param>
/// <param name="Influence">Whether to compute leave-one-out influence.</param>
/// <param name="Tolerance">Pivot tolerance of the rank decision (R's 1e-7 by default).</param>
/// <param name="Threads">Most threads; 0 means one per core. Results do not depend on it.</param>
public sealed record RegressionOptions(
    CovarianceType Covariance = CovarianceType.HC1,
    int BootstrapReplications = 0,
    ulong BootstrapSeed = 0,
    bool Influence = false,
    double Tolerance = HouseholderQr.Tolerance,
    int Threads = 0
);

/// <summary>Everything one regression produces, ready for reporting.</summary>
public sealed record RegressionReport(
    DesignMatrix Design,
    OlsFit Fit,
    OlsInferenceResult Inference,
    IReadOnlyList<BootstrapPValue>? Bootstrap,
    IReadOnlyList<RowInfluence>? Influence,
    IReadOnlyList<string> Warnings
)
{
    /// <summary>Terms in reporting order: slopes in the given order, then <c>_cons</c> (as Stata prints them).</summary>
    public IEnumerable<int> ReportingOrder =>
        Design.HasIntercept ? Enumerable.Range(1, Design.K - 1).Append(0) : Enumerable.Range(0, Design.K);
}

/// <summary>Fit → inference → extras, in that order: the one entry point of the domain.</summary>
public static class RegressionAnalysis
{
    /// <summary>Ratio n/k below which the report advises HC3 or the bootstrap.</summary>
    public const double SmallSampleRatio = 20.0;

    /// <summary>Runs one regression.</summary>
    public static RegressionReport Run(
        RegressionData data,
        ModelSpec model,
        RegressionOptions options,
        CancellationToken cancellationToken = default
    ) => Run(DesignMatrix.Build(data, model), options, cancellationToken);

    /// <summary>
    /// Runs one regression on a design matrix already built (so a caller holding large
    /// columns can let them go before the fit).
    /// </summary>
    public static RegressionReport Run(
        DesignMatrix design,
        RegressionOptions options,
        CancellationToken cancellationToken = default
    )
    {
        var fit = OlsFit.Fit(
            design,
            new FitOptions(options.Tolerance, options.Threads, Covariance: options.Covariance),
            cancellationToken
        );
        cancellationToken.ThrowIfCancellationRequested();
        var inference = OlsInference.Infer(fit, options.Covariance, cancellationToken);
        if (
            inference.Coefficients.Any(c =>
                !double.IsFinite(c.Estimate) || !double.IsFinite(c.StdError) || !double.IsFinite(c.PValue)
            )
            || !double.IsFinite(inference.FTest.Statistic)
            || !double.IsFinite(fit.RSquared)
        )
            throw new InfeasibleInputException("columns", OlsFit.OverflowMessage);
        var bootstrap =
            options.BootstrapReplications > 0
                ? WildBootstrap.SlopePValues(
                    fit,
                    options.Covariance,
                    inference.Coefficients,
                    options.BootstrapReplications,
                    options.BootstrapSeed,
                    cancellationToken
                )
                : null;
        var influence = options.Influence ? LeaveOneOutInfluence.Compute(fit, cancellationToken) : null;

        var warnings = new List<string>();
        double ratio = (double)fit.N / fit.K;
        if (ratio < SmallSampleRatio)
            warnings.Add(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"With {fit.N} observations for {fit.K} parameters (n/k = {ratio:0.0}), {Describe(options.Covariance)} standard errors can be too small; HC3 or the wild-bootstrap p-values are the safer read."
                )
            );
        if (design.DroppedRowIds.Length > 0)
            warnings.Add(
                $"{design.DroppedRowIds.Length} row{(design.DroppedRowIds.Length == 1 ? " was" : "s were")} dropped for missing values: {string.Join(", ", design.DroppedRowIds.Take(10))}{(design.DroppedRowIds.Length > 10 ? ", ..." : "")}."
            );
        if (influence is not null && influence.Any(r => r.EstimatesWithout is null))
            warnings.Add(
                "Some rows have leverage 1; the model is not identified without them, so their leave-one-out estimates are missing."
            );
        return new RegressionReport(design, fit, inference, bootstrap, influence, warnings);
    }

    private static string Describe(CovarianceType type) =>
        type == CovarianceType.Classical ? "classical" : type.ToString();
}
