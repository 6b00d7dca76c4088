using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Regression.Domain;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// The fused kernels (four columns per pass, or a whole combination per register) must
/// give the same bits as the one-column kernels they replace, whatever the length (the
/// vector body and the scalar tail), the magnitudes and the signs: the engine's results
/// may not move when a kernel is fused (docs/method.md, "Determinism").
/// </summary>
public class KernelPropertyTests
{
    /// <summary>Columns of one length, with magnitudes spread over 24 orders, some zeros.</summary>
    public sealed record Columns(double[][] Values);

    private static Gen<double> Value =>
        from mantissa in Gen.Choose(-1_000_000, 1_000_000)
        from exponent in Gen.Choose(-12, 12)
        from zero in Gen.Choose(0, 19)
        select zero == 0 ? 0.0 : mantissa / 1e6 * Math.Pow(10, exponent);

    private static Arbitrary<Columns> ColumnsOf(int count) =>
        (
            from n in Gen.Choose(0, 45)
            from cols in Gen.ArrayOf(Gen.ArrayOf(Value, n), count)
            select new Columns(cols)
        ).ToArbitrary();

    [Property(MaxTest = 300)]
    public Property Dot4AndWeightedDot4EqualFourSingleDots() =>
        Prop.ForAll(
            ColumnsOf(6),
            c =>
            {
                var v = c.Values;
                var w = v[5].Select(Math.Abs).ToArray();
                Span<double> r = stackalloc double[4];
                VectorKernels.Dot4(v[0], v[1], v[2], v[3], v[4], r);
                Span<double> rw = stackalloc double[4];
                VectorKernels.WeightedDot4(v[0], w, v[1], v[2], v[3], v[4], rw);
                for (int t = 0; t < 4; t++)
                {
                    if (!Same(r[t], VectorKernels.Dot(v[0], v[t + 1])))
                        return false;
                    if (!Same(rw[t], VectorKernels.WeightedDot(v[0], w, v[t + 1])))
                        return false;
                }
                return true;
            }
        );

    [Property(MaxTest = 300)]
    public Property Axpy4EqualsFourSingleAxpys() =>
        Prop.ForAll(
            ColumnsOf(6),
            c =>
            {
                var v = c.Values;
                double[] alpha = [v[5].FirstOrDefault(1.5), -0.25, 3e-7, -1e5];
                var fused = v[1..5].Select(a => a.ToArray()).ToArray();
                var single = v[1..5].Select(a => a.ToArray()).ToArray();
                VectorKernels.Axpy4(alpha, v[0], fused[0], fused[1], fused[2], fused[3]);
                for (int t = 0; t < 4; t++)
                    VectorKernels.Axpy(alpha[t], v[0], single[t]);
                return Enumerable.Range(0, 4).All(t => fused[t].Zip(single[t], Same).All(s => s));
            }
        );

    [Property(MaxTest = 300)]
    public Property CombineEqualsCopyAxpysAndScale() =>
        Prop.ForAll(
            ColumnsOf(6),
            Gen.Choose(0, 5).ToArbitrary(),
            (c, m) =>
            {
                var v = c.Values;
                int n = v[0].Length;
                var columns = v[1..(1 + m)].SelectMany(a => a).ToArray();
                var coef = new[] { -0.5, 2.25, -1e-3, 7e4, 1 / 3.0 }[..m];
                double scale = 1 / 7.0;
                var fused = new double[n];
                VectorKernels.Combine(v[0], columns, n, coef, scale, fused);
                var single = v[0].ToArray();
                for (int l = 0; l < m; l++)
                    VectorKernels.Axpy(coef[l], v[l + 1], single);
                for (int i = 0; i < n; i++)
                    single[i] *= scale;
                var squares = v[0].Select(Math.Abs).ToArray();
                var squaresSingle = squares.ToArray();
                VectorKernels.AddSquaresOfColumns(columns, n, m, squares);
                for (int l = 0; l < m; l++)
                    VectorKernels.AddSquares(v[l + 1], squaresSingle);
                return fused.Zip(single, Same).All(s => s) && squares.Zip(squaresSingle, Same).All(s => s);
            }
        );

    private static bool Same(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
}
