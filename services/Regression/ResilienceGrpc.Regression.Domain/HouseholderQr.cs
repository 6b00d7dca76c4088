namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// Householder QR of a tall matrix X (n × p, given by columns) with limited column
/// pivoting, as R's LINPACK <c>dqrdc2</c> does it (docs/method.md, "Rank and aliasing"): columns are taken in order, and a
/// column whose part orthogonal to the columns already taken has a norm below
/// <see cref="Tolerance"/> times its original norm is set aside as aliased (a linear
/// combination of earlier columns) instead of being factored. The factored columns
/// give X_kept = Q R with Q (n × r) orthonormal and R (r × r) upper triangular.
/// </summary>
/// <remarks>
/// Solving least squares through Q and R never forms X'X, so the error grows with
/// cond(X) rather than cond(X)², which is what NIST's Longley problem needs.
/// </remarks>
public sealed class HouseholderQr
{
    /// <summary>Relative norm below which a column counts as aliased (R's <c>lm</c> default).</summary>
    public const double Tolerance = 1e-7;

    private readonly double[][] _reflectors; // v_j, stored in full length n (zeros above j)
    private readonly double[] _tau;

    /// <summary>Rows of X.</summary>
    public int Rows { get; }

    /// <summary>Indices (into the original columns) of the factored columns, in order.</summary>
    public IReadOnlyList<int> Kept { get; }

    /// <summary>Aliased columns, each with its coefficients on the kept columns.</summary>
    public IReadOnlyList<AliasedColumn> Aliased { get; }

    /// <summary>The r × r upper-triangular factor, row-major.</summary>
    public double[,] R { get; }

    /// <summary>Numerical rank: the number of kept columns.</summary>
    public int Rank => Kept.Count;

    private HouseholderQr(
        int rows,
        double[][] reflectors,
        double[] tau,
        int[] kept,
        AliasedColumn[] aliased,
        double[,] r
    )
    {
        Rows = rows;
        _reflectors = reflectors;
        _tau = tau;
        Kept = kept;
        Aliased = aliased;
        R = r;
    }

    /// <summary>Factors the matrix whose columns are <paramref name="columns"/> (not modified).</summary>
    /// <param name="columns">The columns of X.</param>
    /// <param name="tolerance">Relative norm below which a column counts as aliased; R's default unless given.</param>
    /// <param name="cancellationToken">Observed once per column.</param>
    public static HouseholderQr Factor(
        IReadOnlyList<double[]> columns,
        double tolerance = Tolerance,
        CancellationToken cancellationToken = default
    )
    {
        int p = columns.Count;
        int n = p == 0 ? 0 : columns[0].Length;
        var work = new double[p][];
        var originalNorms = new double[p];
        for (int c = 0; c < p; c++)
        {
            work[c] = (double[])columns[c].Clone();
            originalNorms[c] = Norm(work[c], 0);
        }

        var reflectors = new List<double[]>();
        var taus = new List<double>();
        var kept = new List<int>();
        var aliased = new List<AliasedColumn>();
        var rColumns = new List<double[]>(); // column j of R: its first (j+1) entries

        for (int c = 0; c < p; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int pos = kept.Count;
            double[] a = work[c];
            double rest = pos < n ? Norm(a, pos) : 0.0;
            if (pos >= n || originalNorms[c] == 0.0 || rest < tolerance * originalNorms[c])
            {
                // a = Q_kept · (first pos entries of a); solve R γ = that for the combination.
                var head = a.AsSpan(0, Math.Min(pos, n)).ToArray();
                var gamma = BackSolve(rColumns, head);
                aliased.Add(new AliasedColumn(c, kept.ToArray(), gamma, originalNorms[c]));
                continue;
            }

            // Householder reflector that maps a[pos..n) onto -sign(a_pos)·‖·‖ e_pos.
            double alpha = a[pos] >= 0 ? -rest : rest;
            var v = new double[n];
            for (int i = pos; i < n; i++)
                v[i] = a[i];
            v[pos] -= alpha;
            double vv = 0;
            for (int i = pos; i < n; i++)
                vv += v[i] * v[i];
            double tau = vv == 0 ? 0 : 2.0 / vv;

            for (int d = c + 1; d < p; d++)
                Apply(v, tau, pos, work[d]);
            var rCol = new double[pos + 1];
            for (int i = 0; i < pos; i++)
                rCol[i] = a[i];
            rCol[pos] = alpha;
            rColumns.Add(rCol);
            reflectors.Add(v);
            taus.Add(tau);
            kept.Add(c);
        }

        int r = kept.Count;
        var rMat = new double[r, r];
        for (int j = 0; j < r; j++)
            for (int i = 0; i <= j; i++)
                rMat[i, j] = rColumns[j][i];
        return new HouseholderQr(n, reflectors.ToArray(), taus.ToArray(), kept.ToArray(), aliased.ToArray(), rMat);
    }

