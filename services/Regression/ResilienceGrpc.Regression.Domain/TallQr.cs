using System.Runtime.CompilerServices;
namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// Tall-skinny Householder QR (TSQR) of the augmented matrix [X | y], n × c with
/// c = k + 1, in row blocks that are factored in parallel and merged
/// (docs/method.md, "The engine").
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Each block of rows is copied into the workspace (column-major, n × c) and
/// factored in place by unpivoted Householder reflections, leaving its reflectors there
/// and its c × c triangle R_b aside.</item>
/// <item>The triangles are stacked and factored once more, giving R of [X | y]: its
/// first k columns are R of X and its last column is Q'y, with ±‖residual‖ last.</item>
/// <item>R's dqrdc2 rule is applied to that small triangle (<see cref="HouseholderQr"/>);
/// the column norms it compares are those of X, since Q is orthogonal.</item>
/// <item>Each block then turns its reflectors into its rows of the thin Q (n × c) of
/// [X | y] rotated by the small factor, in place: the first k columns are the thin Q of
/// X, and the last gives the residuals without cancellation.</item>
/// </list>
/// Block boundaries depend only on n and k, every block's work is the same whichever
/// thread does it, and partial results are merged in block order, so the result is the
/// same to the last bit for any number of threads.
/// </remarks>
internal sealed class TallQr
{
    /// <summary>Rows.</summary>
    public int N { get; }

    /// <summary>Columns of [X | y].</summary>
    public int C { get; }

    /// <summary>Block row starts; block b is rows [Starts[b], Starts[b+1]).</summary>
    public int[] Starts { get; }

    /// <summary>R of [X | y], c × c upper triangular, column-major.</summary>
    public double[] R { get; }

    private double[]? _stack; // stacked triangles' reflectors ((m·c) × c), when m > 1; pooled
    private readonly double[]? _stackTau;

    private TallQr(int n, int c, int[] starts, double[] r, double[]? stack, double[]? stackTau)
    {
        N = n;
        C = c;
        Starts = starts;
        R = r;
        _stack = stack;
        _stackTau = stackTau;
    }

    /// <summary>Number of row blocks.</summary>
    public int Blocks => Starts.Length - 1;

    /// <summary>
    /// Rows per block for c columns: about 256 KiB of doubles (so a block stays in the
    /// second-level cache), at least 512 rows and 2c. Depends on c alone.
    /// </summary>
    public static int BlockRows(int c) => Math.Max(2 * c, Math.Max(512, 32768 / c));

    /// <summary>Block boundaries for n rows: equal blocks, the last one taking the remainder.</summary>
    public static int[] BlockStarts(int n, int c)
    {
        int size = BlockRows(c);
        int m = Math.Max(1, n / size);
        var starts = new int[m + 1];
        for (int b = 0; b < m; b++)
            starts[b] = b * size;
        starts[m] = n;
        return starts;
    }

    /// <summary>Factors [X | y] (X column-major n × k in <paramref name="x"/>); X is not modified.</summary>
    public static TallQr Factor(double[] x, double[] y, int n, int k, ParallelOptions parallel)
    {
        int c = k + 1;
        var starts = BlockStarts(n, c);
        int m = starts.Length - 1;
        // With several blocks the triangles and their stack are scratch (about 300 KiB each at
        // n = 10⁶, k = 10): pooled, so that a fit does not allocate them on the large-object
        // heap every time (docs/method.md, "Memory"). Only entries on and above each
        // triangle's diagonal are written and read.
        var pool = System.Buffers.ArrayPool<double>.Shared;
        var tri = m == 1 ? new double[c * c] : pool.Rent(m * c * c);
        ForEachBlock(
            m,
            parallel,
            b =>
            {
                int s = starts[b],
                    nb = starts[b + 1] - s;
                var buffer = System.Buffers.ArrayPool<double>.Shared.Rent(nb * c);
                try
                {
                    LoadBlock(x, y, n, k, s, nb, buffer);
                    Span<double> tau = stackalloc double[c];
                    FactorInPlace(buffer, nb, 0, nb, c, tau, tri.AsSpan(b * c * c, c * c), parallel.CancellationToken);
                }
                finally
                {
                    System.Buffers.ArrayPool<double>.Shared.Return(buffer);
                }
            }
        );

        if (m == 1)
            return new TallQr(n, c, starts, tri, null, null);

        // Merge: factor the stacked triangles (m·c × c), sequentially and in block order.
        int rows = m * c;
        var stack = pool.Rent(rows * c);
        stack.AsSpan(0, rows * c).Clear();
        for (int b = 0; b < m; b++)
            for (int j = 0; j < c; j++)
                for (int i = 0; i <= j; i++)
                    stack[j * rows + b * c + i] = tri[b * c * c + j * c + i];
        pool.Return(tri);
        var stackTau = new double[c];
        var r = new double[c * c];
        parallel.CancellationToken.ThrowIfCancellationRequested();
        FactorInPlace(stack, rows, 0, rows, c, stackTau, r, parallel.CancellationToken);
        return new TallQr(n, c, starts, r, stack, stackTau);
    }

