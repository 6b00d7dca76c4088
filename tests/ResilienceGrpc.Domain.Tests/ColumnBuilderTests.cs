using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Regression.Domain;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// <see cref="ColumnBuilder"/> (the CSV reader's and the streamed fit's column, kept in native
/// blocks) gives back exactly what was appended, in order and to the bit, whatever the mix of
/// single values and runs and wherever the runs fall against the block boundaries (the first
/// block holds 65,536 values); the reference is a plain <see cref="List{T}"/>.
/// </summary>
public class ColumnBuilderTests
{
    private static Arbitrary<int[]> Runs() =>
        Gen.ArrayOf(Gen.Frequency((5, Gen.Choose(0, 3)), (2, Gen.Choose(100, 30_000)), (1, Gen.Choose(60_000, 140_000))))
            .Select(a => a.Take(8).ToArray())
            .ToArbitrary();

    [Property(MaxTest = 40)]
    public Property AppendedValuesComeBackInOrderToTheBit() =>
        Prop.ForAll(
            Runs(),
            runs =>
            {
                var rng = new Random(runs.Sum());
                var expected = new List<double>();
                using var builder = new ColumnBuilder();
                for (int r = 0; r < runs.Length; r++)
                {
                    var run = Enumerable
                        .Range(0, runs[r])
                        .Select(i => i % 97 == 0 ? double.NaN : BitConverter.Int64BitsToDouble(rng.NextInt64()))
                        .ToArray();
                    if (r % 2 == 0)
                        builder.Append(run);
                    else
                        foreach (var v in run)
                            builder.Add(v);
                    expected.AddRange(run);
                }
                Assert.Equal(expected.Count, builder.Count);
                var whole = builder.TakeAll();
                Assert.Equal(expected.Count, whole.Length);
                for (int i = 0; i < whole.Length; i++)
                    Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i]), BitConverter.DoubleToInt64Bits(whole[i]));
                // Taken, the builder is empty and usable again.
                Assert.Equal(0, builder.Count);
                builder.Add(2.5);
                Assert.Equal([2.5], builder.TakeAll());
            }
        );

    [Property(MaxTest = 25)]
    public Property AColumnMovedAfterAnotherComesBackAfterItToTheBit() =>
        Prop.ForAll(
            Runs(),
            Runs(),
            (first, second) =>
            {
                var rng = new Random(first.Sum() * 31 + second.Sum());
                var expected = new List<double>();
                using var a = new ColumnBuilder();
                using var b = new ColumnBuilder();
                foreach (var (builder, runs) in new[] { (a, first), (b, second) })
                    foreach (var run in runs)
                        for (int i = 0; i < run; i++)
                        {
                            double v = BitConverter.Int64BitsToDouble(rng.NextInt64());
                            builder.Add(v);
                            if (builder == a)
                                expected.Add(v);
                        }
                var fromB = new double[b.Count];
                using (var copy = new ColumnBuilder())
                {
                    // b's values in order, read back through a second builder moved onto an empty one.
                    copy.AppendMoved(b);
                    Assert.Equal(0, b.Count);
                    copy.MoveTo(fromB);
                }
                foreach (var v in fromB)
                    b.Add(v);
                expected.AddRange(fromB);
                a.AppendMoved(b);
                a.Add(0.25); // a value after the move starts a new block
                expected.Add(0.25);
                Assert.Equal(0, b.Count);
                Assert.Equal(expected.Count, a.Count);
                var whole = a.TakeAll();
                Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), whole.Select(BitConverter.DoubleToInt64Bits));
            }
        );

    [Fact]
    public void ColumnsTakenTogetherAreSlicesOfOneArrayWithTheirOwnLengths()
    {
        var builders = new[] { new ColumnBuilder(), new ColumnBuilder(), new ColumnBuilder() };
        var expected = new List<double>[] { [], [], [] };
        for (int i = 0; i < 70_000; i++)
            for (int c = 0; c < builders.Length; c++)
                if (c != 2 || i % 2 == 0) // a ragged column keeps its own length
                {
                    builders[c].Add(i * (c + 1) + 0.5);
                    expected[c].Add(i * (c + 1) + 0.5);
                }
        var taken = ColumnBuilder.TakeAll(builders);
        for (int c = 0; c < builders.Length; c++)
        {
            Assert.Equal(expected[c], taken[c].ToArray());
            Assert.Equal(0, builders[c].Count);
            Assert.True(MemoryMarshal.TryGetArray(taken[c], out var segment));
            Assert.Same(MemoryMarshalArray(taken[0]), segment.Array);
        }
    }

    private static double[]? MemoryMarshalArray(ReadOnlyMemory<double> m) =>
        MemoryMarshal.TryGetArray(m, out var s) ? s.Array : null;

    [Property(MaxTest = 20)]
    public Property BuildersSharingAPoolGiveBackExactlyTheirOwnValues() =>
        Prop.ForAll(
            Runs(),
            Runs(),
            (first, second) =>
            {
                // Two columns at a time, one stream after another, through one pool: each stream
                // reads back exactly what it appended, never what an earlier stream left in a
                // reused block (the second stream is usually shorter than the first).
                using var pool = new BlockPool(long.MaxValue);
                var rng = new Random(first.Sum() * 17 + second.Sum());
                foreach (var runs in new[] { first, second, first })
                {
                    var builders = new[] { new ColumnBuilder(pool), new ColumnBuilder(pool) };
                    var expected = new[] { new List<double>(), new List<double>() };
                    foreach (var run in runs)
                        for (int c = 0; c < 2; c++)
                        {
                            var values = Enumerable
                                .Range(0, run)
                                .Select(_ => BitConverter.Int64BitsToDouble(rng.NextInt64()))
                                .ToArray();
                            builders[c].Append(values);
                            expected[c].AddRange(values);
                        }
                    var taken = ColumnBuilder.TakeAll(builders);
                    for (int c = 0; c < 2; c++)
                        Assert.Equal(
                            expected[c].Select(BitConverter.DoubleToInt64Bits),
                            taken[c].ToArray().Select(BitConverter.DoubleToInt64Bits)
                        );
                }
            }
        );

    [Fact]
    public void APoolLendsTheSameBlocksAgainAndUnmapsThemWhenTrimmed()
    {
        using var pool = new BlockPool(long.MaxValue);
        void Stream(int rows)
        {
            using var a = new ColumnBuilder(pool);
            using var b = new ColumnBuilder(pool);
            for (int i = 0; i < rows; i++)
            {
                a.Add(i);
                b.Add(-i);
            }
            var taken = ColumnBuilder.TakeAll([a, b]);
            Assert.Equal(rows - 1.0, taken[0].Span[rows - 1]);
            Assert.Equal(1.0 - rows, taken[1].Span[rows - 1]);
        }

        // 100,000 rows: a first block and a large one per column.
        Stream(100_000);
        Assert.Equal(4, pool.Mapped);
        long held = 2L * (ColumnBuilder.FirstBlock + ColumnBuilder.LargestBlock) * sizeof(double);
        Assert.Equal(held, pool.HeldBytes);
        Stream(90_000);
        Assert.Equal(4, pool.Mapped); // nothing new mapped
        Assert.Equal(held, pool.HeldBytes);

        pool.Trim();
        Assert.Equal(0, pool.HeldBytes);
        Stream(10);
        Assert.Equal(6, pool.Mapped); // two first blocks mapped again
    }

    [Fact]
    public void APoolKeepsNoMoreThanItsCapNorBlocksOfOtherSizes()
    {
        using var pool = new BlockPool(ColumnBuilder.LargestBlock * sizeof(double));
        using (var a = new ColumnBuilder(pool))
        {
            a.Append(new double[ColumnBuilder.LargestBlock + 1]); // one block of its own size
            a.Add(1);
            a.Append(new double[ColumnBuilder.LargestBlock - 1]); // fills a large block
            a.Add(2); // one more large block
        }
        // Of the blocks given back, only one large block fits under the cap.
        Assert.Equal((long)ColumnBuilder.LargestBlock * sizeof(double), pool.HeldBytes);

        pool.Dispose();
        Assert.Equal(0, pool.HeldBytes);
        using (var b = new ColumnBuilder(pool))
            b.Add(3);
        Assert.Equal(0, pool.HeldBytes); // a disposed pool unmaps what comes back
    }

    [Fact]
    public void NativeMemoryIsRefusedAfterRelease()
    {
        var block = new NativeDoubles(3);
        block.Span.Fill(1.5);
        Assert.Equal(4.5, block.Span[0] + block.Span[1] + block.Span[2]);
        block.Dispose();
        Assert.Throws<ObjectDisposedException>(() => block.Span.Length);
    }
}
