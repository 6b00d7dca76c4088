using System.Xml.Linq;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The static SVG figures beside report.html: each is well-formed SVG, and each carries
/// what its data say (every indicator, every city and tier, every model of the outcome, the
/// number of fitted specifications) in the Okabe–Ito colours. Checked against results.json.
/// </summary>
public sealed class FigureFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-svg-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task EveryFigureIsWrittenAsSvgWithWhatItsDataSay()
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            """{"bootstrap": {"replications": 0}, "multiverse": {"dropOneCity": false}}"""
        );
        var (exit, stdout, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "results.json")));

        string Text(string name)
        {
            var path = Path.Combine(_dir, name);
            Assert.True(File.Exists(path), name);
            var doc = XDocument.Load(path);
            Assert.Equal("svg", doc.Root!.Name.LocalName);
            Assert.Contains(name, stdout + err); // listed among the files written
            return string.Join("\n", doc.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()));
        }

        var weights = Text("fig-weights.svg");
        foreach (var i in report.Tables.Single(t => t.Id == "weights").Weights.Indicators)
            Assert.Contains(i.Label.Length > 0 ? i.Label : i.Id, weights);

        var scatter = Text("fig-scatter.svg");
        foreach (var tier in report.Cities.Select(c => c.Tier).Distinct())
            Assert.Contains("tier: " + tier, scatter);
        foreach (var city in report.Cities)
            Assert.Contains(city.Name, scatter);
        string scatterXml = File.ReadAllText(Path.Combine(_dir, "fig-scatter.svg")).ToUpperInvariant();
        Assert.Contains("#0072B2", scatterXml);
        Assert.Contains("#E69F00", scatterXml);

        var coefficients = Text("fig-coefficients.svg");
        foreach (var t in report.Tables)
            foreach (var m in t.Models.Where(m => m.Spec.Dependent == report.Manifest.Spec.Outcome && m.Fit?.Coefficients.Count > 0))
                Assert.Contains($"{t.Id} {m.Spec.Label}: {m.Fit.Coefficients[0].Term}", coefficients);

        var curve = Text("fig-curve.svg");
        int fitted = report.Multiverse.Specifications.Count(s => s.Error.Length == 0);
        Assert.Contains($"across {fitted:N0} specifications", curve);

        Assert.Contains("Actual / expected exports", Text("fig-ratios.svg"));
    }

    [CjkFontFact]
    public async Task ChineseCityNamesAreWrittenIntoTheScatter()
    {
        // ScottPlot writes an SVG's text in the plot's font and leaves out the characters it
        // lacks: in DejaVu Serif, "北京" came out as an empty label.
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        foreach (var (name, bytes) in ResilienceGrpc.Client.Sample.BundledSample.Files())
            File.WriteAllBytes(Path.Combine(data, name), bytes);
        var cities = Path.Combine(data, "cities.csv");
        File.WriteAllText(
            cities,
            File.ReadAllText(cities)
                .Replace("beijing,Beijing,", "beijing,北京,", StringComparison.Ordinal)
                .Replace("shanghai,Shanghai,", "shanghai,上海,", StringComparison.Ordinal)
        );
        var catalogue = Path.Combine(data, "catalogue.csv");
        File.WriteAllText(
            catalogue,
            File.ReadAllText(catalogue).Replace("\"Urbanization rate\"", "城镇化率", StringComparison.Ordinal)
        );
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            """
            {"bootstrap": {"replications": 0}, "multiverse": {"disabled": true}, "outcome": "ln_resexport",
             "tables": [{"id": "baseline"}, {"id": "mine", "regressions": [{"label": "基准", "dependent": "ln_resexport", "regressors": ["ln_rescity"]}]}]}
            """
        );
        var (exit, _, err) = await CliRunner.Run("study", "--data", data, "--spec", spec, "--out", Path.Combine(_dir, "out"));
        Assert.True(exit == 0, err);
        List<XElement> Texts(string figure) =>
            XDocument.Load(Path.Combine(_dir, "out", figure)).Descendants().Where(e => e.Name.LocalName == "text").ToList();
        void Written(string figure, params string[] expected)
        {
            var texts = Texts(figure);
            foreach (var e in expected)
            {
                var text = texts.FirstOrDefault(t => t.Value.Contains(e, StringComparison.Ordinal));
                Assert.True(text is not null, $"'{e}' is not in {figure}");
                if (e.Any(c => c > '\u3000'))
                    Assert.DoesNotContain("DejaVu", text.Attribute("font-family")!.Value, StringComparison.Ordinal);
            }
        }
        Written("fig-scatter.svg", "北京", "上海", "Guangzhou");
        Written("fig-weights.svg", "城镇化率");
        Written("fig-coefficients.svg", "mine 基准: ln_rescity");
        // A figure of Latin text only keeps the figures' own font.
        Assert.All(Texts("fig-ratios.svg"), t => Assert.Equal("DejaVu Serif", t.Attribute("font-family")?.Value));
    }
}

/// <summary>
/// A fact that needs an installed font with Chinese glyphs (Debian's fonts-arphic-*, which
/// texlive-lang-chinese brings): skipped without one, unless REQUIRE_CJK_FONT=1.
/// </summary>
public sealed class CjkFontFactAttribute : FactAttribute
{
    public CjkFontFactAttribute() =>
        Skip = ToolRequirement.SkipReason(
            SkiaSharp.SKFontManager.Default.FontFamilies.Any(f =>
            {
                using var t = SkiaSharp.SKTypeface.FromFamilyName(f);
                return t is not null && t.ContainsGlyphs("北京上海");
            }),
            "REQUIRE_CJK_FONT",
            "no installed font has Chinese glyphs (Debian's fonts-arphic-gbsn00lp, which texlive-lang-chinese brings)"
        );
}
