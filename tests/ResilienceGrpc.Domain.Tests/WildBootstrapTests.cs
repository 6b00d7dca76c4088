using MathNet.Numerics.Random;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// The wild bootstrap's fast path (fixed X, O(nk) per replication) checked against a
/// brute-force path that rebuilds and refits the model on every bootstrap sample with
/// the ordinary fit and inference code, on the same Rademacher draws: the exceedance
/// counts must agree exactly.
/// </summary>
public class WildBootstrapTests
{
    private static RegressionReport City38(CovarianceType type) =>
        RegressionReferenceTests.Fit(Reference.Json("city38"), type);

    [Theory]
    [InlineData(CovarianceType.HC1)]
    [InlineData(CovarianceType.HC3)]
    [InlineData(CovarianceType.Classical)]
    public void FastBootstrapAgreesWithRefittingEverySample(CovarianceType type)
    {
        const int replications = 499;
        var report = City38(type);
        var fit = report.Fit;
        Random Source(int j) => new Xoshiro256StarStar(1000 + j, threadSafe: false);

        var fast = WildBootstrap.SlopePValues(
            fit,
            type,
            report.Inference.Coefficients,
            replications,
            Source,
            CancellationToken.None
        );

        for (int j = 1; j < fit.K; j++)
        {
            // Restricted model without x_j, fitted with the ordinary code.
            var restrictedTerms = fit.Design.Terms.Where((_, c) => c != j && c != 0).ToArray();
            var restricted = OlsFit.Fit(
                DesignMatrix.Build(Columns(fit.Design, fit.Design.Y), new ModelSpec("y", restrictedTerms))
            );
            var fitted = fit.Design.Y.Zip(restricted.Residuals, (y, e) => y - e).ToArray();
            var rng = Source(j);
            var bits = new byte[(fit.N + 7) / 8];
            int exceed = 0;
            for (int b = 0; b < replications; b++)
            {
                rng.NextBytes(bits);
                var yStar = fitted
                    .Select((f, i) => f + WildBootstrap.Rademacher(bits, i) * restricted.Residuals[i])
                    .ToArray();
                var refit = OlsFit.Fit(
                    DesignMatrix.Build(
                        Columns(fit.Design, yStar),
                        new ModelSpec("y", fit.Design.Terms.Skip(1).ToArray())
                    )
                );
                var t = OlsInference.Infer(refit, type).Coefficients[j].TValue;
                if (Math.Abs(t) >= Math.Abs(report.Inference.Coefficients[j].TValue))
                    exceed++;
            }
            Assert.Equal((double)exceed / replications, fast[j - 1].PValue);
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSamePValuesAndAnotherSeedMayNot()
    {
        var report = City38(CovarianceType.HC1);
        var a = WildBootstrap.SlopePValues(report.Fit, CovarianceType.HC1, report.Inference.Coefficients, 999, 42);
        var b = WildBootstrap.SlopePValues(report.Fit, CovarianceType.HC1, report.Inference.Coefficients, 999, 42);
        Assert.Equal(a, b);
        Assert.All(a, p => Assert.InRange(p.PValue, 0.0, 1.0));
    }

    [Fact]
    public void AStrongSlopeIsRejectedAndAWeakOneIsNot()
    {
        // city38: ln_rescity has t ≈ 3.35 (R: p = 0.002); ln_x has t ≈ 0.24 (R: p = 0.81).
        var report = City38(CovarianceType.HC1);
        var p = WildBootstrap.SlopePValues(report.Fit, CovarianceType.HC1, report.Inference.Coefficients, 9999, 7);
        Assert.True(p.Single(x => x.Term == "ln_rescity").PValue < 0.05);
        Assert.True(p.Single(x => x.Term == "ln_x").PValue > 0.5);
    }

    [Fact]
    public void SmallSamplesCarryAWarningThatPointsToHc3OrTheBootstrap()
    {
        var report = City38(CovarianceType.HC1);
        Assert.Contains(report.Warnings, w => w.Contains("HC3") && w.Contains("bootstrap"));
    }

    private static RegressionData Columns(DesignMatrix design, double[] y)
    {
        var cols = new List<NamedColumn> { new("y", y) };
        for (int j = 1; j < design.K; j++)
            cols.Add(new NamedColumn(design.Terms[j], design.Column(j).ToArray()));
        return new RegressionData(cols, design.RowIds);
    }
}
