using MathNet.Numerics.LinearAlgebra;
using ResilienceGrpc.Regression.Domain;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// The blocked, parallel engine: identical bits for any thread count (a property),
/// agreement with an independent QR (Math.NET Numerics' Householder QR, 1e-10 relative),
/// and the QR factor's own defining properties.
/// </summary>
public class EngineTests
{
    /// <summary>n rows of k − 1 correlated regressors and y with heteroskedastic noise; several row blocks.</summary>
    private static (RegressionData Data, ModelSpec Model) Tall(int n, int regressors, int seed)
    {
        var rng = new Random(seed);
        var cols = new List<NamedColumn>();
        var y = new double[n];
        var common = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var names = new List<string>();
        for (int j = 0; j < regressors; j++)
        {
            var x = new double[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = common[i] * 0.5 + rng.NextDouble() * (j + 1);
                y[i] += (j % 3 - 1) * x[i];
            }
            cols.Add(new($"x{j}", x));
            names.Add($"x{j}");
        }
        for (int i = 0; i < n; i++)
            y[i] += 2.0 + (0.5 + common[i]) * (rng.NextDouble() - 0.5);
        cols.Insert(0, new("y", y));
        return (new RegressionData(cols), new ModelSpec("y", names));
    }

    [Theory]
    [InlineData(30_000, 4)]
    [InlineData(9_000, 9)]
    public void EveryThreadCountGivesTheSameBits(int n, int regressors)
    {
        var (data, model) = Tall(n, regressors, 7);
        var design = DesignMatrix.Build(data, model);
        var one = OlsFit.Fit(design, new FitOptions(Threads: 1));
        var oneInference = OlsInference.Infer(one, CovarianceType.HC3);
        Assert.True(one.BlockStarts.Length > 2, "the case must span several row blocks");
        foreach (int threads in new[] { 2, 3, 8 })
        {
            var fit = OlsFit.Fit(design, new FitOptions(Threads: threads));
            Assert.Equal(one.Beta, fit.Beta);
            Assert.Equal(one.Residuals, fit.Residuals);
            Assert.Equal(one.Leverage, fit.Leverage);
            Assert.Equal(one.Rss, fit.Rss);
            var inference = OlsInference.Infer(fit, CovarianceType.HC3);
            Assert.Equal(
                oneInference.Coefficients.Select(c => c.StdError),
                inference.Coefficients.Select(c => c.StdError)
            );
            Assert.Equal(oneInference.FTest.Statistic, inference.FTest.Statistic);
        }
    }

    [Fact]
    public void AMultiBlockFitAgreesWithAnIndependentQr()
    {
        var (data, model) = Tall(25_000, 5, 11);
        var design = DesignMatrix.Build(data, model);
        var fit = OlsFit.Fit(design);
        int n = design.N,
            k = design.K;
        var x = Matrix<double>.Build.Dense(n, k, design.Values);
        var y = Vector<double>.Build.DenseOfArray(design.Y);
        var qr = x.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        var beta = qr.Solve(y);
        for (int j = 0; j < k; j++)
            Assert.True(
                Math.Abs(beta[j] - fit.Beta[j]) <= 1e-10 * Math.Abs(beta[j]),
                $"beta{j}: {beta[j]} vs {fit.Beta[j]}"
            );
        var e = y - x * beta;
        for (int i = 0; i < n; i += 997)
            Assert.True(Math.Abs(e[i] - fit.Residuals[i]) <= 1e-9 * (1 + Math.Abs(e[i])), $"e{i}");
        var q = qr.Q;
        for (int i = 0; i < n; i += 997)
        {
            double h = q.Row(i).DotProduct(q.Row(i));
            Assert.True(Math.Abs(h - fit.Leverage[i]) <= 1e-12, $"h{i}: {h} vs {fit.Leverage[i]}");
        }
    }

    [Fact]
    public void ACancelledFitStopsWithOperationCanceled()
    {
        var (data, model) = Tall(20_000, 3, 3);
        var design = DesignMatrix.Build(data, model);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => OlsFit.Fit(design, FitOptions.Default, cts.Token));
    }

    [Theory]
    [InlineData(12, 4, 1)]
    [InlineData(50, 7, 2)]
    [InlineData(9, 9, 3)]
    public void HouseholderQrReproducesXWithOrthonormalQAndTriangularRAndLeavesTheInputAlone(int n, int p, int seed)
    {
        var rng = new Random(seed);
        var cols = Enumerable
            .Range(0, p)
            .Select(_ => Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 10 - 5).ToArray())
            .ToArray();
        var copy = cols.Select(c => (double[])c.Clone()).ToArray();
        var qr = HouseholderQr.Factor(cols);
        Assert.Equal(p, qr.Rank);
        for (int j = 0; j < p; j++)
            Assert.Equal(copy[j], cols[j]);
        var q = qr.ThinQ();
        for (int a = 0; a < p; a++)
        {
            for (int b = 0; b < p; b++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++)
                    dot += q[a][i] * q[b][i];
                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-13, $"Q'Q[{a},{b}] = {dot}");
                if (a > b)
                    Assert.Equal(0.0, qr.R[a, b]);
            }
        }
        for (int j = 0; j < p; j++)
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int l = 0; l <= j; l++)
                    s += q[l][i] * qr.R[l, j];
                Assert.True(Math.Abs(s - cols[j][i]) < 1e-12 * 10, $"(QR)[{i},{j}] = {s}, X = {cols[j][i]}");
            }
    }
}
