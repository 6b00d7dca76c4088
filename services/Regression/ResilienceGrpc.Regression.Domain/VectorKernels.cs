using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// The few dense kernels the engine is built from (dot, axpy, sum of squares), written
/// with explicit SIMD. Every reduction keeps eight partial sums in two
/// <see cref="Vector256{T}"/> registers and adds them in a fixed order, whatever the
/// processor (AVX2 or AVX-512) and whatever the address of the data, so that a result
/// depends only on the numbers, never on thread count or memory alignment
/// (docs/method.md, "Determinism"). Products are fused (FMA) throughout.
/// Each kernel, and the engine's loops that call them, are compiled fully optimised on first
/// call (<see cref="MethodImplOptions.AggressiveOptimization"/>) rather than tiered: a fit
/// calls them thousands of times in its first second, which under tiering ran in
/// unoptimised and instrumented code for the first few fits of a process (or the only one).
/// </summary>
internal static class VectorKernels
{
    /// <summary>Σ a_i b_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length;
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        var s0 = Vector256<double>.Zero;
        var s1 = Vector256<double>.Zero;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            s0 = Vector256.FusedMultiplyAdd(
                Vector256.LoadUnsafe(ref pa, (nuint)i),
                Vector256.LoadUnsafe(ref pb, (nuint)i),
                s0
            );
            s1 = Vector256.FusedMultiplyAdd(
                Vector256.LoadUnsafe(ref pa, (nuint)(i + 4)),
                Vector256.LoadUnsafe(ref pb, (nuint)(i + 4)),
                s1
            );
        }
        double s = Reduce(s0, s1);
        for (; i < n; i++)
            s = Math.FusedMultiplyAdd(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i), s);
        return s;
    }

    /// <summary>Σ a_i w_i b_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double WeightedDot(ReadOnlySpan<double> a, ReadOnlySpan<double> w, ReadOnlySpan<double> b)
    {
        int n = a.Length;
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pw = ref MemoryMarshal.GetReference(w);
        ref double pb = ref MemoryMarshal.GetReference(b);
        var s0 = Vector256<double>.Zero;
        var s1 = Vector256<double>.Zero;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var x0 = Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pw, (nuint)i);
            var x1 = Vector256.LoadUnsafe(ref pa, (nuint)(i + 4)) * Vector256.LoadUnsafe(ref pw, (nuint)(i + 4));
            s0 = Vector256.FusedMultiplyAdd(x0, Vector256.LoadUnsafe(ref pb, (nuint)i), s0);
            s1 = Vector256.FusedMultiplyAdd(x1, Vector256.LoadUnsafe(ref pb, (nuint)(i + 4)), s1);
        }
        double s = Reduce(s0, s1);
        for (; i < n; i++)
            s = Math.FusedMultiplyAdd(Unsafe.Add(ref pa, i) * Unsafe.Add(ref pw, i), Unsafe.Add(ref pb, i), s);
        return s;
    }

    /// <summary>y ← y + alpha·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length;
        ref double px = ref MemoryMarshal.GetReference(x);
        ref double py = ref MemoryMarshal.GetReference(y);
        var va = Vector256.Create(alpha);
        int i = 0;
        for (; i <= n - 4; i += 4)
            Vector256
                .FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i))
                .StoreUnsafe(ref py, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref py, i) = Math.FusedMultiplyAdd(alpha, Unsafe.Add(ref px, i), Unsafe.Add(ref py, i));
    }

    /// <summary>
    /// Four dots at once, r_t = Σ a_i b_t,i, each to the same bits as
    /// <see cref="Dot"/>(a, b_t): the same eight partial sums per target and the same
    /// reduction. <paramref name="a"/> is loaded once for the four targets, which is what
    /// makes the Householder update and the middle matrix cheaper than four separate dots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot4(
        ReadOnlySpan<double> a,
        ReadOnlySpan<double> b0,
        ReadOnlySpan<double> b1,
        ReadOnlySpan<double> b2,
        ReadOnlySpan<double> b3,
        Span<double> result
    ) => WeightedDot4(a, default, b0, b1, b2, b3, result);

    /// <summary>
    /// Four weighted dots at once, r_t = Σ a_i w_i b_t,i, each to the same bits as
    /// <see cref="WeightedDot"/>(a, w, b_t); with an empty <paramref name="w"/>, as
    /// <see cref="Dot"/>(a, b_t).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightedDot4(
        ReadOnlySpan<double> a,
        ReadOnlySpan<double> w,
        ReadOnlySpan<double> b0,
        ReadOnlySpan<double> b1,
        ReadOnlySpan<double> b2,
        ReadOnlySpan<double> b3,
        Span<double> result
    )
    {
        int n = a.Length;
        bool weighted = !w.IsEmpty;
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pw = ref MemoryMarshal.GetReference(w);
        ref double p0 = ref MemoryMarshal.GetReference(b0);
        ref double p1 = ref MemoryMarshal.GetReference(b1);
        ref double p2 = ref MemoryMarshal.GetReference(b2);
        ref double p3 = ref MemoryMarshal.GetReference(b3);
        Vector256<double> s00 = default,
            s01 = default,
            s10 = default,
            s11 = default,
            s20 = default,
            s21 = default,
            s30 = default,
            s31 = default;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var x0 = Vector256.LoadUnsafe(ref pa, (nuint)i);
            var x1 = Vector256.LoadUnsafe(ref pa, (nuint)(i + 4));
            if (weighted)
            {
                x0 *= Vector256.LoadUnsafe(ref pw, (nuint)i);
                x1 *= Vector256.LoadUnsafe(ref pw, (nuint)(i + 4));
            }
            s00 = Vector256.FusedMultiplyAdd(x0, Vector256.LoadUnsafe(ref p0, (nuint)i), s00);
            s01 = Vector256.FusedMultiplyAdd(x1, Vector256.LoadUnsafe(ref p0, (nuint)(i + 4)), s01);
            s10 = Vector256.FusedMultiplyAdd(x0, Vector256.LoadUnsafe(ref p1, (nuint)i), s10);
            s11 = Vector256.FusedMultiplyAdd(x1, Vector256.LoadUnsafe(ref p1, (nuint)(i + 4)), s11);
            s20 = Vector256.FusedMultiplyAdd(x0, Vector256.LoadUnsafe(ref p2, (nuint)i), s20);
            s21 = Vector256.FusedMultiplyAdd(x1, Vector256.LoadUnsafe(ref p2, (nuint)(i + 4)), s21);
            s30 = Vector256.FusedMultiplyAdd(x0, Vector256.LoadUnsafe(ref p3, (nuint)i), s30);
            s31 = Vector256.FusedMultiplyAdd(x1, Vector256.LoadUnsafe(ref p3, (nuint)(i + 4)), s31);
        }
        double r0 = Reduce(s00, s01),
            r1 = Reduce(s10, s11),
            r2 = Reduce(s20, s21),
            r3 = Reduce(s30, s31);
        for (; i < n; i++)
        {
            double x = weighted ? Unsafe.Add(ref pa, i) * Unsafe.Add(ref pw, i) : Unsafe.Add(ref pa, i);
            r0 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p0, i), r0);
            r1 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p1, i), r1);
            r2 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p2, i), r2);
            r3 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p3, i), r3);
        }
        result[0] = r0;
        result[1] = r1;
        result[2] = r2;
        result[3] = r3;
    }

    /// <summary>
    /// y_t ← y_t + alpha_t·x for four targets, each element to the same bits as
    /// <see cref="Axpy"/>: x is loaded once for the four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy4(
        ReadOnlySpan<double> alpha,
        ReadOnlySpan<double> x,
        Span<double> y0,
        Span<double> y1,
        Span<double> y2,
        Span<double> y3
    )
    {
        int n = x.Length;
        ref double px = ref MemoryMarshal.GetReference(x);
        ref double p0 = ref MemoryMarshal.GetReference(y0);
        ref double p1 = ref MemoryMarshal.GetReference(y1);
        ref double p2 = ref MemoryMarshal.GetReference(y2);
        ref double p3 = ref MemoryMarshal.GetReference(y3);
        double a0 = alpha[0],
            a1 = alpha[1],
            a2 = alpha[2],
            a3 = alpha[3];
        var v0 = Vector256.Create(a0);
        var v1 = Vector256.Create(a1);
        var v2 = Vector256.Create(a2);
        var v3 = Vector256.Create(a3);
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var xv = Vector256.LoadUnsafe(ref px, (nuint)i);
            Vector256.FusedMultiplyAdd(v0, xv, Vector256.LoadUnsafe(ref p0, (nuint)i)).StoreUnsafe(ref p0, (nuint)i);
            Vector256.FusedMultiplyAdd(v1, xv, Vector256.LoadUnsafe(ref p1, (nuint)i)).StoreUnsafe(ref p1, (nuint)i);
            Vector256.FusedMultiplyAdd(v2, xv, Vector256.LoadUnsafe(ref p2, (nuint)i)).StoreUnsafe(ref p2, (nuint)i);
            Vector256.FusedMultiplyAdd(v3, xv, Vector256.LoadUnsafe(ref p3, (nuint)i)).StoreUnsafe(ref p3, (nuint)i);
        }
        for (; i < n; i++)
        {
            double xi = Unsafe.Add(ref px, i);
            Unsafe.Add(ref p0, i) = Math.FusedMultiplyAdd(a0, xi, Unsafe.Add(ref p0, i));
            Unsafe.Add(ref p1, i) = Math.FusedMultiplyAdd(a1, xi, Unsafe.Add(ref p1, i));
            Unsafe.Add(ref p2, i) = Math.FusedMultiplyAdd(a2, xi, Unsafe.Add(ref p2, i));
            Unsafe.Add(ref p3, i) = Math.FusedMultiplyAdd(a3, xi, Unsafe.Add(ref p3, i));
        }
    }

    /// <summary>
    /// dest ← (start + Σ_l coef_l·col_l)·scale, with col_l the l-th column of
    /// <paramref name="columns"/> (stride <paramref name="stride"/>), to the same bits as
    /// copying start and applying <see cref="Axpy"/> once per column in order, then
    /// scaling: each element is accumulated in one register instead of being stored
    /// and reloaded once per column. <paramref name="dest"/> may be <paramref name="start"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Combine(
        ReadOnlySpan<double> start,
        ReadOnlySpan<double> columns,
        int stride,
        ReadOnlySpan<double> coef,
        double scale,
        Span<double> dest
    )
    {
        int n = dest.Length,
            m = coef.Length;
        ref double ps = ref MemoryMarshal.GetReference(start);
        ref double pc = ref MemoryMarshal.GetReference(columns);
        ref double pd = ref MemoryMarshal.GetReference(dest);
        var vs = Vector256.Create(scale);
        int i = 0;
        // Sixteen rows at a time: four independent chains of fused multiply-adds hide the
        // instruction's latency (two chains left the FMA units idle half the time); each row's
        // sum is still taken over the columns in order, so the bits do not change.
        for (; i <= n - 16; i += 16)
        {
            var acc0 = Vector256.LoadUnsafe(ref ps, (nuint)i);
            var acc1 = Vector256.LoadUnsafe(ref ps, (nuint)(i + 4));
            var acc2 = Vector256.LoadUnsafe(ref ps, (nuint)(i + 8));
            var acc3 = Vector256.LoadUnsafe(ref ps, (nuint)(i + 12));
            for (int l = 0; l < m; l++)
            {
                var a = Vector256.Create(coef[l]);
                nuint o = (nuint)(l * stride + i);
                acc0 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o), acc0);
                acc1 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o + 4), acc1);
                acc2 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o + 8), acc2);
                acc3 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o + 12), acc3);
            }
            (acc0 * vs).StoreUnsafe(ref pd, (nuint)i);
            (acc1 * vs).StoreUnsafe(ref pd, (nuint)(i + 4));
            (acc2 * vs).StoreUnsafe(ref pd, (nuint)(i + 8));
            (acc3 * vs).StoreUnsafe(ref pd, (nuint)(i + 12));
        }
        for (; i <= n - 8; i += 8)
        {
            var acc0 = Vector256.LoadUnsafe(ref ps, (nuint)i);
            var acc1 = Vector256.LoadUnsafe(ref ps, (nuint)(i + 4));
            for (int l = 0; l < m; l++)
            {
                var a = Vector256.Create(coef[l]);
                nuint o = (nuint)(l * stride + i);
                acc0 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o), acc0);
                acc1 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref pc, o + 4), acc1);
            }
            (acc0 * vs).StoreUnsafe(ref pd, (nuint)i);
            (acc1 * vs).StoreUnsafe(ref pd, (nuint)(i + 4));
        }
        for (; i <= n - 4; i += 4)
        {
            var acc = Vector256.LoadUnsafe(ref ps, (nuint)i);
            for (int l = 0; l < m; l++)
                acc = Vector256.FusedMultiplyAdd(
                    Vector256.Create(coef[l]),
                    Vector256.LoadUnsafe(ref pc, (nuint)(l * stride + i)),
                    acc
                );
            (acc * vs).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++)
        {
            double acc = Unsafe.Add(ref ps, i);
            for (int l = 0; l < m; l++)
                acc = Math.FusedMultiplyAdd(coef[l], Unsafe.Add(ref pc, l * stride + i), acc);
            Unsafe.Add(ref pd, i) = acc * scale;
        }
    }

    /// <summary>
    /// y_i ← y_i + Σ_l col_l,i² over the m columns (stride <paramref name="stride"/>),
    /// to the same bits as <see cref="AddSquares"/> once per column in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSquaresOfColumns(ReadOnlySpan<double> columns, int stride, int m, Span<double> y)
    {
        int n = y.Length;
        ref double pc = ref MemoryMarshal.GetReference(columns);
        ref double py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var acc = Vector256.LoadUnsafe(ref py, (nuint)i);
            for (int l = 0; l < m; l++)
            {
                var v = Vector256.LoadUnsafe(ref pc, (nuint)(l * stride + i));
                acc = Vector256.FusedMultiplyAdd(v, v, acc);
            }
            acc.StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
        {
            double acc = Unsafe.Add(ref py, i);
            for (int l = 0; l < m; l++)
            {
                double v = Unsafe.Add(ref pc, l * stride + i);
                acc = Math.FusedMultiplyAdd(v, v, acc);
            }
            Unsafe.Add(ref py, i) = acc;
        }
    }

    /// <summary>max |x_i|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double MaxAbs(ReadOnlySpan<double> x)
    {
        int n = x.Length;
        ref double px = ref MemoryMarshal.GetReference(x);
        var m = Vector256<double>.Zero;
        int i = 0;
        for (; i <= n - 4; i += 4)
            m = Vector256.Max(m, Vector256.Abs(Vector256.LoadUnsafe(ref px, (nuint)i)));
        double r = Math.Max(Math.Max(m[0], m[1]), Math.Max(m[2], m[3]));
        for (; i < n; i++)
            r = Math.Max(r, Math.Abs(Unsafe.Add(ref px, i)));
        return r;
    }

    /// <summary>
    /// Euclidean norm without overflow or underflow: the plain sum of squares when it is
    /// safely inside the range of doubles, otherwise the sum of squares of x / max|x|.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Norm(ReadOnlySpan<double> x)
    {
        double ss = Dot(x, x);
        if (ss > 1e-280 && ss < 1e280)
            return Math.Sqrt(ss);
        double scale = MaxAbs(x);
        if (scale == 0 || !double.IsFinite(scale))
            return scale;
        double inv = 1.0 / scale,
            s = 0;
        foreach (var v in x)
        {
            double t = v * inv;
            s = Math.FusedMultiplyAdd(t, t, s);
        }
        return scale * Math.Sqrt(s);
    }

    /// <summary>y_i ← y_i + x_i² (leverage accumulation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSquares(ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length;
        ref double px = ref MemoryMarshal.GetReference(x);
        ref double py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var v = Vector256.LoadUnsafe(ref px, (nuint)i);
            Vector256.FusedMultiplyAdd(v, v, Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref px, i);
            Unsafe.Add(ref py, i) = Math.FusedMultiplyAdd(v, v, Unsafe.Add(ref py, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Reduce(Vector256<double> s0, Vector256<double> s1)
    {
        var s = s0 + s1;
        return (s[0] + s[1]) + (s[2] + s[3]);
    }
}
