namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// Björck's iterative refinement of a least-squares solution on the augmented system
/// [I X; X' 0][r; β] = [y; 0], with the residuals of that system accumulated in
/// compensated (double-double) arithmetic and the corrections solved with the QR already
/// made (docs/method.md, "Refinement"). Unlike refining β alone it also converges when
/// the residuals are large, which is what the NIST Wampler problems need.
/// </summary>
internal static class IterativeRefinement
{
    /// <summary>Refinement runs when some column keeps less than this share of its norm after the earlier columns: min_j |R_jj| / ‖x_j‖.</summary>
    public const double Threshold = 1e-2;

    /// <summary>Most refinement steps.</summary>
    public const int MaxSteps = 3;

    /// <summary>
    /// Improves β (and the residuals r) in place. Each step: f = y − r − Xβ and
    /// g = −X'r in compensated arithmetic; δβ = R⁻¹(Q'f − R⁻ᵀg); δr = f − Xδβ.
    /// Block partial sums are added in block order, so the result does not depend on
    /// the thread count.
    /// </summary>
    public static void Refine(
        DesignMatrix design,
        double[] q,
        int[] blocks,
        double[,] rx,
        double[] beta,
        double[] r,
        ParallelOptions parallel
    )
    {
        int n = design.N,
            k = design.K,
            m = blocks.Length - 1;
        var x = design.Values;
        var f = new double[n];
        var gParts = new double[m * k];
        var qfParts = new double[m * k];
        for (int step = 0; step < MaxSteps; step++)
        {
            TallQr.ForEachBlock(
                m,
                parallel,
                b =>
                {
                    for (int i = blocks[b]; i < blocks[b + 1]; i++)
                    {
                        var acc = new CompensatedSum(design.Y[i]);
                        acc.Add(-r[i]);
                        for (int j = 0; j < k; j++)
                            acc.AddProduct(-x[j * n + i], beta[j]);
                        f[i] = acc.Value;
                    }
                    for (int j = 0; j < k; j++)
                    {
                        var acc = new CompensatedSum(0);
                        for (int i = blocks[b]; i < blocks[b + 1]; i++)
                            acc.AddProduct(-x[j * n + i], r[i]);
                        gParts[b * k + j] = acc.Value;
                        int s = blocks[b],
                            nb = blocks[b + 1] - s;
                        qfParts[b * k + j] = VectorKernels.Dot(q.AsSpan(j * n + s, nb), f.AsSpan(s, nb));
                    }
                }
            );
            var g = new double[k];
            var d = new double[k];
            for (int b = 0; b < m; b++)
                for (int j = 0; j < k; j++)
                {
                    g[j] += gParts[b * k + j];
                    d[j] += qfParts[b * k + j];
                }
            var h = Triangular.SolveUpperTransposed(rx, g);
            for (int j = 0; j < k; j++)
                d[j] -= h[j];
            var delta = Triangular.SolveUpper(rx, d);
            bool negligible = true;
            for (int j = 0; j < k; j++)
            {
                if (Math.Abs(delta[j]) > 1e-16 * Math.Abs(beta[j]))
                    negligible = false;
                beta[j] += delta[j];
            }
            TallQr.ForEachBlock(
                m,
                parallel,
                b =>
                {
                    for (int i = blocks[b]; i < blocks[b + 1]; i++)
                    {
                        double s = f[i];
                        for (int j = 0; j < k; j++)
                            s = Math.FusedMultiplyAdd(-x[j * n + i], delta[j], s);
                        r[i] += s;
                    }
                }
            );
            if (negligible)
                break;
        }
    }

    /// <summary>A running sum with its rounding error carried alongside (TwoSum and FMA TwoProduct).</summary>
    private struct CompensatedSum(double start)
    {
        private double _s = start,
            _c;

        public readonly double Value => _s + _c;

        public void Add(double p)
        {
            double t = _s + p,
                z = t - _s;
            _c += (_s - (t - z)) + (p - z);
            _s = t;
        }

        public void AddProduct(double a, double b)
        {
            double p = a * b;
            _c += Math.FusedMultiplyAdd(a, b, -p);
            Add(p);
        }
    }
}
