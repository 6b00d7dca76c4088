using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Indexing.Domain;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.Tests.Support;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// Properties that must hold whatever the data (FsCheck, 100 cases each unless set):
/// weights are a distribution, scores do not depend on an indicator's units, HC0 never
/// exceeds HC1, OLS does not depend on row order, and the deletion formula agrees with
/// a refit. Tolerance for "equal" floating results: 1e-9 relative.
/// </summary>
public class PropertyTests
{
    /// <summary>A non-degenerate table: n units × m indicators, two dimensions, mixed directions.</summary>
    public sealed record Table(string[] Units, Indicator[] Indicators);

    private static Gen<double> Value => Gen.Choose(-500_000, 500_000).Select(v => v / 1000.0);

    private static Gen<Table> Tables =>
        from n in Gen.Choose(3, 30)
        from m in Gen.Choose(1, 7)
        from cols in Gen.ArrayOf(Gen.ArrayOf(Value, n), m)
        from dirs in Gen.ArrayOf(Gen.Elements(IndicatorDirection.Positive, IndicatorDirection.Negative), m)
        where cols.All(c => c.Distinct().Count() > 1)
        select new Table(
            Enumerable.Range(1, n).Select(i => $"city{i}").ToArray(),
            cols.Select((c, j) => new Indicator($"x{j}", j % 2 == 0 ? "economic" : "ecological", dirs[j], c)).ToArray()
        );

    private static Arbitrary<Table> TableArb => Tables.ToArbitrary();

    [Property(MaxTest = 200)]
    public Property WeightsAreNonNegativeAndSumToOneForEveryMethod() =>
        Prop.ForAll(
            TableArb,
            t =>
                Enum.GetValues<WeightingMethod>()
                    .All(method =>
                    {
                        var r = CompositeIndex.Compute(t.Units, t.Indicators, new IndexOptions(method));
                        bool global =
                            r.Indicators.All(w => w.Weight >= 0)
                            && Math.Abs(r.Indicators.Sum(w => w.Weight) - 1) < 1e-12;
                        bool within = r.Dimensions.All(d =>
                            Math.Abs(
                                r.Indicators.Where(w => w.Dimension == d.Dimension).Sum(w => w.WithinDimensionWeight)
                                    - 1
                            ) < 1e-12
                        );
                        bool dims = Math.Abs(r.Dimensions.Sum(d => d.Weight) - 1) < 1e-12;
                        return global && within && dims;
                    })
        );

    [Property(MaxTest = 200)]
    public Property ScoresAreInvariantToRescalingAnIndicator() =>
        Prop.ForAll(
            TableArb,
            Gen.Choose(1, 100_000).ToArbitrary(),
            Gen.Choose(-1000, 1000).ToArbitrary(),
            (t, scale, offset) =>
            {
                double a = scale / 100.0; // positive factor, as a change of units
                var rescaled = t
                    .Indicators.Select(
                        (ind, j) =>
                            j == 0 ? ind with { Values = ind.Values.Select(v => a * v + offset).ToArray() } : ind
                    )
                    .ToArray();
                return Enum.GetValues<WeightingMethod>()
                    .All(method =>
                    {
                        var before = CompositeIndex.Compute(t.Units, t.Indicators, new IndexOptions(method));
                        var after = CompositeIndex.Compute(t.Units, rescaled, new IndexOptions(method));
                        return before.Composite.Zip(after.Composite).All(p => Near(p.First, p.Second, 1e-9))
                            && before
                                .Indicators.Zip(after.Indicators)
                                .All(p => Near(p.First.Weight, p.Second.Weight, 1e-9));
                    });
            }
        );

    /// <summary>A regression data set: n rows, 1–4 regressors with noise so that X has full rank.</summary>
    public sealed record Sample(double[] Y, double[][] X);

