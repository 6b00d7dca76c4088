using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>One coefficient with its inference.</summary>
public sealed record CoefficientEstimate(
    string Term,
    double Estimate,
    double StdError,
    double TValue,
    double PValue,
    double CiLow,
    double CiHigh
);

/// <summary>The overall test of all slopes = 0.</summary>
public sealed record OverallFTest(double Statistic, int DfNum, int DfDen, double PValue, bool Robust);

/// <summary>Inference for a fit under one covariance type.</summary>
public sealed record OlsInferenceResult(
    CovarianceType CovarianceType,
    IReadOnlyList<CoefficientEstimate> Coefficients,
    OverallFTest FTest,
    double[,] Covariance
);

/// <summary>
/// Standard errors, t, p, 95% intervals and the overall F from a fit and a
/// covariance type. p-values are two-sided from Student t with n − k degrees of
/// freedom for every covariance type (as Stata and <c>lmtest::coeftest</c> do).
/// </summary>
public static class OlsInference
{
    /// <summary>Computes inference for every term of the fit.</summary>
    public static OlsInferenceResult Infer(
        OlsFit fit,
        CovarianceType type,
        CancellationToken cancellationToken = default
    )
    {
        double[,]? middle = null;
        double[,] cov;
        if (type == CovarianceType.Classical)
        {
            cov = SandwichCovariance.Compute(fit, type, cancellationToken);
        }
        else
        {
            middle =
                fit.Options.Covariance == type && fit.PreparedMiddle is { } prepared
                    ? prepared
                    : SandwichCovariance.Middle(
                        fit,
                        SandwichCovariance.OmegaWeights(type, fit.Residuals, fit.Leverage, fit.K, fit.Design.RowIds),
                        cancellationToken
                    );
            cov = SandwichCovariance.Sandwich(fit.RInverse, middle);
        }
        int df = fit.DfResid;
        double tCrit = StudentTQuantile975(df);
        var coefs = new CoefficientEstimate[fit.K];
        for (int j = 0; j < fit.K; j++)
        {
            double b = fit.Beta[j];
            double se = Math.Sqrt(cov[j, j]);
            double t = b / se;
            coefs[j] = new CoefficientEstimate(
                fit.Design.Terms[j],
                b,
                se,
                t,
                TwoSidedP(t, df),
                b - tCrit * se,
                b + tCrit * se
            );
        }
        return new OlsInferenceResult(type, coefs, SlopesFTest(fit, type, middle), cov);
    }

    /// <summary>Two-sided p-value of t under Student t(df): I_{df/(df+t²)}(df/2, 1/2).</summary>
    public static double TwoSidedP(double t, int df)
    {
        if (double.IsInfinity(t))
            return 0.0;
        return SpecialFunctions.BetaRegularized(df / 2.0, 0.5, df / (df + t * t));
    }

    /// <summary>Upper-tail p-value of F under F(d1, d2): I_{d2/(d2+d1 F)}(d2/2, d1/2).</summary>
    public static double FUpperP(double f, int d1, int d2) =>
        f <= 0 ? 1.0 : SpecialFunctions.BetaRegularized(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));

    /// <summary>The 0.975 quantile of Student t(df), for 95% intervals.</summary>
    public static double StudentTQuantile975(int df) => StudentT.InvCDF(0.0, 1.0, df, 0.975);

    /// <summary>
    /// F of all slopes = 0 (all coefficients without an intercept): W/q with
    /// W = b_s' V_s⁻¹ b_s. With X = QR and the intercept first, b_s = R_s⁻¹ u_s and
    /// V_s = R_s⁻¹ M_s R_s⁻ᵀ, where u = Q'y and M = Q'ΩQ; so W = u_s' M_s⁻¹ u_s, which
    /// never inverts an ill-conditioned matrix (M_s is Q's, well conditioned). With
    /// classical Ω (σ̂² I) this is the textbook F from sums of squares.
    /// </summary>
    private static OverallFTest SlopesFTest(OlsFit fit, CovarianceType type, double[,]? full)
    {
        int first = fit.Design.HasIntercept ? 1 : 0;
        int q = fit.K - first,
            n = fit.N;
        var u = fit.QtY.AsSpan(first, q).ToArray();
        double quad = 0;
        if (type == CovarianceType.Classical)
        {
            foreach (var v in u)
                quad += v * v;
            quad /= fit.Sigma2;
        }
        else
        {
            var m = new double[q, q];
            for (int a = 0; a < q; a++)
                for (int b = 0; b < q; b++)
                    m[a, b] = full![a + first, b + first];
            var x0 = CholeskySolve(m, u);
            for (int j = 0; j < q; j++)
                quad += u[j] * x0[j];
        }
        double f = quad / q;
        return new OverallFTest(f, q, n - fit.K, FUpperP(f, q, n - fit.K), type != CovarianceType.Classical);
    }

    /// <summary>Solves M x = b for symmetric positive definite M (Math.NET's Cholesky).</summary>
    internal static double[] CholeskySolve(double[,] m, double[] b) =>
        Matrix<double>.Build.DenseOfArray(m).Cholesky().Solve(Vector<double>.Build.DenseOfArray(b)).ToArray();
}
