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
/// O(nk) work, no refactorisation.
/// </remarks>
public static class WildBootstrap
{
    /// <summary>Default number of replications.</summary>
    public const int DefaultReplications = 9999;

    /// <summary>Bootstrap p-values for every slope (the intercept is not tested).</summary>
    public static IReadOnlyList<BootstrapPValue> SlopePValues(
        OlsFit fit, CovarianceType type, IReadOnlyList<CoefficientEstimate> observed, int replications, ulong seed,
        CancellationToken cancellationToken = default)
        => SlopePValues(fit, type, observed, replications, j => new Xoshiro256StarStar(SeedFor(seed, j), threadSafe: false), cancellationToken);

    /// <summary>As above, with the random source of slope j supplied (tests replay the same draws).</summary>
    internal static IReadOnlyList<BootstrapPValue> SlopePValues(
        OlsFit fit, CovarianceType type, IReadOnlyList<CoefficientEstimate> observed, int replications, Func<int, Random> randomFor,
        CancellationToken cancellationToken)
    {
        if (replications < 1)
            throw new InvalidInputException("bootstrap.replications", $"The bootstrap needs at least 1 replication; {replications} was given.");
        int n = fit.N, k = fit.K;
        var results = new List<BootstrapPValue>(k - 1);
        var q = fit.Q;
        for (int j = 1; j < k; j++)
        {
            var a = RowOfPseudoInverse(fit, j);
            var (fitted, resid) = RestrictedFit(fit.Design, j);
            double tObs = Math.Abs(observed[j].TValue);
            var rng = randomFor(j);
            var bits = new byte[(n + 7) / 8];
            var w = new double[n];
            var e = new double[n];
            var qtw = new double[k];
            int exceed = 0;
            for (int b = 0; b < replications; b++)
            {
                if ((b & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
                rng.NextBytes(bits);
                double beta = 0;
                for (int i = 0; i < n; i++)
                {
                    double v = Rademacher(bits, i);
                    w[i] = v * resid[i];
                    beta += a[i] * (fitted[i] + w[i]);
                }
                // e* = w − Q (Q'w)
                for (int l = 0; l < k; l++)
                {
                    double s = 0;
                    var ql = q[l];
                    for (int i = 0; i < n; i++) s += ql[i] * w[i];
                    qtw[l] = s;
                }
                for (int i = 0; i < n; i++)
                {
                    double s = w[i];
                    for (int l = 0; l < k; l++) s -= q[l][i] * qtw[l];
                    e[i] = s;
                }
                var omega = SandwichCovariance.OmegaWeights(type, e, fit.Leverage, k, fit.Design.RowIds);
                double var = 0;
                for (int i = 0; i < n; i++) var += a[i] * a[i] * omega[i];
                double tStar = beta / Math.Sqrt(var);
                if (Math.Abs(tStar) >= tObs) exceed++;
            }
            results.Add(new BootstrapPValue(fit.Design.Terms[j], (double)exceed / replications, replications));
        }
        return results;
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
            if (r == 0) continue;
            var ql = fit.Q[l];
            for (int i = 0; i < a.Length; i++) a[i] += r * ql[i];
        }
        return a;
    }

    /// <summary>Fitted values and residuals of y on X without column j.</summary>
    private static (double[] Fitted, double[] Residuals) RestrictedFit(DesignMatrix design, int j)
    {
        var cols = design.X.Where((_, c) => c != j).ToArray();
        var qr = HouseholderQr.Factor(cols);
        var qty = qr.ApplyQTranspose(design.Y);
        for (int i = 0; i < qr.Rank; i++) qty[i] = 0;
        var resid = qr.ApplyQ(qty);
        var fitted = new double[design.N];
        for (int i = 0; i < fitted.Length; i++) fitted[i] = design.Y[i] - resid[i];
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
