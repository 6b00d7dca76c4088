using System.Text.Json;
using ResilienceGrpc.Regression.Domain;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// OLS against R 4.2.2 (lm + sandwich::vcovHC + lmtest::coeftest), cross-checked by
/// statsmodels and exact rational arithmetic; Longley's numbers are the exact values.
/// Tolerances (the issue's): 1e-9 relative for coefficients, SEs, t, R², adj. R², F;
/// p-values 1e-7 relative or 1e-12 absolute.
/// </summary>
public class RegressionReferenceTests
{
    public const double Rel = 1e-9;
    public const double PRel = 1e-7;
    public const double PAbs = 1e-12;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in new[] { "longley", "longley_rscale", "stackloss", "city38", "city38_interact" })
            foreach (var v in new[] { "nonrobust", "HC0", "HC1", "HC2", "HC3" })
                data.Add(c, v);
        return data;
    }

    internal static RegressionReport Fit(JsonElement json, CovarianceType type, RegressionOptions? options = null)
    {
        string file = json.GetProperty("data").GetString()!;
        string y = json.GetProperty("y").GetString()!;
        var x = json.GetProperty("x").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var columns = x.Prepend(y).Select(name => new NamedColumn(name, Reference.Column(file, name))).ToList();
        var (header, rows) = Reference.Csv(file);
        int city = Array.IndexOf(header, "city");
        var ids = city >= 0 ? rows.Select(r => r[city]).ToArray() : null;
        return RegressionAnalysis.Run(
            new RegressionData(columns, ids),
            new ModelSpec(y, x),
            (options ?? new RegressionOptions()) with
            {
                Covariance = type,
            }
        );
    }

    internal static CovarianceType Parse(string v) =>
        v switch
        {
            "nonrobust" => CovarianceType.Classical,
            "HC0" => CovarianceType.HC0,
            "HC1" => CovarianceType.HC1,
            "HC2" => CovarianceType.HC2,
            "HC3" => CovarianceType.HC3,
            _ => throw new ArgumentException(v),
        };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CoefficientsStandardErrorsTAndPMatchTheReference(string caseName, string vce)
    {
        var json = Reference.Json(caseName);
        var report = Fit(json, Parse(vce));
        Assert.Equal(json.GetProperty("n").GetInt32(), report.Fit.N);
        Assert.Equal(json.GetProperty("df_resid").GetInt32(), report.Fit.DfResid);
        foreach (var c in report.Inference.Coefficients)
        {
            Reference.Close(
                json.GetProperty("coef").GetProperty(c.Term).GetDouble(),
                c.Estimate,
                Rel,
                $"{caseName} coef {c.Term}"
            );
            Reference.Close(
                json.GetProperty("se").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.StdError,
                Rel,
                $"{caseName} {vce} se {c.Term}"
            );
            Reference.Close(
                json.GetProperty("t").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.TValue,
                Rel,
                $"{caseName} {vce} t {c.Term}"
            );
            Reference.Close(
                json.GetProperty("p").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.PValue,
                PRel,
                $"{caseName} {vce} p {c.Term}",
                PAbs
            );
        }
    }

    [Theory]
    [InlineData("longley")]
    [InlineData("longley_rscale")]
    [InlineData("stackloss")]
    [InlineData("city38")]
    [InlineData("city38_interact")]
    public void RSquaredAndBothFStatisticsMatchTheReference(string caseName)
    {
        var json = Reference.Json(caseName);
        var classical = Fit(json, CovarianceType.Classical);
        Reference.Close(json.GetProperty("r2").GetDouble(), classical.Fit.RSquared, Rel, $"{caseName} R²");
        Reference.Close(json.GetProperty("adj_r2").GetDouble(), classical.Fit.AdjRSquared, Rel, $"{caseName} adj. R²");
        Reference.Close(
            json.GetProperty("f_nonrobust").GetDouble(),
            classical.Inference.FTest.Statistic,
            Rel,
            $"{caseName} classical F"
        );
        Assert.False(classical.Inference.FTest.Robust);
        var hc1 = Fit(json, CovarianceType.HC1);
        Reference.Close(
            json.GetProperty("f_HC1").GetDouble(),
            hc1.Inference.FTest.Statistic,
            Rel,
            $"{caseName} HC1 Wald F"
        );
        Assert.True(hc1.Inference.FTest.Robust);
        Assert.Equal(json.GetProperty("x").GetArrayLength(), hc1.Inference.FTest.DfNum);
        Assert.Equal(json.GetProperty("df_resid").GetInt32(), hc1.Inference.FTest.DfDen);
    }

    /// <summary>NIST StRD Longley certified values (15 significant digits as published), at 1e-9 relative.</summary>
    [Fact]
    public void LongleyMatchesNistCertifiedValues()
    {
        var json = Reference.Json("longley");
        var nist = json.GetProperty("nist_certified");
        var report = Fit(json, CovarianceType.Classical);
        foreach (var c in report.Inference.Coefficients)
        {
            Reference.Close(
                nist.GetProperty("coef").GetProperty(c.Term).GetDouble(),
                c.Estimate,
                Rel,
                $"NIST coef {c.Term}"
            );
            Reference.Close(
                nist.GetProperty("se").GetProperty(c.Term).GetDouble(),
                c.StdError,
                Rel,
                $"NIST se {c.Term}"
            );
        }
        Reference.Close(
            nist.GetProperty("residual_sd").GetDouble(),
            Math.Sqrt(report.Fit.Sigma2),
            Rel,
            "NIST residual SD"
        );
        Reference.Close(nist.GetProperty("r2").GetDouble(), report.Fit.RSquared, Rel, "NIST R²");
        Reference.Close(nist.GetProperty("f").GetDouble(), report.Inference.FTest.Statistic, Rel, "NIST F");
    }

    [Fact]
    public void ListwiseDeletionDropsTheThreeIncompleteCities()
    {
        var report = Fit(Reference.Json("city38"), CovarianceType.HC1);
        Assert.Equal(new[] { "City09", "City21", "City33" }, report.Design.DroppedRowIds);
    }
}
