using System.Runtime.CompilerServices;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>How to fit: the pivot tolerance, the threads, whether an exact fit is allowed.</summary>
/// <param name="Tolerance">
/// Relative norm below which a column counts as aliased (R's <c>lm</c> default 1e-7).
/// Smaller values accept ill-conditioned designs such as high-degree polynomials.
/// </param>
/// <param name="Threads">Most threads to use; 0 means one per core. The result does not depend on it.</param>
/// <param name="AllowExactFit">Return a fit with zero residuals instead of refusing it (its inference is undefined).</param>
/// <param name="Covariance">
/// A covariance type to prepare while the rows of Q are at hand (its middle matrix
/// Q'ΩQ is made in the same pass as the leverage); null prepares none.
/// </param>
public sealed record FitOptions(
    double Tolerance = HouseholderQr.Tolerance,
    int Threads = 0,
    bool AllowExactFit = false,
    CovarianceType? Covariance = null
)
{
    /// <summary>The defaults.</summary>
    public static FitOptions Default { get; } = new();

    internal ParallelOptions Parallel(CancellationToken cancellationToken) =>
        new()
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
    private double[]? _q; // explicit thin Q (n × k, or n × (k+1) when ill-conditioned), made on demand

    /// <summary>The estimation sample.</summary>
    public DesignMatrix Design { get; }

    /// <summary>How the fit was made.</summary>
    public FitOptions Options { get; }

    /// <summary>Coefficients, parallel to <see cref="DesignMatrix.Terms"/> (intercept first).</summary>
    public double[] Beta { get; }

    /// <summary>Residuals y − Xβ.</summary>
    public double[] Residuals { get; }

    private double[]? _leverage;

    /// <summary>
    /// Leverage h_ii, the diagonal of the hat matrix. Made in the fit's pass when the
    /// prepared covariance needs it (HC2, HC3), otherwise on first use: HC0, HC1 and the
    /// classical covariance never touch it, which saves n doubles and a pass.
    /// </summary>
    public double[] Leverage
    {
        get
        {
            if (_leverage is { } h)
                return h;
            var made = new double[N];
            var parallel = Options.Parallel(CancellationToken.None);
            TallQr.ForEachBlock(
                BlockStarts.Length - 1,
                parallel,
                b =>
                {
                    int s = BlockStarts[b],
                        nb = BlockStarts[b + 1] - s;
                    var pool = System.Buffers.ArrayPool<double>.Shared;
                    var buffer = pool.Rent(nb * K);
                    try
                    {
                        FillQBlock(b, buffer);
                        VectorKernels.AddSquaresOfColumns(buffer, nb, K, made.AsSpan(s, nb));
                    }
                    finally
                    {
                        pool.Return(buffer);
                    }
                }
            );
            Interlocked.CompareExchange(ref _leverage, made, null);
            return _leverage!;
        }
    }

    /// <summary>Q'y: the first k entries are the projection coordinates, the last ±√RSS.</summary>
    internal double[] QtY { get; }

    /// <summary>R of X = QR (k × k, upper triangular).</summary>
    internal double[,] R { get; }

    /// <summary>R⁻¹ of X = QR (k × k, upper triangular).</summary>
    internal double[,] RInverse { get; }

    /// <summary>Row block boundaries of the factorisation (depend on n and k only).</summary>
    internal int[] BlockStarts { get; }

    /// <summary>Q'ΩQ for <see cref="FitOptions.Covariance"/>, made during the fit; null when none was asked for.</summary>
    internal double[,]? PreparedMiddle { get; private set; }

    /// <summary>Whether the design is ill-conditioned, so that Q is kept from Householder reflections.</summary>
    internal bool IllConditioned { get; }

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

    private OlsFit(
        DesignMatrix design,
        FitOptions options,
        double[,] r,
        double[]? q,
        double[] qty,
        int[] blocks,
        bool ill,
        double[] beta,
        double[] residuals,
        double[]? leverage,
        double rss,
        double tss
    )
    {
        Design = design;
        Options = options;
        R = r;
        _q = q;
        QtY = qty;
        BlockStarts = blocks;
        IllConditioned = ill;
        Beta = beta;
        Residuals = residuals;
        _leverage = leverage;
        RInverse = Triangular.InvertUpper(r);
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
        int n = design.N,
            k = design.K,
            c = k + 1;
        if (n <= k)
            throw new InfeasibleInputException(
                "regressors",
                $"The model has {k} parameters{(design.HasIntercept ? " (intercept included)" : "")} but only {n} complete row{(n == 1 ? "" : "s")}"
                    + (
                        design.DroppedRowIds.Length > 0
                            ? $" after dropping {design.DroppedRowIds.Length} with missing values"
                            : ""
                    )
                    + "; OLS needs more rows than parameters."
            );
        var parallel = options.Parallel(cancellationToken);

        // 1. Blocked Householder QR of [X | y]: R of X, Q'y and √RSS in one triangle.
        var tsqr = TallQr.Factor(design.Values, design.Y, n, k, parallel);
        var rx = new double[k, k];
        var z = new double[c];
        for (int j = 0; j < c; j++)
        {
            z[j] = tsqr.R[k * c + j];
            if (j < k)
                for (int i = 0; i <= j; i++)
                    rx[i, j] = tsqr.R[j * c + i];
        }

        // 2. R's dqrdc2 rule: column j is aliased when |R_jj| < tol·‖x_j‖. Q is orthogonal,
        //    so ‖x_j‖ is the norm of R's column j. Only a refusal needs the pivoting QR itself.
        bool aliased = false,
            ill = false;
        for (int j = 0; j < k; j++)
        {
            double norm = 0;
            for (int i = 0; i <= j; i++)
                norm += rx[i, j] * rx[i, j];
            norm = Math.Sqrt(norm);
            double diag = Math.Abs(rx[j, j]);
            if (norm == 0 || diag < options.Tolerance * norm)
                aliased = true;
            if (diag < IterativeRefinement.Threshold * norm)
                ill = true;
        }
        if (aliased)
        {
            var cols = new double[k][];
            for (int j = 0; j < k; j++)
            {
                cols[j] = new double[c];
                for (int i = 0; i <= j; i++)
                    cols[j][i] = rx[i, j];
            }
            throw Collinearity(design, HouseholderQr.Factor(cols, options.Tolerance, cancellationToken));
        }

        // 3. β from R β = (Q'y)_{0..k}; RSS = (Q'y)_k²; TSS is what the intercept's coordinate
        //    leaves: Σ_{j≥1} (Q'y)_j² with an intercept (column 0), ‖Q'y‖² = ‖y‖² without.
        var beta = Triangular.SolveUpper(rx, z.AsSpan(0, k));
        double rss = z[k] * z[k];
        double tss = 0;
        for (int j = design.HasIntercept ? 1 : 0; j < c; j++)
            tss += z[j] * z[j];
        if (!double.IsFinite(tss) || !double.IsFinite(rss) || beta.Any(v => !double.IsFinite(v)))
            throw new InfeasibleInputException("columns", OverflowMessage);
        double first = design.HasIntercept ? design.Y[0] : 0.0;
        if (design.Y.AsSpan().IndexOfAnyExcept(first) < 0)
            throw new InfeasibleInputException(
                "dependent",
                $"The dependent variable '{design.Dependent}' is {(design.HasIntercept ? "constant" : "zero")} in the estimation sample; there is no variation to explain."
            );
        if (!options.AllowExactFit && rss <= tss * 1e-28)
            throw new InfeasibleInputException(
                "dependent",
                $"The regressors explain '{design.Dependent}' exactly (zero residuals), so standard errors are zero and inference is undefined."
            );

        // 4. Leverage h_i = ‖Q_i‖² and residuals e_i from the rows of Q: Q = X·R⁻¹ when well
        //    conditioned (error ≈ κ·ε), explicit Householder Q otherwise. The covariance the
        //    options name gets its middle matrix in the same pass, while the rows are at hand
        //    (not for ill-conditioned designs, whose residuals the refinement still changes).
        var blocks = tsqr.Starts;
        int m = blocks.Length - 1;
        double[]? q = ill ? tsqr.ExplicitQ(design.Values, design.Y, parallel) : null;
        tsqr.Release();
        var prepare = options.Covariance is { } t && t != CovarianceType.Classical && !ill ? t : (CovarianceType?)null;
        bool leverage = prepare is CovarianceType.HC2 or CovarianceType.HC3;
        var fit = new OlsFit(
            design,
            options,
            rx,
            q,
            z,
            blocks,
            ill,
            beta,
            LargeArrays.Uninitialized(n),
            leverage ? new double[n] : null,
            rss,
            tss
        );
        var middleParts = prepare is null ? null : System.Buffers.ArrayPool<double>.Shared.Rent(m * k * k);
        middleParts?.AsSpan(0, m * k * k).Clear();
        TallQr.ForEachBlock(
            m,
            parallel,
            b =>
            {
                int s = blocks[b],
                    nb = blocks[b + 1] - s;
                var pool = System.Buffers.ArrayPool<double>.Shared;
                var buffer = pool.Rent(nb * k);
                var w = prepare is null ? null : pool.Rent(nb);
                try
                {
                    var e = fit.Residuals.AsSpan(s, nb);
                    fit.FillQBlock(b, buffer, e);
                    var h = leverage ? fit._leverage.AsSpan(s, nb) : default;
                    if (leverage)
                        VectorKernels.AddSquaresOfColumns(buffer, nb, k, h);
                    if (prepare is { } type)
                    {
                        var wb = w.AsSpan(0, nb);
                        SandwichCovariance.OmegaWeights(type, e, h, k, design.RowIds, s, n, wb);
                        SandwichCovariance.AddMiddle(buffer, nb, k, wb, middleParts.AsSpan(b * k * k, k * k));
                    }
                }
                finally
                {
                    pool.Return(buffer);
                    if (w is not null)
                        pool.Return(w);
                }
            }
        );
        if (middleParts is not null)
        {
            fit.PreparedMiddle = SandwichCovariance.SumParts(middleParts, m, k);
            System.Buffers.ArrayPool<double>.Shared.Return(middleParts);
        }

        // 5. Ill-conditioned designs: refine β (and the residuals) on the augmented system (docs/method.md, "Refinement").
        if (ill)
            IterativeRefinement.Refine(design, q!, blocks, rx, beta, fit.Residuals, parallel);
        return fit;
    }

    /// <summary>
    /// Writes block b's rows of the thin Q of X (k columns of nb rows, column-major) into
    /// <paramref name="buffer"/>, and, when <paramref name="residuals"/> is not empty, the
    /// block's residuals there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void FillQBlock(int b, double[] buffer, Span<double> residuals = default)
    {
        int n = N,
            k = K,
            s = BlockStarts[b],
            nb = BlockStarts[b + 1] - s;
        if (_q is not null)
        {
            for (int j = 0; j < k; j++)
                _q.AsSpan(j * n + s, nb).CopyTo(buffer.AsSpan(j * nb, nb));
            if (!residuals.IsEmpty)
            {
                // Ill-conditioned fits keep Q of [X | y]: its last column times √RSS is e, free of cancellation.
                _q.AsSpan(k * n + s, nb).CopyTo(residuals);
                for (int i = 0; i < nb; i++)
                    residuals[i] *= QtY[k];
            }
            return;
        }
        // Forward substitution by columns: Q_j = (X_j − Σ_{l<j} R_lj Q_l) / R_jj, each row
        // accumulated in a register (VectorKernels.Combine).
        Span<double> coef = stackalloc double[k];
        for (int j = 0; j < k; j++)
        {
            for (int l = 0; l < j; l++)
                coef[l] = -R[l, j];
            VectorKernels.Combine(
                Design.Values.AsSpan(j * n + s, nb),
                buffer.AsSpan(0, j * nb),
                nb,
                coef[..j],
                1.0 / R[j, j],
                buffer.AsSpan(j * nb, nb)
            );
        }
        if (residuals.IsEmpty)
            return;
        // e = y − Q (Q'y)_{0..k}.
        for (int l = 0; l < k; l++)
            coef[l] = -QtY[l];
        VectorKernels.Combine(Design.Y.AsSpan(s, nb), buffer.AsSpan(0, k * nb), nb, coef, 1.0, residuals);
    }

    /// <summary>The k columns of the thin Q of X (n × k, column-major), made whole on first use.</summary>
    internal ReadOnlySpan<double> QColumns
    {
        get
        {
            Q(0);
            return _q!.AsSpan(0, N * K);
        }
    }

    /// <summary>Column j of the thin Q of X (length n), made whole on first use.</summary>
    internal ReadOnlySpan<double> Q(int j)
    {
        var q = _q;
        if (q is null)
        {
            int n = N,
                k = K;
            q = new double[n * k];
            for (int b = 0; b < BlockStarts.Length - 1; b++)
            {
                int s = BlockStarts[b],
                    nb = BlockStarts[b + 1] - s;
                var buffer = new double[nb * k];
                FillQBlock(b, buffer);
                for (int l = 0; l < k; l++)
                    buffer.AsSpan(l * nb, nb).CopyTo(q.AsSpan(l * n + s, nb));
            }
            Interlocked.CompareExchange(ref _q, q, null);
            q = _q!;
        }
        return q.AsSpan(j * N, N);
    }

    private static InfeasibleInputException Collinearity(DesignMatrix design, HouseholderQr qr)
    {
        var alias = qr.Aliased[0];
        string name = design.Terms[alias.Column];
        int field = alias.Column - (design.HasIntercept ? 1 : 0); // regressors[] index (intercept is column 0)
        if (alias.OriginalNorm == 0 || alias.KeptBefore.Length == 0)
            return new InfeasibleInputException(
                $"regressors[{field}]",
                $"Regressor '{name}' is zero in every row of the estimation sample{(design.HasIntercept ? ", so it is collinear with the intercept" : "")}; drop it."
            );

        // Kept columns that carry the combination, weighted by their size.
        var involved = new List<string>();
        for (int i = 0; i < alias.KeptBefore.Length; i++)
        {
            int col = alias.KeptBefore[i];
            double size = Math.Abs(alias.Coefficients[i]) * VectorKernels.Norm(design.Column(col));
            if (size > 1e-6 * alias.OriginalNorm)
                involved.Add(design.Terms[col]);
        }
        if (involved.Count == 1 && involved[0] == DesignMatrix.InterceptTerm)
            return new InfeasibleInputException(
                $"regressors[{field}]",
                $"Regressor '{name}' is constant in the estimation sample, so it is collinear with the intercept; drop it."
            );
        var others = involved.Where(t => t != DesignMatrix.InterceptTerm).Select(t => $"'{t}'").ToList();
        string list = others.Count switch
        {
            0 => "the intercept",
            1 => others[0],
            _ => string.Join(", ", others.Take(others.Count - 1)) + " and " + others[^1],
        };
        string withConst =
            involved.Contains(DesignMatrix.InterceptTerm) && others.Count > 0 ? " (with the intercept)" : "";
        return new InfeasibleInputException(
            $"regressors[{field}]",
            $"Regressors '{name}' and {list} are perfectly collinear: '{name}' is a linear combination of {list}{withConst}; drop one of them."
        );
    }
}