    /// <summary>Gives the merge's scratch back to the pool; <see cref="ExplicitQ"/> may not be called after.</summary>
    public void Release()
    {
        if (_stack is { } stack)
            System.Buffers.ArrayPool<double>.Shared.Return(stack);
        _stack = null;
    }

    /// <summary>
    /// The thin Q of [X | y] (n × c, column-major), made explicitly from Householder
    /// reflections: each block is factored again (the same bits as in <see cref="Factor"/>)
    /// and its reflectors applied to its slice of the merge's Q. Used for ill-conditioned
    /// designs, where Q = [X | y]·R⁻¹ would lose orthogonality.
    /// </summary>
    public double[] ExplicitQ(double[] x, double[] y, ParallelOptions parallel)
    {
        int c = C,
            m = Blocks,
            n = N,
            k = c - 1;
        double[] slices = new double[m * c * c];
        if (m > 1 && _stack is null)
            throw new InvalidOperationException("The merge's reflectors were released.");
        if (_stack is null)
        {
            for (int j = 0; j < c; j++)
                slices[j * c + j] = 1.0;
        }
        else
        {
            int rows = m * c;
            var t = new double[rows * c];
            for (int j = 0; j < c; j++)
                t[j * rows + j] = 1.0;
            ApplyReflectors(_stack, rows, 0, rows, c, _stackTau!, t, rows, 0, c);
            for (int b = 0; b < m; b++)
                for (int j = 0; j < c; j++)
                    for (int i = 0; i < c; i++)
                        slices[b * c * c + j * c + i] = t[j * rows + b * c + i];
        }

        var q = LargeArrays.Uninitialized(checked(n * c));
        ForEachBlock(
            m,
            parallel,
            b =>
            {
                int s = Starts[b],
                    nb = Starts[b + 1] - s;
                var pool = System.Buffers.ArrayPool<double>.Shared;
                var buffer = pool.Rent(nb * c);
                var t = pool.Rent(nb * c);
                try
                {
                    LoadBlock(x, y, n, k, s, nb, buffer);
                    Span<double> tau = stackalloc double[c];
                    Span<double> r = stackalloc double[c * c];
                    FactorInPlace(buffer, nb, 0, nb, c, tau, r, parallel.CancellationToken);
                    var tb = t.AsSpan(0, nb * c);
                    tb.Clear();
                    for (int j = 0; j < c; j++)
                        for (int i = 0; i < c; i++)
                            tb[j * nb + i] = slices[b * c * c + j * c + i];
                    ApplyReflectors(buffer, nb, 0, nb, c, tau, t, nb, 0, c);
                    for (int j = 0; j < c; j++)
                        tb.Slice(j * nb, nb).CopyTo(q.AsSpan(j * n + s, nb));
                }
                finally
                {
                    pool.Return(buffer);
                    pool.Return(t);
                }
            }
        );
        return q;
    }

    private static void LoadBlock(double[] x, double[] y, int n, int k, int s, int nb, double[] buffer)
    {
        for (int j = 0; j < k; j++)
            x.AsSpan(j * n + s, nb).CopyTo(buffer.AsSpan(j * nb, nb));
        y.AsSpan(s, nb).CopyTo(buffer.AsSpan(k * nb, nb));
    }

    /// <summary>Runs <paramref name="body"/> for every block, in parallel when there are several.</summary>
    public static void ForEachBlock(int m, ParallelOptions parallel, Action<int> body)
    {
        if (m == 1 || parallel.MaxDegreeOfParallelism == 1)
        {
            for (int b = 0; b < m; b++)
            {
                parallel.CancellationToken.ThrowIfCancellationRequested();
                body(b);
            }
            return;
        }
        Parallel.For(0, m, parallel, body);
    }

