using MathNet.Numerics.LinearAlgebra;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>The coefficient covariance estimators.</summary>
public enum CovarianceType
{
    /// <summary>σ̂² (X'X)⁻¹.</summary>
    Classical,
    /// <summary>White: (X'X)⁻¹ X' diag(e²) X (X'X)⁻¹.</summary>
    HC0,
    /// <summary>HC0 · n/(n − k): Stata's <c>regress, robust</c>.</summary>
    HC1,
    /// <summary>Middle weights e²/(1 − h).</summary>
    HC2,
    /// <summary>Middle weights e²/(1 − h)².</summary>
    HC3,
}

/// <summary>
/// Sandwich covariance estimators. Every estimator here is
/// V = (X'X)⁻¹ X' Ω X (X'X)⁻¹ with a diagonal Ω; with X = QR this is
/// R⁻¹ (Q' Ω Q) R⁻ᵀ, which is how it is computed (no X'X is formed).
/// </summary>
public static class SandwichCovariance
{
    /// <summary>
    /// The diagonal of Ω for a covariance type, from residuals e, leverage h and the
    /// dimensions n, k. Classical: σ̂² for every row; HC0: e²; HC1: e²·n/(n − k);
    /// HC2: e²/(1 − h); HC3: e²/(1 − h)².
    /// </summary>
    public static double[] OmegaWeights(CovarianceType type, ReadOnlySpan<double> e, ReadOnlySpan<double> h, int k, IReadOnlyList<string>? rowIds = null)
    {
        int n = e.Length;
        var w = new double[n];
        switch (type)
        {
            case CovarianceType.Classical:
                double rss = 0;
                foreach (var v in e) rss += v * v;
                Array.Fill(w, rss / (n - k));
                break;
            case CovarianceType.HC0:
                for (int i = 0; i < n; i++) w[i] = e[i] * e[i];
                break;
            case CovarianceType.HC1:
                double scale = (double)n / (n - k);
                for (int i = 0; i < n; i++) w[i] = e[i] * e[i] * scale;
                break;
            case CovarianceType.HC2:
            case CovarianceType.HC3:
                for (int i = 0; i < n; i++)
                {
                    double m = 1.0 - h[i];
                    if (m < 1e-10)
                        throw new InfeasibleInputException("covariance_type",
                            $"Row '{rowIds?[i] ?? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}' has leverage 1 (it alone determines a coefficient), so {type} is undefined; use HC1 or drop the row.");
                    w[i] = type == CovarianceType.HC2 ? e[i] * e[i] / m : e[i] * e[i] / (m * m);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown covariance type.");
        }
        return w;
    }

    /// <summary>Q' diag(ω) Q for a thin Q given by columns.</summary>
    public static double[,] Middle(double[][] q, ReadOnlySpan<double> omega)
    {
        int k = q.Length, n = omega.Length;
        var m = new double[k, k];
        for (int a = 0; a < k; a++)
            for (int b = a; b < k; b++)
            {
                double s = 0;
                var qa = q[a];
                var qb = q[b];
                for (int i = 0; i < n; i++) s += qa[i] * omega[i] * qb[i];
                m[a, b] = s;
                m[b, a] = s;
            }
        return m;
    }

    /// <summary>The k × k covariance of β̂ for the fit (terms in design order).</summary>
    public static double[,] Compute(OlsFit fit, CovarianceType type)
    {
        var omega = OmegaWeights(type, fit.Residuals, fit.Leverage, fit.K, fit.Design.RowIds);
        var middle = Middle(fit.Q, omega);
        return Sandwich(fit.RInverse, middle);
    }

    /// <summary>A M Aᵀ for square A and symmetric M.</summary>
    internal static double[,] Sandwich(double[,] a, double[,] m)
    {
        var am = Matrix<double>.Build.DenseOfArray(a);
        return (am * Matrix<double>.Build.DenseOfArray(m) * am.Transpose()).ToArray();
    }
}
