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
/// </summary>
internal static class VectorKernels
{
    /// <summary>Σ a_i b_i.</summary>
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

    /// <summary>max |x_i|.</summary>
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
