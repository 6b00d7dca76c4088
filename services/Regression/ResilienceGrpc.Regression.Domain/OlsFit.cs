using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>How to fit: the pivot tolerance, the threads, whether an exact fit is allowed.</summary>
/// <param name="Tolerance">
/// Relative norm below which a column counts as aliased (R's <c>lm</c> default 1e-7).
/// Smaller values accept ill-conditioned designs such as high-degree polynomials.
/// </param>
/// <param name="Threads">Most threads to use; 0 means one per core. The result does not depend on it.</param>
/// <param name="AllowExactFit">Return a fit with zero residuals instead of refusing it (its inference is undefined).</param>
public sealed record FitOptions(double Tolerance = HouseholderQr.Tolerance, int Threads = 0, bool AllowExactFit = false)
{
    /// <summary>The defaults.</summary>
    public static FitOptions Default { get; } = new();

    internal ParallelOptions Parallel(CancellationToken cancellationToken) => new()
    {
        MaxDegreeOfParallelism = Threads > 0 ? Threads : Environment.ProcessorCount,
        CancellationToken = cancellationToken,
    };
}

/// <summary>
/// The least-squares fit itself (β, residuals, leverage, rank, degrees of freedom),
/// separate from inference, as statsmodels separates them. Computed through a blocked
/// Householder QR of [X | y] (<see cref="TallQr"/>), never through X'X
/// (docs/method.md, "The engine").
/// </summary>
public sealed class OlsFit
{
    private readonly double[] _q; // n × (k+1) column-major: the thin Q of X, then the residual direction

    /// <summary>The estimation sample.</summary>
    public DesignMatrix Design { get; }

    /// <summary>How the fit was made.</summary>
    public FitOptions Options { get; }

    /// <summary>Coefficients, parallel to <see cref="DesignMatrix.Terms"/> (intercept first).</summary>
    public double[] Beta { get; }

    /// <summary>Residuals y − Xβ.</summary>
    public double[] Residuals { get; }

    /// <summary>Leverage h_ii, the diagonal of the hat matrix.</summary>
    public double[] Leverage { get; }

    /// <summary>Column j of the thin Q of X (length n).</summary>
    internal ReadOnlySpan<double> Q(int j) => _q.AsSpan(j * N, N);

    /// <summary>Q'y: the first k entries are the projection coordinates.</summary>
    internal double[] QtY { get; }

    /// <summary>R⁻¹ of X = QR (k × k, upper triangular).</summary>
    internal double[,] RInverse { get; }

    /// <summary>Row block boundaries of the factorisation (depend on n and k only).</summary>
    internal int[] BlockStarts { get; }

    /// <summary>Residual sum of squares.</summary>
    public double Rss { get; }

    /// <summary>Total sum of squares: about the mean of y with an intercept, about zero without (as R).</summary>
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

    /// <summary>Adjusted R² = 1 − (1 − R²)(n − i)/(n − k), i = 1 with an intercept and 0 without.</summary>
    public double AdjRSquared => 1.0 - (1.0 - RSquared) * (N - (Design.HasIntercept ? 1 : 0)) / DfResid;

    private OlsFit(DesignMatrix design, FitOptions options, double[] q, double[] qty, int[] blocks, double[] beta, double[] residuals, double[] leverage, double[,] rInverse, double rss, double tss)
    {
        Design = design;
        Options = options;
        _q = q;
        QtY = qty;
        BlockStarts = blocks;
        Beta = beta;
        Residuals = residuals;
        Leverage = leverage;
        RInverse = rInverse;
        Rss = rss;
        Tss = tss;
    }

    /// <summary>The refusal when a computation leaves the range of doubles.</summary>
    public const string OverflowMessage =
        "The values are too large or too small to fit in double precision (the computation overflowed); rescale the variables, for example to thousands or logs.";

    /// <summary>Fits y on X by least squares with the default options.</summary>
    public static OlsFit Fit(DesignMatrix design) => Fit(design, FitOptions.Default);

