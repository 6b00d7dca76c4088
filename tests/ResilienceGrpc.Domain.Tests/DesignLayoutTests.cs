using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Regression.Domain;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// Readers that know the model lay their columns out as its design (<see cref="DesignMatrix.Layout"/>),
/// so that <see cref="DesignMatrix.Build"/> takes X and y as they are instead of copying them. The
/// design must be exactly the one built from the same numbers in plain arrays (values to the bit,
/// terms, rows kept and dropped, the same refusal where there is one), whatever the column order,
/// extra columns, missing values, intercept or not; and where nothing is dropped it must be the
/// laid-out memory itself, not a copy.
/// </summary>
public class DesignLayoutTests
{
    private static readonly string[] Pool = ["y", "a", "b", "c", "d", "e"];

    /// <summary>Columns laid out for <paramref name="Model"/>, built with <paramref name="BuiltWith"/> (usually the same model).</summary>
    public sealed record Case(string[] Names, int[] Lengths, double[][] Values, ModelSpec Model, ModelSpec BuiltWith)
    {
        public override string ToString() =>
            $"names [{string.Join(",", Names)}], lengths [{string.Join(",", Lengths)}], laid out for {Show(Model)}, built with {Show(BuiltWith)}";

        private static string Show(ModelSpec m) =>
            $"{m.Dependent} ~ {string.Join("+", m.Regressors)}{(m.NoIntercept ? " - 1" : "")}";
    }

    private static Arbitrary<Case> Cases() =>
        (
            from count in Gen.Choose(1, 6)
            from names in Gen.Shuffle(Pool).Select(p => p.Take(count).ToArray())
            from repeat in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from rows in Gen.Choose(1, 60)
            from ragged in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from nanEvery in Gen.Elements(0, 0, 0, 7, 31)
            from dependent in Gen.Elements(Pool.Take(4).ToArray())
            from regressors in Gen.SubListOf(Pool.Append("a*b").ToArray())
            from noIntercept in Gen.Elements(false, false, true)
            from other in Gen.Elements(0, 0, 0, 1, 2, 3)
            let allNames = repeat && count > 1 ? names.Append(names[0]).ToArray() : names
            let lengths = allNames.Select((_, c) => ragged && c == allNames.Length - 1 ? rows - 1 : rows).ToArray()
            select new Case(
                allNames,
                lengths,
                lengths
                    .Select(
                        (n, c) =>
                            Enumerable
                                .Range(0, n)
                                .Select(i =>
                                    nanEvery > 0 && (i + c) % nanEvery == 0 ? double.NaN : Math.Sin(i * 1.7 + c) * (c + 1)
                                )
                                .ToArray()
                    )
                    .ToArray(),
                new ModelSpec(dependent, regressors.ToArray(), noIntercept),
                // A layout built with another model must not be taken as that model's design.
                other switch
                {
                    1 => new ModelSpec(dependent, regressors.AsEnumerable().Reverse().ToArray(), noIntercept),
                    2 => new ModelSpec(dependent, regressors.ToArray(), !noIntercept),
                    3 => new ModelSpec(dependent, regressors.Skip(1).ToArray(), noIntercept),
                    _ => new ModelSpec(dependent, regressors.ToArray(), noIntercept),
                }
            )
        ).ToArbitrary();

    [Property(MaxTest = 400)]
    public Property TheLaidOutDesignIsThePlainOneWithoutACopy() =>
        Prop.ForAll(
            Cases(),
            c =>
            {
                var laid = DesignMatrix.Layout(c.Names, c.Lengths, c.Model);
                for (int i = 0; i < c.Names.Length; i++)
                {
                    Assert.Equal(c.Lengths[i], laid[i].Length);
                    c.Values[i].CopyTo(laid[i]);
                }
                var plain = Outcome(
                    new RegressionData(c.Names.Select((n, i) => new NamedColumn(n, c.Values[i].ToArray())).ToList()),
                    c.BuiltWith
                );
                var laidOut = Outcome(
                    new RegressionData(c.Names.Select((n, i) => new NamedColumn(n, laid[i])).ToList()),
                    c.BuiltWith
                );
                if (plain.Error is not null || laidOut.Error is not null)
                {
                    Assert.Equal(plain.Error, laidOut.Error);
                    return;
                }
                var (p, l) = (plain.Design!, laidOut.Design!);
                Assert.Equal(p.Terms, l.Terms);
                Assert.Equal(p.RowIds, l.RowIds);
                Assert.Equal(p.DroppedRowIds, l.DroppedRowIds);
                Assert.Equal(Bits(p.Y), Bits(l.Y));
                Assert.Equal(Bits(p.Values), Bits(l.Values));
                Assert.Equal(p.Values.Length, l.Values.Length);
                // Nothing dropped and every regressor a column: X and y are the laid-out memory itself.
                bool direct = c.Model.Regressors.All(r => !r.Contains('*'));
                bool same = c.Model == c.BuiltWith || (c.Model.NoIntercept == c.BuiltWith.NoIntercept && c.Model.Regressors.SequenceEqual(c.BuiltWith.Regressors));
                if (p.DroppedRowIds.Length == 0 && direct && same)
                {
                    int dependent = Array.IndexOf(c.Names, c.Model.Dependent);
                    Assert.Same(ArrayOf(laid[dependent]), l.Y);
                    foreach (var r in c.Model.Regressors)
                        Assert.Same(ArrayOf(laid[Array.IndexOf(c.Names, r)]), l.Values);
                }
            }
        );

    [Fact]
    public void ColumnsNotLaidOutAreCopiedAsBefore()
    {
        // The same shapes as a layout, but ordinary arrays: the design must not adopt (or fill
        // an intercept into) memory it was not given to own.
        var x = new double[30];
        for (int i = 0; i < 30; i++)
            x[i] = i % 10 * 1.5 + i / 10;
        var y = Enumerable.Range(0, 10).Select(i => 2.0 * i + (i % 3)).ToArray();
        var data = new RegressionData([new NamedColumn("y", y), new NamedColumn("a", x.AsMemory(10, 10)), new NamedColumn("b", x.AsMemory(20, 10))]);
        var design = DesignMatrix.Build(data, new ModelSpec("y", ["a", "b"]));
        Assert.NotSame(x, design.Values);
        Assert.NotSame(y, design.Y);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 1.5), x.Take(10));
    }

    private static (DesignMatrix? Design, string? Error) Outcome(RegressionData data, ModelSpec model)
    {
        try
        {
            return (DesignMatrix.Build(data, model), null);
        }
        catch (Exception e) when (e is InvalidInputException or InfeasibleInputException)
        {
            return (null, e.GetType().Name + ": " + e.Message);
        }
    }

    private static long[] Bits(double[] v) => v.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static double[]? ArrayOf(Memory<double> m) => MemoryMarshal.TryGetArray<double>(m, out var s) ? s.Array : null;
}