    /// <summary>Returns Q'y (length n): the first <see cref="Rank"/> entries are the projection coordinates.</summary>
    public double[] ApplyQTranspose(ReadOnlySpan<double> y)
    {
        var z = y.ToArray();
        for (int j = 0; j < _reflectors.Length; j++)
            Apply(_reflectors[j], _tau[j], j, z);
        return z;
    }

    /// <summary>Returns Q z for z of length n (applies the reflectors in reverse order).</summary>
    public double[] ApplyQ(ReadOnlySpan<double> z)
    {
        var y = z.ToArray();
        for (int j = _reflectors.Length - 1; j >= 0; j--)
            Apply(_reflectors[j], _tau[j], j, y);
        return y;
    }

    /// <summary>The thin Q (n × r) as r columns of length n.</summary>
    public double[][] ThinQ()
    {
        var q = new double[Rank][];
        for (int j = 0; j < Rank; j++)
        {
            var e = new double[Rows];
            e[j] = 1.0;
            q[j] = ApplyQ(e);
        }
        return q;
    }

    /// <summary>Solves R x = b for x (b of length r).</summary>
    public double[] SolveR(ReadOnlySpan<double> b) => Triangular.SolveUpper(R, b);

    /// <summary>R⁻¹ (r × r upper triangular), by back substitution on the unit vectors.</summary>
    public double[,] InverseR() => Triangular.InvertUpper(R);

    private static double[] BackSolve(List<double[]> rColumns, double[] b)
    {
        int r = b.Length;
        var x = new double[r];
        for (int i = r - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int j = i + 1; j < r; j++)
                s -= rColumns[j][i] * x[j];
            x[i] = s / rColumns[i][i];
        }
        return x;
    }

    private static void Apply(double[] v, double tau, int from, double[] x)
    {
        if (tau == 0)
            return;
        double s = 0;
        for (int i = from; i < v.Length; i++)
            s += v[i] * x[i];
        s *= tau;
        if (s == 0)
            return;
        for (int i = from; i < v.Length; i++)
            x[i] -= s * v[i];
    }

    /// <summary>Euclidean norm of x[from..], scaled to avoid overflow and underflow.</summary>
    private static double Norm(double[] x, int from)
    {
        double scale = 0,
            ssq = 1;
        for (int i = from; i < x.Length; i++)
        {
            double a = Math.Abs(x[i]);
            if (a == 0)
                continue;
            if (scale < a)
            {
                ssq = 1 + ssq * (scale / a) * (scale / a);
                scale = a;
            }
            else
            {
                ssq += (a / scale) * (a / scale);
            }
        }
        return scale * Math.Sqrt(ssq);
    }
}

/// <summary>
/// A column set aside because it is (numerically) a linear combination of the kept
/// columns: column <see cref="Column"/> ≈ Σ <see cref="Coefficients"/>[i] · column <see cref="KeptBefore"/>[i].
/// </summary>
public sealed record AliasedColumn(int Column, int[] KeptBefore, double[] Coefficients, double OriginalNorm);
