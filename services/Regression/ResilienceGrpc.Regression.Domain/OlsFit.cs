using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// The least-squares fit itself (β, residuals, leverage, rank, degrees of freedom),
/// separate from inference, as statsmodels separates them. Computed through a
/// Householder QR of X, never through X'X.
/// </summary>
public sealed class OlsFit
{
    /// <summary>The estimation sample.</summary>
    public DesignMatrix Design { get; }

    /// <summary>Coefficients, parallel to <see cref="DesignMatrix.Terms"/> (intercept first).</summary>
    public double[] Beta { get; }

    /// <summary>Residuals y − Xβ.</summary>
    public double[] Residuals { get; }

    /// <summary>Leverage h_ii, the diagonal of the hat matrix.</summary>
    public double[] Leverage { get; }

    /// <summary>Thin Q of X (k columns of length n).</summary>
    internal double[][] Q { get; }

    /// <summary>R⁻¹ of X = QR (k × k, upper triangular).</summary>
    internal double[,] RInverse { get; }

    /// <summary>The factorisation of X.</summary>
    internal HouseholderQr Qr { get; }

    /// <summary>Residual sum of squares.</summary>
    public double Rss { get; }

    /// <summary>Total sum of squares about the mean of y.</summary>
    public double Tss { get; }

    /// <summary>Observations.</summary>
    public int N => Design.N;

    /// <summary>Parameters, intercept included.</summary>
    public int K => Design.K;

    /// <summary>Residual degrees of freedom n − k.</summary>
    public int DfResid => N - K;

    /// <summary>σ̂² = RSS / (n − k).</summary>
    public double Sigma2 => Rss / DfResid;

    /// <summary>R² = 1 − RSS/TSS.</summary>
    public double RSquared => 1.0 - Rss / Tss;

    /// <summary>Adjusted R² = 1 − (1 − R²)(n − 1)/(n − k).</summary>
    public double AdjRSquared => 1.0 - (1.0 - RSquared) * (N - 1) / DfResid;

    private OlsFit(DesignMatrix design, HouseholderQr qr, double[] beta, double[] residuals, double[] leverage, double[][] q, double[,] rInverse, double rss, double tss)
    {
        Design = design;
        Qr = qr;
        Beta = beta;
        Residuals = residuals;
        Leverage = leverage;
        Q = q;
        RInverse = rInverse;
        Rss = rss;
        Tss = tss;
    }

    /// <summary>The refusal when a computation leaves the range of doubles.</summary>
    public const string OverflowMessage =
        "The values are too large or too small to fit in double precision (the computation overflowed); rescale the variables, for example to thousands or logs.";

    /// <summary>Fits y on X by least squares.</summary>
    /// <exception cref="InfeasibleInputException">
    /// Too few rows, collinear regressors, a constant dependent variable or an exact fit.
    /// </exception>
    public static OlsFit Fit(DesignMatrix design)
    {
        int n = design.N, k = design.K;
        if (n <= k)
            throw new InfeasibleInputException("regressors",
                $"The model has {k} parameters (intercept included) but only {n} complete row{(n == 1 ? "" : "s")}" +
                (design.DroppedRowIds.Length > 0 ? $" after dropping {design.DroppedRowIds.Length} with missing values" : "") +
                "; OLS needs more rows than parameters.");

        var qr = HouseholderQr.Factor(design.X);
        if (qr.Aliased.Count > 0) throw Collinearity(design, qr);

        var qty = qr.ApplyQTranspose(design.Y);
        var beta = qr.SolveR(qty.AsSpan(0, k));

        // Residuals from the orthogonal complement: e = Q (0, …, 0, (Q'y)_{k..n}).
        var tail = (double[])qty.Clone();
        Array.Clear(tail, 0, k);
        var residuals = qr.ApplyQ(tail);

        var q = qr.ThinQ();
        var leverage = new double[n];
        for (int j = 0; j < k; j++)
            for (int i = 0; i < n; i++)
                leverage[i] += q[j][i] * q[j][i];

        double rss = 0;
        for (int i = k; i < n; i++) rss += qty[i] * qty[i];
        double mean = design.Y.Average();
        double tss = 0;
        foreach (var v in design.Y) tss += (v - mean) * (v - mean);

        if (!double.IsFinite(tss) || !double.IsFinite(rss) || beta.Any(b => !double.IsFinite(b)))
            throw new InfeasibleInputException("columns", OverflowMessage);
        if (tss == 0)
            throw new InfeasibleInputException("dependent",
                $"The dependent variable '{design.Dependent}' is constant in the estimation sample; there is no variation to explain.");
        if (rss <= tss * 1e-28)
            throw new InfeasibleInputException("dependent",
                $"The regressors explain '{design.Dependent}' exactly (zero residuals), so standard errors are zero and inference is undefined.");

        return new OlsFit(design, qr, beta, residuals, leverage, q, qr.InverseR(), rss, tss);
    }

    private static InfeasibleInputException Collinearity(DesignMatrix design, HouseholderQr qr)
    {
        var alias = qr.Aliased[0];
        string name = design.Terms[alias.Column];
        int field = alias.Column - 1; // regressors[] index (intercept is column 0)
        if (alias.OriginalNorm == 0 || alias.KeptBefore.Length == 0)
            return new InfeasibleInputException($"regressors[{field}]",
                $"Regressor '{name}' is zero in every row of the estimation sample, so it is collinear with the intercept; drop it.");

        // Kept columns that carry the combination, weighted by their size.
        var involved = new List<string>();
        for (int i = 0; i < alias.KeptBefore.Length; i++)
        {
            int col = alias.KeptBefore[i];
            double size = Math.Abs(alias.Coefficients[i]) * Norm(design.X[col]);
            if (size > 1e-6 * alias.OriginalNorm) involved.Add(design.Terms[col]);
        }
        if (involved.Count == 1 && involved[0] == DesignMatrix.InterceptTerm)
            return new InfeasibleInputException($"regressors[{field}]",
                $"Regressor '{name}' is constant in the estimation sample, so it is collinear with the intercept; drop it.");
        var others = involved.Where(t => t != DesignMatrix.InterceptTerm).Select(t => $"'{t}'").ToList();
        string list = others.Count switch
        {
            0 => "the intercept",
            1 => others[0],
            _ => string.Join(", ", others.Take(others.Count - 1)) + " and " + others[^1],
        };
        string withConst = involved.Contains(DesignMatrix.InterceptTerm) && others.Count > 0 ? " (with the intercept)" : "";
        return new InfeasibleInputException($"regressors[{field}]",
            $"Regressors '{name}' and {list} are perfectly collinear: '{name}' is a linear combination of {list}{withConst}; drop one of them.");
    }

    private static double Norm(double[] x)
    {
        double s = 0;
        foreach (var v in x) s += v * v;
        return Math.Sqrt(s);
    }
}
