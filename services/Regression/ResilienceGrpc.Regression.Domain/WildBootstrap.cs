using MathNet.Numerics.Random;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>Wild-bootstrap p-value of one slope.</summary>
public sealed record BootstrapPValue(string Term, double PValue, int Replications);

/// <summary>
/// Wild (restricted, "WCR") bootstrap of each slope's t statistic with Rademacher
/// weights and the null imposed: for slope j, y* = ỹ + v ∘ ũ, where ỹ and ũ are the
/// fitted values and residuals of the model without x_j and v_i = ±1 with equal
/// probability; the bootstrap t* of slope j uses the same covariance type as the
/// fit. The p-value is the symmetric one, #{|t*| ≥ |t|} / B.
/// </summary>
/// <remarks>
/// X is fixed across replications, so with A = (X'X)⁻¹X' = R⁻¹Q' each replication
/// needs only β*_j = a_j·y*, e* = (I − QQ')(v ∘ ũ) and Var*_jj = Σ a_ji² ω_i(e*):
/// O(nk) work, no refactorisation, with the products that do not depend on v made once.
/// Slopes run in parallel, each on its own random stream.
/// </remarks>
public static class WildBootstrap
{
    /// <summary>Default number of replications.</summary>
    public const int DefaultReplications = 9999;

    /// <summary>Bootstrap p-values for every slope (the intercept is not tested).</summary>
    public static IReadOnlyList<BootstrapPValue> SlopePValues(
        OlsFit fit,
        CovarianceType type,
        IReadOnlyList<CoefficientEstimate> observed,
        int replications,
        ulong seed,
        CancellationToken cancellationToken = default
    ) =>
        SlopePValues(
            fit,
            type,
            observed,
            replications,
            j => new Xoshiro256StarStar(SeedFor(seed, j), threadSafe: false),
            cancellationToken
        );

    /// <summary>As above, with the random source of slope j supplied (tests replay the same draws).</summary>
    internal static IReadOnlyList<BootstrapPValue> SlopePValues(
        OlsFit fit,
        CovarianceType type,
        IReadOnlyList<CoefficientEstimate> observed,
        int replications,
        Func<int, Random> randomFor,
        CancellationToken cancellationToken
    )
    {
        if (replications < 1)
            throw new InvalidInputException(
                "bootstrap.replications",
                $"The bootstrap needs at least 1 replication; {replications} was given."
            );
        int first = fit.Design.HasIntercept ? 1 : 0,
            k = fit.K;
        // Unit weights give each covariance type's per-row factor (1, n/(n−k), 1/(1−h), 1/(1−h)²).
        var unit = new double[fit.N];
        Array.Fill(unit, 1.0);
        var rowFactor =
            type == CovarianceType.Classical
                ? null
                : SandwichCovariance.OmegaWeights(type, unit, fit.Leverage, k, fit.Design.RowIds);
        var results = new BootstrapPValue[k - first];
        var parallel = fit.Options.Parallel(cancellationToken);
        System.Threading.Tasks.Parallel.For(
            first,
            k,
            parallel,
            j =>
            {
                double p = Slope(
                    fit,
                    type,
                    j,
                    Math.Abs(observed[j].TValue),
                    rowFactor,
                    replications,
                    randomFor(j),
                    cancellationToken
                );
                results[j - first] = new BootstrapPValue(fit.Design.Terms[j], p, replications);
            }
        );
        return results;
    }

