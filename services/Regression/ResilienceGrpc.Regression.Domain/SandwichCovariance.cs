using System.Runtime.CompilerServices;
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
/// R⁻¹ (Q' Ω Q) R⁻ᵀ, which is how it is computed (no X'X is formed; docs/method.md,
/// "Covariance").
/// </summary>
public static class SandwichCovariance
{
    /// <summary>
    /// The diagonal of Ω for a covariance type, from residuals e, leverage h and the
    /// dimensions n, k. Classical: σ̂² for every row; HC0: e²; HC1: e²·n/(n − k);
    /// HC2: e²/(1 − h); HC3: e²/(1 − h)².
    /// </summary>
    public static double[] OmegaWeights(
        CovarianceType type,
        ReadOnlySpan<double> e,
        ReadOnlySpan<double> h,
        int k,
        IReadOnlyList<string>? rowIds = null
    ) => OmegaWeights(type, e, h, k, rowIds, 0, e.Length);

    /// <summary>As above for the rows from <paramref name="offset"/>; <paramref name="nTotal"/> is n of the whole fit (HC1's n/(n − k)).</summary>
    internal static double[] OmegaWeights(
        CovarianceType type,
        ReadOnlySpan<double> e,
        ReadOnlySpan<double> h,
        int k,
        IReadOnlyList<string>? rowIds,
        int offset,
        int nTotal
    )
    {
        var w = new double[e.Length];
        OmegaWeights(type, e, h, k, rowIds, offset, nTotal, w);
        return w;
    }

    /// <summary>As above, written into <paramref name="w"/> (length of <paramref name="e"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void OmegaWeights(
        CovarianceType type,
        ReadOnlySpan<double> e,
        ReadOnlySpan<double> h,
        int k,
        IReadOnlyList<string>? rowIds,
        int offset,
        int nTotal,
        Span<double> w
    )
    {
        int n = e.Length;
        switch (type)
        {
            case CovarianceType.Classical:
                double rss = 0;
                foreach (var v in e)
                    rss += v * v;
                w.Fill(rss / (nTotal - k));
                break;
            case CovarianceType.HC0:
                for (int i = 0; i < n; i++)
                    w[i] = e[i] * e[i];
                break;
            case CovarianceType.HC1:
                double scale = (double)nTotal / (nTotal - k);
                for (int i = 0; i < n; i++)
                    w[i] = e[i] * e[i] * scale;
                break;
            case CovarianceType.HC2:
            case CovarianceType.HC3:
                for (int i = 0; i < n; i++)
                {
                    double m = 1.0 - h[i];
                    if (m < 1e-10)
                        throw new InfeasibleInputException(
                            "covariance_type",
                            $"Row '{rowIds?[offset + i] ?? (offset + i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}' has leverage 1 (it alone determines a coefficient), so {type} is undefined; use HC1 or drop the row."
                        );
                    w[i] = type == CovarianceType.HC2 ? e[i] * e[i] / m : e[i] * e[i] / (m * m);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown covariance type.");
        }
    }

    /// <summary>
    /// Q' diag(ω) Q for the fit's thin Q: one partial sum per row block (in parallel),
    /// added in block order, so the result does not depend on the thread count.
    /// </summary>
    public static double[,] Middle(OlsFit fit, double[] omega, CancellationToken cancellationToken = default)
    {
        int k = fit.K;
        var blocks = fit.BlockStarts;
        int m = blocks.Length - 1;
        var parts = new double[m * k * k];
        TallQr.ForEachBlock(
            m,
            fit.Options.Parallel(cancellationToken),
            b =>
            {
                int s = blocks[b],
                    nb = blocks[b + 1] - s;
                var buffer = System.Buffers.ArrayPool<double>.Shared.Rent(nb * (k + 1));
                try
                {
                    fit.FillQBlock(b, buffer);
                    AddMiddle(buffer, nb, k, omega.AsSpan(s, nb), parts.AsSpan(b * k * k, k * k));
                }
                finally
                {
                    System.Buffers.ArrayPool<double>.Shared.Return(buffer);
                }
            }
        );
        return SumParts(parts, m, k);
    }

    /// <summary>Adds Q_b' diag(ω) Q_b (upper triangle, row-major k × k) for one block's rows of Q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddMiddle(double[] qBlock, int nb, int k, ReadOnlySpan<double> w, Span<double> part)
    {
        // Four columns per pass over q_a (VectorKernels.WeightedDot4), same bits as one at a time.
        Span<double> r = stackalloc double[4];
        for (int a = 0; a < k; a++)
        {
            var qa = qBlock.AsSpan(a * nb, nb);
            int c = a;
            for (; c + 4 <= k; c += 4)
            {
                VectorKernels.WeightedDot4(
                    qa,
                    w,
                    qBlock.AsSpan(c * nb, nb),
                    qBlock.AsSpan((c + 1) * nb, nb),
                    qBlock.AsSpan((c + 2) * nb, nb),
                    qBlock.AsSpan((c + 3) * nb, nb),
                    r
                );
                for (int t = 0; t < 4; t++)
                    part[a * k + c + t] += r[t];
            }
            for (; c < k; c++)
                part[a * k + c] += VectorKernels.WeightedDot(qa, w, qBlock.AsSpan(c * nb, nb));
        }
    }

    /// <summary>Adds the blocks' partial middles in block order and fills the lower triangle.</summary>
    internal static double[,] SumParts(double[] parts, int m, int k)
    {
        var mid = new double[k, k];
        for (int b = 0; b < m; b++)
            for (int a = 0; a < k; a++)
                for (int c = a; c < k; c++)
                    mid[a, c] += parts[b * k * k + a * k + c];
        for (int a = 0; a < k; a++)
            for (int c = 0; c < a; c++)
                mid[a, c] = mid[c, a];
        return mid;
    }

    /// <summary>The k × k covariance of β̂ for the fit (terms in design order).</summary>
    public static double[,] Compute(OlsFit fit, CovarianceType type, CancellationToken cancellationToken = default)
    {
        if (type == CovarianceType.Classical)
        {
            // σ̂² (X'X)⁻¹ = σ̂² R⁻¹R⁻ᵀ.
            int k = fit.K;
            var ident = new double[k, k];
            for (int i = 0; i < k; i++)
                ident[i, i] = fit.Sigma2;
            return Sandwich(fit.RInverse, ident);
        }
        var omega = OmegaWeights(type, fit.Residuals, fit.Leverage, fit.K, fit.Design.RowIds);
        return Sandwich(fit.RInverse, Middle(fit, omega, cancellationToken));
    }

    /// <summary>A M Aᵀ for square A and symmetric M.</summary>
    internal static double[,] Sandwich(double[,] a, double[,] m)
    {
        int k = a.GetLength(0);
        var am = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                    s += a[i, l] * m[l, j];
                am[i, j] = s;
            }
        var v = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                    s += am[i, l] * a[j, l];
                v[i, j] = s;
                v[j, i] = s;
            }
        return v;
    }
}
