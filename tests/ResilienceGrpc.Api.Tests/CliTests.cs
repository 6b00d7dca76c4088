using System.Globalization;
using Google.Protobuf;
using ResilienceGrpc.Cli;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The <c>resilience</c> command line, run in-process, in embedded mode (it hosts the
/// service on loopback itself) and in remote mode (against a service started here):
/// the numbers must match the reference cases, and bad files one clear line.
/// </summary>
public partial class CliTests(ServiceStack services) : IClassFixture<ServiceStack>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    internal static Task<(int Exit, string Out, string Err)> Run(params string[] args) => CliRunner.Run(args);

    private static string Ref(string file) => Path.Combine(Reference.Dir, file);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Catalogue(string caseName)
    {
        var json = Reference.Json(caseName);
        var lines = json.GetProperty("indicators")
            .EnumerateArray()
            .Select(e =>
                $"{e.GetProperty("name").GetString()},{e.GetProperty("dimension").GetString()},{e.GetProperty("direction").GetString()}"
            );
        return Write(caseName + "_catalogue.csv", "indicator,dimension,direction\n" + string.Join("\n", lines) + "\n");
    }

    private static void AssertOneLineError(string err) => CliRunner.AssertOneSentence(err);

    [Theory]
    [InlineData("city38", "hc1", false)]
    [InlineData("city38", "hc3", true)]
    [InlineData("longley", "classical", false)]
    [InlineData("stackloss", "hc2", true)]
    [InlineData("city38_interact", "hc0", false)]
    public async Task RegressGivesTheReferenceNumbersEmbeddedAndRemote(string caseName, string vce, bool remote)
    {
        var json = Reference.Json(caseName);
        var x = string.Join(",", json.GetProperty("x").EnumerateArray().Select(e => e.GetString()));
        var args = new List<string>
        {
            "regress",
            "--data",
            Ref(json.GetProperty("data").GetString()!),
            "--y",
            json.GetProperty("y").GetString()!,
            "--x",
            x,
            "--vce",
            vce,
            "--format",
            "json",
        };
        if (remote)
            args.AddRange(["--regression", services.Regression.Address.ToString()]);
        var (exit, stdout, stderr) = await Run([.. args]);
        Assert.True(exit == 0, stderr);
        var r = JsonParser.Default.Parse<FitResponse>(stdout);
        string key = vce switch
        {
            "classical" => "nonrobust",
            _ => vce.ToUpperInvariant(),
        };
        Assert.Equal(json.GetProperty("n").GetInt32(), r.Model.NObs);
        Requests.AssertMatches(
            json,
            key,
            r.Coefficients.Select(c => (c.Term, c.Estimate, c.StdError, c.TValue, c.PValue))
        );
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task IndexGivesTheReferenceNumbersEmbeddedAndRemote(bool remote)
    {
        const string caseName = "entropy_38x20";
        var json = Reference.Json(caseName);
        var args = new List<string>
        {
            "index",
            "--data",
            Ref("entropy_38x20.csv"),
            "--catalogue",
            Catalogue(caseName),
            "--format",
            "json",
        };
        if (remote)
            args.AddRange(["--indexing", services.Indexing.Address.ToString()]);
        var (exit, stdout, stderr) = await Run([.. args]);
        Assert.True(exit == 0, stderr);
        var r = JsonParser.Default.Parse<ComputeIndexResponse>(stdout);
        foreach (var w in r.Indicators)
            Reference.Close(
                json.GetProperty("weights").GetProperty(w.Id).GetDouble(),
                w.Weight,
                1e-10,
                $"weight {w.Id}"
            );
        var composite = json.GetProperty("scores")
            .GetProperty("composite")
            .EnumerateArray()
            .Select(e => e.GetDouble())
            .ToArray();
        for (int i = 0; i < composite.Length; i++)
            Reference.Close(composite[i], r.Units[i].Composite, 1e-10, $"composite {i}");
    }

    private string AnnualLongCsv()
    {
        var (header, rows) = Reference.Csv("export_annual.csv");
        var lines = rows.SelectMany(r => header.Skip(1).Select((h, j) => $"{r[0]},{h.TrimStart('E')},{r[j + 1]}"));
        return Write("annual.csv", "city,period,exports\n" + string.Join("\n", lines) + "\n");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProjectGivesTheReferenceNumbersEmbeddedAndRemote(bool remote)
    {
        var json = Reference.Json("export_annual");
        var args = new List<string> { "project", "--exports", AnnualLongCsv(), "--format", "json" };
        if (remote)
            args.AddRange(["--projection", services.Projection.Address.ToString()]);
        var (exit, stdout, stderr) = await Run([.. args]);
        Assert.True(exit == 0, stderr);
        var r = JsonParser.Default.Parse<ProjectExportsResponse>(stdout);
        Assert.Equal(5, r.Cities.Count);
        foreach (var c in r.Cities)
        {
            var e = json.GetProperty("results").GetProperty(c.CityId);
            Reference.Close(e.GetProperty("cagr").GetDouble(), c.BaseGrowth, 1e-12, $"{c.CityId} cagr");
            Reference.Close(e.GetProperty("ratio").GetDouble(), c.Ratio, 1e-12, $"{c.CityId} ratio");
            Reference.Close(e.GetProperty("growth_2020").GetDouble(), c.GrowthRate, 1e-12, $"{c.CityId} growth");
        }
    }

    [Fact]
    public async Task ProjectAlsoReadsAWideTableWithOneColumnPerYear()
    {
        // export_annual.csv as shipped: city,E2015,...,E2020.
        var json = Reference.Json("export_annual");
        var (exit, stdout, stderr) = await Run("project", "--exports", Ref("export_annual.csv"), "--format", "json");
        Assert.True(exit == 0, stderr);
        var r = JsonParser.Default.Parse<ProjectExportsResponse>(stdout);
        foreach (var c in r.Cities)
            Reference.Close(
                json.GetProperty("results").GetProperty(c.CityId).GetProperty("ratio").GetDouble(),
                c.Ratio,
                1e-12,
                $"{c.CityId} ratio"
            );
    }

    [Fact]
    public async Task YearToDateCumulativeExportsGiveTheSameResultAsTheirMonths()
    {
        var series = new[] { Requests.Monthly("wuhan"), Requests.Monthly("xiamen", 300) };
        var monthly = new List<string> { "city,period,exports" };
        var cumulative = new List<string> { "city,period,exports" };
        foreach (var s in series)
        {
            double running = 0;
            for (int t = 0; t < s.Periods.Count; t++)
            {
                if (s.Periods[t].EndsWith("-01", StringComparison.Ordinal))
                    running = 0;
                running += s.Values[t];
                monthly.Add(string.Create(CultureInfo.InvariantCulture, $"{s.CityId},{s.Periods[t]},{s.Values[t]:R}"));
                cumulative.Add(string.Create(CultureInfo.InvariantCulture, $"{s.CityId},{s.Periods[t]},{running:R}"));
            }
        }
        var m = await Run("project", "--exports", Write("monthly.csv", string.Join("\n", monthly)), "--format", "json");
        var c = await Run(
            "project",
            "--exports",
            Write("ytd.csv", string.Join("\n", cumulative)),
            "--cumulative",
            "--format",
            "json"
        );
        Assert.True(m.Exit == 0 && c.Exit == 0, m.Err + c.Err);
        var rm = JsonParser.Default.Parse<ProjectExportsResponse>(m.Out);
        var rc = JsonParser.Default.Parse<ProjectExportsResponse>(c.Out);
        for (int i = 0; i < 2; i++)
        {
            Reference.Close(rm.Cities[i].Ratio, rc.Cities[i].Ratio, 1e-12, "ratio");
            Assert.Equal(rm.Cities[i].Recovery.Months, rc.Cities[i].Recovery.Months);
            Assert.Equal(4, rc.Cities[i].Recovery.Months);
        }
    }

    [Theory]
    [InlineData("markdown", "| term |")]
    [InlineData("latex", @"\toprule")]
    [InlineData("csv", "term,coef,std_err,t,p,ci_low,ci_high,sig")]
    [InlineData("table", "OLS: ln_resexport (N = 35)")]
    public async Task RegressPrintsEveryFormat(string format, string marker)
    {
        var (exit, stdout, stderr) = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity,ln_x",
            "--format",
            format
        );
        Assert.True(exit == 0, stderr);
        Assert.Contains(marker, stdout);
    }

    [Fact]
    public async Task CsvOutputCarriesFullPrecision()
    {
        var (exit, stdout, _) = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity,ln_x",
            "--format",
            "csv"
        );
        Assert.Equal(0, exit);
        var row = stdout.Split('\n').Single(l => l.StartsWith("ln_rescity,", StringComparison.Ordinal)).Split(',');
        Reference.Close(
            Reference.Json("city38").GetProperty("coef").GetProperty("ln_rescity").GetDouble(),
            double.Parse(row[1], CultureInfo.InvariantCulture),
            1e-12,
            "csv coef"
        );
    }
}