    /// <summary>
    /// Householder QR without pivoting of rows [s, s + nb) of the c columns of
    /// <paramref name="a"/> (column j at a[j·lda ..]): reflector j is left in rows
    /// s + j.. of column j with τ_j in <paramref name="tau"/>, and the c × c triangle is
    /// written to <paramref name="r"/> (column-major). The token is observed once per column,
    /// so a wide model stops within one column's work (rows × columns) of its deadline.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FactorInPlace(
        double[] a,
        int lda,
        int s,
        int nb,
        int c,
        Span<double> tau,
        Span<double> r,
        CancellationToken cancellationToken
    )
    {
        for (int j = 0; j < c; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var col = a.AsSpan(j * lda + s, nb);
            for (int i = 0; i < j; i++)
                r[j * c + i] = col[i];
            if (j >= nb)
            {
                tau[j] = 0;
                continue;
            }
            var v = col[j..];
            double norm = VectorKernels.Norm(v);
            double alpha = v[0] >= 0 ? -norm : norm;
            r[j * c + j] = alpha;
            if (norm == 0)
            {
                tau[j] = 0;
                continue;
            }
            // v = x − alpha e_1; v'v = 2 norm (norm + |x_1|), so τ = 2/v'v needs no second pass.
            double vv = 2.0 * norm * (norm + Math.Abs(v[0]));
            v[0] -= alpha;
            tau[j] = 2.0 / vv;
            UpdateColumns(a, lda, s + j, nb - j, v, tau[j], j + 1, c);
        }
    }

    /// <summary>
    /// Applies H_0 ⋯ H_{c−1} (reflectors stored as by <see cref="FactorInPlace"/>) to
    /// the <paramref name="cols"/> columns of <paramref name="t"/> (nb rows, column j at
    /// t[j·ldt + t0 ..]), last reflector first: t ← Q t.
    /// </summary>
    private static void ApplyReflectors(
        double[] a,
        int lda,
        int s,
        int nb,
        int c,
        ReadOnlySpan<double> tau,
        double[] t,
        int ldt,
        int t0,
        int cols
    )
    {
        for (int j = Math.Min(c, nb) - 1; j >= 0; j--)
        {
            if (tau[j] == 0)
                continue;
            var v = a.AsSpan(j * lda + s + j, nb - j);
            UpdateColumns(t, ldt, t0 + j, nb - j, v, tau[j], 0, cols);
        }
    }

    /// <summary>
    /// Applies the reflector I − τ v v' to columns [from, to) of <paramref name="a"/>
    /// (rows [row, row + len), column d at a[d·lda ..]): each column gets
    /// f = τ·v'col and col ← col − f·v, four columns per pass over v
    /// (<see cref="VectorKernels.Dot4"/>, <see cref="VectorKernels.Axpy4"/>), with the same
    /// bits as one column at a time. A column whose f is zero is left untouched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateColumns(
        double[] a,
        int lda,
        int row,
        int len,
        ReadOnlySpan<double> v,
        double tau,
        int from,
        int to
    )
    {
        Span<double> f = stackalloc double[4];
        int d = from;
        for (; d + 4 <= to; d += 4)
        {
            var t0 = a.AsSpan(d * lda + row, len);
            var t1 = a.AsSpan((d + 1) * lda + row, len);
            var t2 = a.AsSpan((d + 2) * lda + row, len);
            var t3 = a.AsSpan((d + 3) * lda + row, len);
            VectorKernels.Dot4(v, t0, t1, t2, t3, f);
            for (int q = 0; q < 4; q++)
                f[q] = -(tau * f[q]);
            if (f[0] != 0 && f[1] != 0 && f[2] != 0 && f[3] != 0)
            {
                VectorKernels.Axpy4(f, v, t0, t1, t2, t3);
                continue;
            }
            for (int q = 0; q < 4; q++)
                if (f[q] != 0)
                    VectorKernels.Axpy(f[q], v, a.AsSpan((d + q) * lda + row, len));
        }
        for (; d < to; d++)
        {
            var target = a.AsSpan(d * lda + row, len);
            double g = tau * VectorKernels.Dot(v, target);
            if (g != 0)
                VectorKernels.Axpy(-g, v, target);
        }
    }
}
