namespace ResilienceGrpc.Regression.Domain;

/// <summary>One row's leave-one-out effect: the coefficients refitted without it.</summary>
/// <param name="RowId">The row left out.</param>
/// <param name="EstimatesWithout">β̂ without the row, in design order; null when the row's leverage is 1 (the model is not identified without it).</param>
/// <param name="Leverage">h_ii.</param>
public sealed record RowInfluence(string RowId, double[]? EstimatesWithout, double Leverage);

/// <summary>
/// Leave-one-out influence by the exact deletion formula
/// β̂₍ᵢ₎ = β̂ − (X'X)⁻¹ xᵢ eᵢ / (1 − hᵢᵢ), with (X'X)⁻¹xᵢ = R⁻¹Qᵢ' (no refits).
/// </summary>
public static class LeaveOneOutInfluence
{
    /// <summary>The coefficients without each row in turn; the token is observed every 256 rows.</summary>
    public static IReadOnlyList<RowInfluence> Compute(OlsFit fit, CancellationToken cancellationToken = default)
    {
        int n = fit.N,
            k = fit.K;
        var result = new RowInfluence[n];
        var qi = new double[k];
        for (int i = 0; i < n; i++)
        {
            if ((i & 255) == 0)
                cancellationToken.ThrowIfCancellationRequested();
            double h = fit.Leverage[i];
            if (1.0 - h < 1e-10)
            {
                result[i] = new RowInfluence(fit.Design.RowIds[i], null, h);
                continue;
            }
            for (int l = 0; l < k; l++)
                qi[l] = fit.Q(l)[i];
            double scale = fit.Residuals[i] / (1.0 - h);
            var without = new double[k];
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int l = j; l < k; l++)
                    s += fit.RInverse[j, l] * qi[l];
                without[j] = fit.Beta[j] - s * scale;
            }
            result[i] = new RowInfluence(fit.Design.RowIds[i], without, h);
        }
        return result;
    }
}