    /// <summary>
    /// One slope's p-value. With a = row j of R⁻¹Q', ỹ and ũ the restricted fit and v the
    /// Rademacher draws: β* = a·ỹ + Σ vᵢ aᵢũᵢ, Q'w = Σ vᵢ (Qᵢ ũᵢ), e* = v∘ũ − Q(Q'w) and
    /// Var* = Σ dᵢ e*ᵢ² with dᵢ = aᵢ² times the type's row factor (docs/method.md, "Wild bootstrap").
    /// </summary>
    private static double Slope(
        OlsFit fit,
        CovarianceType type,
        int j,
        double tObs,
        double[]? rowFactor,
        int replications,
        Random rng,
        CancellationToken cancellationToken
    )
    {
        int n = fit.N,
            k = fit.K;
        var a = RowOfPseudoInverse(fit, j);
        var (fitted, resid) = RestrictedFit(fit.Design, j);
        double a0 = VectorKernels.Dot(a, fitted);
        var au = new double[n];
        var d = new double[n];
        for (int i = 0; i < n; i++)
        {
            au[i] = a[i] * resid[i];
            d[i] = a[i] * a[i] * (rowFactor?[i] ?? 1.0);
        }
        double classicalScale = rowFactor is null ? VectorKernels.Dot(a, a) / (n - k) : 0;
        var qu = new double[k * n];
        for (int l = 0; l < k; l++)
        {
            var ql = fit.Q(l);
            for (int i = 0; i < n; i++)
                qu[l * n + i] = ql[i] * resid[i];
        }
        var bits = new byte[(n + 7) / 8];
        var v = new double[bits.Length * 8];
        var e = new double[n];
        // The dots of v with au and every Q_l ũ are made four per pass over v, and e* in one
        // pass over Q (VectorKernels.Dot4, Combine): the same bits as one dot and one axpy
        // at a time, so a seed's p-values do not move.
        int dots = k + 1,
            groups = (dots + 3) / 4;
        var targets = new double[groups * 4 * n];
        au.CopyTo(targets, 0);
        qu.CopyTo(targets, n);
        var c = new double[groups * 4];
        var coef = new double[k];
        var q = fit.QColumns;
        int exceed = 0;
        for (int b = 0; b < replications; b++)
        {
            if ((b & 255) == 0)
                cancellationToken.ThrowIfCancellationRequested();
            rng.NextBytes(bits);
            for (int byteIndex = 0; byteIndex < bits.Length; byteIndex++)
                Signs.AsSpan(bits[byteIndex] * 8, 8).CopyTo(v.AsSpan(byteIndex * 8, 8));
            var vs = v.AsSpan(0, n);
            for (int g = 0; g < groups; g++)
            {
                var t = targets.AsSpan(g * 4 * n, 4 * n);
                VectorKernels.Dot4(vs, t[..n], t.Slice(n, n), t.Slice(2 * n, n), t.Slice(3 * n, n), c.AsSpan(g * 4, 4));
            }
            double beta = a0 + c[0];
            for (int i = 0; i < n; i++)
                e[i] = vs[i] * resid[i];
            for (int l = 0; l < k; l++)
                coef[l] = -c[l + 1];
            VectorKernels.Combine(e, q, n, coef, 1.0, e);
            double var = rowFactor is null
                ? VectorKernels.Dot(e, e) * classicalScale
                : VectorKernels.WeightedDot(e, d, e);
            double tStar = beta / Math.Sqrt(var);
            if (Math.Abs(tStar) >= tObs)
                exceed++;
        }
        return (double)exceed / replications;
    }

    /// <summary>±1 for each bit of every byte value: row 8·byte + bit.</summary>
    private static readonly double[] Signs = BuildSigns();

    private static double[] BuildSigns()
    {
        var table = new double[256 * 8];
        for (int value = 0; value < 256; value++)
            for (int bit = 0; bit < 8; bit++)
                table[value * 8 + bit] = ((value >> bit) & 1) == 1 ? 1.0 : -1.0;
        return table;
    }

    /// <summary>Weight of row i from a buffer of random bits: +1 for a set bit, −1 otherwise.</summary>
    internal static double Rademacher(byte[] bits, int i) => ((bits[i >> 3] >> (i & 7)) & 1) == 1 ? 1.0 : -1.0;

    /// <summary>Row j of (X'X)⁻¹X' = R⁻¹Q': the weights that give β_j from y.</summary>
    internal static double[] RowOfPseudoInverse(OlsFit fit, int j)
    {
        var a = new double[fit.N];
        for (int l = j; l < fit.K; l++)
        {
            double r = fit.RInverse[j, l];
            if (r == 0)
                continue;
            VectorKernels.Axpy(r, fit.Q(l), a);
        }
        return a;
    }

    /// <summary>Fitted values and residuals of y on X without column j.</summary>
    private static (double[] Fitted, double[] Residuals) RestrictedFit(DesignMatrix design, int j)
    {
        var cols = Enumerable.Range(0, design.K).Where(c => c != j).Select(c => design.Column(c).ToArray()).ToArray();
        if (cols.Length == 0)
            return (new double[design.N], (double[])design.Y.Clone());
        var qr = HouseholderQr.Factor(cols);
        var qty = qr.ApplyQTranspose(design.Y);
        for (int i = 0; i < qr.Rank; i++)
            qty[i] = 0;
        var resid = qr.ApplyQ(qty);
        var fitted = new double[design.N];
        for (int i = 0; i < fitted.Length; i++)
            fitted[i] = design.Y[i] - resid[i];
        return (fitted, resid);
    }

    /// <summary>A 32-bit seed for slope j's stream, mixed from the user's seed (SplitMix64 finaliser).</summary>
    private static int SeedFor(ulong seed, int j)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(j + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return unchecked((int)(z ^ (z >> 32)));
    }
}
