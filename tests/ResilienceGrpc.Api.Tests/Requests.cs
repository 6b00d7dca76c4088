using System.Text.Json;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;

namespace ResilienceGrpc.Api.Tests;

/// <summary>Requests built from the reference cases, and small well-formed requests to break.</summary>
public static class Requests
{
    public static ComputeIndexRequest Index(string caseName, WeightingMethod method = WeightingMethod.Entropy)
    {
        var json = Reference.Json(caseName);
        string file = json.GetProperty("data").GetString()!;
        var (_, rows) = Reference.Csv(file);
        var request = new ComputeIndexRequest { Method = method, UnitIds = { rows.Select(r => r[0]) } };
        foreach (var e in json.GetProperty("indicators").EnumerateArray())
        {
            string name = e.GetProperty("name").GetString()!;
            request.Indicators.Add(
                new Indicator
                {
                    Id = name,
                    Dimension = e.GetProperty("dimension").GetString()!,
                    Direction =
                        e.GetProperty("direction").GetString() == "negative" ? Direction.Negative : Direction.Positive,
                    Values = { Reference.Column(file, name) },
                }
            );
        }
        return request;
    }

    public static ProjectExportsRequest AnnualExports()
    {
        var (header, rows) = Reference.Csv("export_annual.csv");
        var request = new ProjectExportsRequest { Kind = SeriesKind.Annual, GrowthMethod = GrowthMethod.Geometric };
        foreach (var r in rows)
            request.Series.Add(
                new ExportSeries
                {
                    CityId = r[0],
                    Periods = { header.Skip(1).Select(h => h.TrimStart('E')) },
                    Values = { r.Skip(1).Select(Reference.Number) },
                }
            );
        return request;
    }

    /// <summary>A monthly series 2015-01..2021-12: 5% a year with seasonality; 2020-02..05 below trend, 2020-06 on 10% above (recovery N = 4).</summary>
    public static ExportSeries Monthly(string city, double level = 100)
    {
        var s = new ExportSeries { CityId = city };
        for (int y = 2015; y <= 2021; y++)
            for (int m = 1; m <= 12; m++)
            {
                double v = level * Math.Pow(1.05, y - 2015) * (1 + 0.2 * Math.Sin(m));
                if (y == 2020 && m == 1)
                    v *= 1.02;
                if (y == 2020 && m is >= 2 and <= 4)
                    v *= 0.6;
                if (y == 2020 && m == 5)
                    v *= 0.95;
                if ((y == 2020 && m >= 6) || y == 2021)
                    v *= 1.1;
                s.Periods.Add($"{y}-{m:D2}");
                s.Values.Add(v);
            }
        return s;
    }

    public static FitRequest Fit(string caseName, CovarianceType type)
    {
        var json = Reference.Json(caseName);
        string file = json.GetProperty("data").GetString()!;
        string y = json.GetProperty("y").GetString()!;
        var x = json.GetProperty("x").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var request = new FitRequest
        {
            Dependent = y,
            Regressors = { x },
            CovarianceType = type,
        };
        foreach (var name in x.Prepend(y))
            request.Columns.Add(new Column { Name = name, Values = { Reference.Column(file, name) } });
        return request;
    }

    public static string Vce(CovarianceType t) =>
        t switch
        {
            CovarianceType.Classical => "nonrobust",
            CovarianceType.Hc0 => "HC0",
            CovarianceType.Hc1 => "HC1",
            CovarianceType.Hc2 => "HC2",
            _ => "HC3",
        };

    /// <summary>Asserts a regression response against a reference case (coefficients, SEs, t at 1e-9; p at 1e-7 or 1e-12).</summary>
    public static void AssertMatches(
        JsonElement json,
        string vce,
        IEnumerable<(string Term, double Estimate, double Se, double T, double P)> coefs
    )
    {
        foreach (var c in coefs)
        {
            Reference.Close(
                json.GetProperty("coef").GetProperty(c.Term).GetDouble(),
                c.Estimate,
                1e-9,
                $"coef {c.Term}"
            );
            Reference.Close(
                json.GetProperty("se").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.Se,
                1e-9,
                $"{vce} se {c.Term}"
            );
            Reference.Close(
                json.GetProperty("t").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.T,
                1e-9,
                $"{vce} t {c.Term}"
            );
            Reference.Close(
                json.GetProperty("p").GetProperty(vce).GetProperty(c.Term).GetDouble(),
                c.P,
                1e-7,
                $"{vce} p {c.Term}",
                1e-12
            );
        }
    }
}
