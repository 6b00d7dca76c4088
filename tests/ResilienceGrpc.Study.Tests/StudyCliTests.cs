using Google.Protobuf;
using ResilienceGrpc.Cli;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Sample;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary><c>resilience study</c> and <c>resilience sample</c> from the command line.</summary>
public class StudyCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-study-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    internal static Task<(int Exit, string Out, string Err)> Run(params string[] args) => CliRunner.Run(args);

    private static void AssertOneSentence(string err) => CliRunner.AssertOneSentence(err);

    [Fact]
    public async Task TheStudyCommandWritesTheFullReportEmbedded()
    {
        var outDir = Path.Combine(_dir, "report");
        var (exit, stdout, stderr) = await Run("study", "--out", outDir);
        Assert.True(exit == 0, stderr);
        foreach (var f in new[] { "report.html", "report.md", "tables.tex", "results.json", "manifest.json" })
            Assert.True(new FileInfo(Path.Combine(outDir, f)).Length > 0, f);

        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(outDir, "results.json")));
        foreach (var id in StudyTests.StableIds)
            Assert.Contains(report.Tables, t => t.Id == id);
        var manifest = JsonParser.Default.Parse<Manifest>(File.ReadAllText(Path.Combine(outDir, "manifest.json")));
        Assert.Equal(4, manifest.Inputs.Count(i => i.Name.EndsWith(".csv", StringComparison.Ordinal)));
        Assert.Equal("HC1".Length > 0, manifest.Spec.Tables.Count > 0);

        var tex = File.ReadAllText(Path.Combine(outDir, "tables.tex"));
        Assert.Contains(@"\toprule", tex);
        Assert.Contains(@"\label{tab:baseline}", tex);
        var md = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("SYNTHETIC DATA", md);
        Assert.Contains("Table 2. Baseline", stdout);
        Assert.Contains("SYNTHETIC", File.ReadAllText(Path.Combine(outDir, "report.html")));
    }

    [Fact]
    public async Task TheDocumentedMultiverseSpecWritesItsCurveAndEverySpecificationAsCsv()
    {
        string root = Repository.Root;
        var outDir = Path.Combine(_dir, "curve");
        var (exit, stdout, stderr) = await Run(
            "study",
            "--spec",
            Path.Combine(root, "docs", "examples", "multiverse.json"),
            "--out",
            outDir
        );
        Assert.True(exit == 0, stderr);
        Assert.Contains("multiverse.csv", stderr);
        Assert.Contains("Specification curve", stdout);

        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var specs = report.Multiverse.Specifications;
        // 3 weightings × 2 scorings × 2 growth methods × 2 windows × 2 covariances × 2 control sets × 39 samples.
        Assert.Equal(3 * 2 * 2 * 2 * 2 * 2 * 39, specs.Count);
        var lines = File.ReadAllLines(Path.Combine(outDir, "multiverse.csv"));
        Assert.StartsWith("id,baseline,weighting,", lines[0]);
        Assert.Equal(specs.Count + 1, lines.Length);
        for (int i = 0; i < specs.Count; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(specs[i].Id, cells[0]);
            Assert.Equal(specs[i].Estimate, double.Parse(cells[9], System.Globalization.CultureInfo.InvariantCulture)); // full precision
        }
        Assert.Single(lines, l => l.Split(',')[1] == "true");
        Assert.Contains("id=\"fig-curve\"", File.ReadAllText(Path.Combine(outDir, "report.html")));
        Assert.Contains("Specification curve", File.ReadAllText(Path.Combine(outDir, "report.md")));
        Assert.Contains(@"\label{tab:multiverse}", File.ReadAllText(Path.Combine(outDir, "tables.tex")));
    }

    [Fact]
    public async Task TheReportNeverWritesThroughASymlinkAndKeepsAHostileTitleOnItsLine()
    {
        var outDir = Path.Combine(_dir, "planted");
        Directory.CreateDirectory(outDir);
        var victim = Path.Combine(_dir, "victim.txt");
        File.WriteAllText(victim, "precious");
        File.CreateSymbolicLink(Path.Combine(outDir, "report.html"), victim);
        File.CreateSymbolicLink(Path.Combine(outDir, "tables.tex"), victim);
        var spec = Path.Combine(_dir, "title.json");
        File.WriteAllText(
            spec,
            """
            {"title": "Evil\n\\input{/etc/passwd} & 100% <b>", "bootstrap": {"replications": 0}, "multiverse": {"disabled": true},
             "tables": [{"id": "mine", "title": "<img src=x onerror=alert(1)> | a\\", "regressions": [
               {"label": "<script>alert(2)</script>", "dependent": "ln_resexport", "regressors": ["ln_rescity"]}]}]}
            """
        );

        var (exit, _, stderr) = await Run("study", "--spec", spec, "--out", outDir);
        Assert.True(exit == 0, stderr);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(Path.Combine(outDir, "report.html")).LinkTarget); // replaced by a real file
        Assert.Empty(Directory.GetFiles(outDir, ".*.tmp"));

        var tex = File.ReadAllLines(Path.Combine(outDir, "tables.tex"));
        Assert.DoesNotContain(tex, l => l.StartsWith(@"\input", StringComparison.Ordinal));
        Assert.StartsWith("% Evil", tex[0]);
        var md = File.ReadAllLines(Path.Combine(outDir, "report.md"));
        Assert.StartsWith("# Evil", md[0]);
        // report.md through a CommonMark renderer that passes raw HTML on (as GitHub's and pandoc's
        // do before sanitising): the hostile title, table title and label are text, not elements,
        // and the pipe leaves the table's columns as they are.
        var html = Markdig.Markdown.ToHtml(
            string.Join('\n', md),
            Markdig.MarkdownExtensions.UsePipeTables(new Markdig.MarkdownPipelineBuilder()).Build()
        );
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt; | a\\", html);
        Assert.Contains("&lt;script&gt;alert(2)&lt;/script&gt;", html);
        Assert.Contains("<h1>Evil \\input{/etc/passwd} &amp; 100% &lt;b&gt;</h1>", html);
        Assert.DoesNotContain(
            "<b>",
            File.ReadAllText(Path.Combine(outDir, "report.html")).Split("<title>")[1].Split("</title>")[0]
        );
    }

    [Fact]
    public async Task TheGeneratorReproducesTheBundledSampleByteForByte()
    {
        var (exit, _, stderr) = await Run("sample", "--out", _dir, "--seed", "20200123");
        Assert.True(exit == 0, stderr);
        foreach (var (name, bytes) in BundledSample.Files())
            Assert.True(
                bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_dir, name))),
                $"{name} differs from what the generator writes"
            );
    }

    [Fact]
    public async Task RealDataOfTheSameShapeLoadsThroughTheSameLoaders()
    {
        // "Real" data: the sample's files without the synthetic label.
        var data = Path.Combine(_dir, "city-data");
        Directory.CreateDirectory(data);
        foreach (
            var (name, bytes) in BundledSample.Files().Where(f => f.Key.EndsWith(".csv", StringComparison.Ordinal))
        )
            File.WriteAllLines(
                Path.Combine(data, name),
                System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Where(l => !l.StartsWith('#') && l.Length > 0)
            );
        var (exit, _, stderr) = await Run(
            "study",
            "--data",
            data,
            "--out",
            Path.Combine(_dir, "out"),
            "--format",
            "json"
        );
        Assert.True(exit == 0, stderr);
        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "out", "results.json")));
        Assert.False(report.Synthetic);
        Assert.Equal("city-data", report.Manifest.DataLabel);
        Assert.DoesNotContain("SYNTHETIC", File.ReadAllText(Path.Combine(_dir, "out", "report.md")));
    }

    [Fact]
    public void FilesSavedWithAByteOrderMarkAndCrLfLoadAsTheOriginals()
    {
        // Excel's "CSV UTF-8" writes a byte-order mark, and Windows line ends are CR LF; the mark
        // used to hide the sample's leading comment line, which was then read as the header.
        var originals = BundledSample.Files();
        var saved = originals.ToDictionary(
            f => f.Key,
            f =>
                f.Key.EndsWith(".csv", StringComparison.Ordinal)
                    ? System
                        .Text.Encoding.UTF8.GetPreamble()
                        .Concat(
                            System.Text.Encoding.UTF8.GetBytes(
                                System.Text.Encoding.UTF8.GetString(f.Value).Replace("\n", "\r\n", StringComparison.Ordinal)
                            )
                        )
                        .ToArray()
                    : f.Value
        );
        Assert.All(saved.Where(f => f.Key.EndsWith(".csv", StringComparison.Ordinal)), f => Assert.Equal(0xEF, f.Value[0]));
        var expected = StudyDataFolder.FromFiles(originals, "sample", "sample");
        var loaded = StudyDataFolder.FromFiles(saved, "sample", "sample");
        // The inputs' hashes and sizes are of the bytes as saved; everything read from them is the same.
        Assert.Equal(expected.Inputs.Select(i => i.Name), loaded.Inputs.Select(i => i.Name));
        expected.Inputs.Clear();
        loaded.Inputs.Clear();
        Assert.Equal(expected, loaded);
    }

    [Fact]
    public void ExportRowsInAnyOrderLoadAsInTimeOrderAndARepeatedPeriodIsLocated()
    {
        var originals = BundledSample.Files();
        var lines = System.Text.Encoding.UTF8.GetString(originals["exports.csv"]).Split('\n');
        var header = lines.TakeWhile(l => !l.StartsWith("city,", StringComparison.Ordinal) || l.StartsWith('#')).Count() + 1;
        var rows = lines.Skip(header).Where(l => l.Length > 0).ToArray();
        string Exports(IEnumerable<string> body) => string.Join('\n', lines.Take(header).Concat(body)) + "\n";
        var files = new Dictionary<string, byte[]>(originals);

        // Newest first: the projection needs each city's periods in time order.
        files["exports.csv"] = System.Text.Encoding.UTF8.GetBytes(Exports(rows.Reverse()));
        var expected = StudyDataFolder.FromFiles(originals, "sample", "sample");
        var loaded = StudyDataFolder.FromFiles(files, "sample", "sample");
        Assert.Equal(expected.Exports, loaded.Exports);

        // A period given twice for a city: both lines named.
        files["exports.csv"] = System.Text.Encoding.UTF8.GetBytes(Exports(rows.Append(rows[14])));
        var e = Assert.Throws<DataFileException>(() => StudyDataFolder.FromFiles(files, "sample", "sample"));
        Assert.Contains($"line {header + rows.Length + 1}", e.Message);
        Assert.Contains($"also on line {header + 15}", e.Message);
        Assert.Contains(rows[14].Split(',')[1], e.Message);

        // A month that is no month.
        files["exports.csv"] = System.Text.Encoding.UTF8.GetBytes(
            Exports(rows.Select((r, i) => i == 3 ? r.Replace("-04,", "-13,", StringComparison.Ordinal) : r))
        );
        e = Assert.Throws<DataFileException>(() => StudyDataFolder.FromFiles(files, "sample", "sample"));
        Assert.Contains($"line {header + 4}", e.Message);
        Assert.Contains("01 to 12", e.Message);
    }

    [Fact]
    public async Task AMissingDataFolderIsOneSentence()
    {
        var (exit, _, err) = await Run(
            "study",
            "--data",
            Path.Combine(_dir, "nowhere"),
            "--out",
            Path.Combine(_dir, "o")
        );
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneSentence(err);
        Assert.Contains("nowhere", err);
    }

    [Fact]
    public async Task AFileWithAWrongColumnIsOneSentence()
    {
        var data = Path.Combine(_dir, "bad");
        Directory.CreateDirectory(data);
        foreach (var (name, bytes) in BundledSample.Files())
            File.WriteAllBytes(Path.Combine(data, name), bytes);
        var cities = File.ReadAllText(Path.Combine(data, "cities.csv"))
            .Replace("city,name,tier,density", "city,name,tier,popdensity");
        File.WriteAllText(Path.Combine(data, "cities.csv"), cities);
        var (exit, _, err) = await Run("study", "--data", data, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneSentence(err);
        Assert.Contains("cities.csv", err);
        Assert.Contains("'density'", err);
    }

    [Theory]
    [InlineData("{\"tables\":[{\"id\":\"table_9\"}]}", "table_9")]
    [InlineData("{\"outcome\":\"ln_gdp\"}", "ln_gdp")]
    [InlineData("{\"tabels\":[]}", "tabels")]
    [InlineData("{\"tables\":[", "JSON")]
    public async Task ABadSpecIsOneSentence(string json, string named)
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, json);
        var (exit, _, err) = await Run("study", "--spec", spec, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneSentence(err);
        Assert.Contains(named, err);
    }

    [Fact]
    public async Task PrintSpecGivesADefaultSpecThatRunsAsWritten()
    {
        var (exit, stdout, _) = await Run("study", "--print-spec");
        Assert.Equal(0, exit);
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, stdout.Replace("\"replications\": 9999", "\"replications\": 99"));
        var (exit2, _, err) = await Run("study", "--spec", spec, "--out", Path.Combine(_dir, "o"));
        Assert.True(exit2 == 0, err);
    }
}