    private static Gen<Sample> Samples =>
        from k in Gen.Choose(1, 4)
        from n in Gen.Choose(k + 3, 40)
        from x in Gen.ArrayOf(Gen.ArrayOf(Value, n), k)
        from y in Gen.ArrayOf(Value, n)
        where x.All(c => c.Distinct().Count() > 2) && y.Distinct().Count() > 2
        select new Sample(y, x);

    private static RegressionData Data(Sample s, int[]? order = null)
    {
        order ??= Enumerable.Range(0, s.Y.Length).ToArray();
        var cols = new List<NamedColumn> { new("y", order.Select(i => s.Y[i]).ToArray()) };
        for (int j = 0; j < s.X.Length; j++)
            cols.Add(new($"x{j}", order.Select(i => s.X[j][i]).ToArray()));
        return new RegressionData(cols, order.Select(i => $"r{i}").ToArray());
    }

    private static ModelSpec Model(Sample s) =>
        new("y", Enumerable.Range(0, s.X.Length).Select(j => $"x{j}").ToArray());

    private static OlsFit? TryFit(Sample s, int[]? order = null)
    {
        try
        {
            return OlsFit.Fit(DesignMatrix.Build(Data(s, order), Model(s)));
        }
        catch (InfeasibleInputException)
        {
            return null;
        } // random columns may be collinear; the property is about fits that exist
    }

    [Property]
    public Property Hc0NeverExceedsHc1Elementwise() =>
        Prop.ForAll(
            Samples.ToArbitrary(),
            s =>
            {
                var fit = TryFit(s);
                if (fit is null)
                    return true;
                var hc0 = SandwichCovariance.Compute(fit, CovarianceType.HC0);
                var hc1 = SandwichCovariance.Compute(fit, CovarianceType.HC1);
                for (int a = 0; a < fit.K; a++)
                    for (int b = 0; b < fit.K; b++)
                        if (Math.Abs(hc0[a, b]) > Math.Abs(hc1[a, b]))
                            return false;
                return true;
            }
        );

    [Property]
    public Property OlsIsInvariantToTheOrderOfRows() =>
        Prop.ForAll(
            Samples
                .SelectMany(s => Gen.Shuffle(Enumerable.Range(0, s.Y.Length).ToArray()).Select(o => (s, o)))
                .ToArbitrary(),
            p =>
            {
                var (s, order) = p;
                var a = TryFit(s);
                var b = TryFit(s, order);
                if (a is null || b is null)
                    return a is null && b is null;
                var ia = OlsInference.Infer(a, CovarianceType.HC3);
                var ib = OlsInference.Infer(b, CovarianceType.HC3);
                return ia.Coefficients.Zip(ib.Coefficients)
                        .All(c =>
                            Near(c.First.Estimate, c.Second.Estimate, 1e-9, 1e-9)
                            && Near(c.First.StdError, c.Second.StdError, 1e-9, 1e-9)
                        ) && Near(a.RSquared, b.RSquared, 1e-9, 1e-12);
            }
        );

    [Property]
    public Property LeaveOneOutFormulaAgreesWithARefitWithoutTheRow() =>
        Prop.ForAll(
            Samples.ToArbitrary(),
            s =>
            {
                var fit = TryFit(s);
                if (fit is null)
                    return true;
                var influence = LeaveOneOutInfluence.Compute(fit);
                for (int i = 0; i < s.Y.Length; i++)
                {
                    var order = Enumerable.Range(0, s.Y.Length).Where(r => r != i).ToArray();
                    var refit = TryFit(s, order);
                    var formula = influence.Single(r => r.RowId == $"r{i}").EstimatesWithout;
                    if (refit is null || formula is null)
                        continue; // not identified without the row
                    if (!refit.Beta.Zip(formula).All(p => Near(p.First, p.Second, 1e-7, 1e-9)))
                        return false;
                }
                return true;
            }
        );

    private static bool Near(double a, double b, double rel, double abs = 0) =>
        Math.Abs(a - b) <= Math.Max(rel * Math.Max(Math.Abs(a), Math.Abs(b)), abs);
}