    /// <summary>Fits y on X by least squares.</summary>
    /// <exception cref="InfeasibleInputException">
    /// Too few rows, collinear regressors, a constant dependent variable or an exact fit.
    /// </exception>
    public static OlsFit Fit(DesignMatrix design, FitOptions options, CancellationToken cancellationToken = default)
    {
        int n = design.N, k = design.K, c = k + 1;
        if (n <= k)
            throw new InfeasibleInputException("regressors",
                $"The model has {k} parameters{(design.HasIntercept ? " (intercept included)" : "")} but only {n} complete row{(n == 1 ? "" : "s")}" +
                (design.DroppedRowIds.Length > 0 ? $" after dropping {design.DroppedRowIds.Length} with missing values" : "") +
                "; OLS needs more rows than parameters.");
        var parallel = options.Parallel(cancellationToken);

        // 1. Blocked Householder QR of [X | y].
        var tsqr = TallQr.Factor(design.Values, design.Y, n, k, parallel);

        // 2. R's dqrdc2 rule on the small triangle: which columns are aliased.
        var cols = new double[k][];
        for (int j = 0; j < k; j++)
        {
            cols[j] = new double[c];
            for (int i = 0; i <= j; i++) cols[j][i] = tsqr.R[j * c + i];
        }
        var small = HouseholderQr.Factor(cols, options.Tolerance);
        if (small.Aliased.Count > 0) throw Collinearity(design, small);

        // 3. Coordinates u = Q2'(Q'y), β = R2⁻¹ u, RSS = u_k².
        var z = new double[c];
        for (int i = 0; i < c; i++) z[i] = tsqr.R[k * c + i];
        var u = small.ApplyQTranspose(z);
        var beta = small.SolveR(u.AsSpan(0, k));
        double rss = u[k] * u[k];

        // 4. The thin Q of X (rotated by Q2) and the residual direction, in place.
        var g = new double[c * c];
        for (int j = 0; j < c; j++)
        {
            var e = new double[c];
            e[j] = 1.0;
            small.ApplyQ(e).CopyTo(g, j * c);
        }
        tsqr.FormQ(g, parallel);
        var q = tsqr.W;

        // 5. Leverage h_i = Σ_j Q_ij², residuals e_i = Q_ik u_k, and the total sum of squares.
        var leverage = new double[n];
        var residuals = new double[n];
        var blocks = tsqr.Starts;
        int m = blocks.Length - 1;
        var ySums = new double[m];
        TallQr.ForEachBlock(m, parallel, b =>
        {
            int s = blocks[b], nb = blocks[b + 1] - s;
            var h = leverage.AsSpan(s, nb);
            for (int j = 0; j < k; j++) VectorKernels.AddSquares(q.AsSpan(j * n + s, nb), h);
            var e = residuals.AsSpan(s, nb);
            q.AsSpan(k * n + s, nb).CopyTo(e);
            for (int i = 0; i < nb; i++) e[i] *= u[k];
            ySums[b] = VectorKernels.Sum(design.Y.AsSpan(s, nb));
        });
        double mean = 0;
        if (design.HasIntercept)
        {
            foreach (var part in ySums) mean += part;
            mean /= n;
        }
        var tssParts = new double[m];
        TallQr.ForEachBlock(m, parallel, b =>
            tssParts[b] = VectorKernels.CentredSumOfSquares(design.Y.AsSpan(blocks[b], blocks[b + 1] - blocks[b]), mean));
        double tss = 0;
        foreach (var part in tssParts) tss += part;
        // 6. Ill-conditioned designs: refine β on the augmented system (docs/method.md, "Refinement").
        if (IterativeRefinement.Needed(design, small.R))
            IterativeRefinement.Refine(design, q, blocks, small, beta, residuals, parallel);

        if (!double.IsFinite(tss) || !double.IsFinite(rss) || beta.Any(v => !double.IsFinite(v)))
            throw new InfeasibleInputException("columns", OverflowMessage);
        if (tss == 0)
            throw new InfeasibleInputException("dependent",
                $"The dependent variable '{design.Dependent}' is {(design.HasIntercept ? "constant" : "zero")} in the estimation sample; there is no variation to explain.");
        if (!options.AllowExactFit && rss <= tss * 1e-28)
            throw new InfeasibleInputException("dependent",
                $"The regressors explain '{design.Dependent}' exactly (zero residuals), so standard errors are zero and inference is undefined.");

        return new OlsFit(design, options, q, u, blocks, beta, residuals, leverage, small.InverseR(), rss, tss);
    }

    private static InfeasibleInputException Collinearity(DesignMatrix design, HouseholderQr qr)
    {
        var alias = qr.Aliased[0];
        string name = design.Terms[alias.Column];
        int field = alias.Column - (design.HasIntercept ? 1 : 0); // regressors[] index (intercept is column 0)
        if (alias.OriginalNorm == 0 || alias.KeptBefore.Length == 0)
            return new InfeasibleInputException($"regressors[{field}]",
                $"Regressor '{name}' is zero in every row of the estimation sample, so it is collinear with the intercept; drop it.");

        // Kept columns that carry the combination, weighted by their size.
        var involved = new List<string>();
        for (int i = 0; i < alias.KeptBefore.Length; i++)
        {
            int col = alias.KeptBefore[i];
            double size = Math.Abs(alias.Coefficients[i]) * VectorKernels.Norm(design.Column(col));
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
}
