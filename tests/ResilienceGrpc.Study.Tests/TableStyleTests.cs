using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The table style (spec.tableStyle and the --table-* options): the statistic under each
/// coefficient is the fit's standard error, t, p or interval rounded to the digits asked; the
/// stars follow the levels and symbols given; labels, order, the dependent-variable row,
/// indicator rows, notes and fit statistics appear as asked; the default style is the paper's.
/// A bad style is refused naming the field. Every number checked comes from results.json.
/// </summary>
public sealed class TableStyleTests(StudyStack stack) : IClassFixture<StudyStack>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-style-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private async Task<(StudyReport Report, string[] Markdown)> Run(string specJson, params string[] options)
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, specJson);
        var (exit, _, err) = await CliRunner.Run(["study", "--spec", spec, "--out", _dir, .. options]);
        Assert.True(exit == 0, err);
        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "results.json")));
        return (report, File.ReadAllLines(Path.Combine(_dir, "report.md")));
    }

    /// <summary>The Markdown rows of the table titled <paramref name="title"/>, as cells.</summary>
    private static List<string[]> Rows(string[] md, string title)
    {
        int at = Array.FindIndex(md, l => l == $"**{title}**");
        Assert.True(at >= 0, title);
        return md.Skip(at + 4)
            .TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|')[1..^1].Select(c => c.Trim()).ToArray())
            .ToList();
    }

    private static void Rounded(double value, string shown, int digits) =>
        Assert.True(
            Math.Abs(D(shown) - value) <= 0.5 * Math.Pow(10, -digits) + 1e-12
                && (digits == 0 ? !shown.Contains('.') : shown.Length - shown.IndexOf('.') - 1 == digits),
            $"{shown} is not {value} to {digits} decimals"
        );

    private const string Quick = "\"bootstrap\": {\"replications\": 0}, \"multiverse\": {\"disabled\": true}";

    [Theory]
    [InlineData("se", 2)]
    [InlineData("p", 5)]
    [InlineData("ci", 3)]
    [InlineData("t", 0)]
    public async Task TheStatisticUnderEachCoefficientIsTheFitsRoundedToTheDigitsAsked(string statistic, int digits)
    {
        var (report, md) = await Run(
            "{" + Quick + "}",
            "--table-statistic",
            statistic,
            "--table-digits",
            digits.ToString(CultureInfo.InvariantCulture)
        );
        var table = report.Tables.Single(t => t.Id == "baseline");
        var rows = Rows(md, table.Title);
        int checkedCells = 0;
        for (int m = 0; m < table.Models.Count; m++)
            foreach (var c in table.Models[m].Fit.Coefficients)
            {
                int r = rows.FindIndex(row => row[0] == PublishedLabel(c.Term));
                Rounded(c.Estimate, rows[r][m + 1].TrimEnd('*'), digits);
                string under = rows[r + 1][m + 1];
                switch (statistic)
                {
                    case "ci":
                        var parts = under.Trim('[', ']').Split(", ");
                        Rounded(c.CiLow, parts[0], digits);
                        Rounded(c.CiHigh, parts[1], digits);
                        break;
                    default:
                        double expected = statistic switch
                        {
                            "se" => c.StdError,
                            "p" => c.PValue,
                            _ => c.TValue,
                        };
                        Rounded(expected, under.Trim('(', ')'), digits);
                        break;
                }
                checkedCells++;
            }
        Assert.Equal(5, checkedCells);
        var note = md.First(l => l.StartsWith("*Dependent variable: ln_resexport.", StringComparison.Ordinal));
        Assert.Contains(
            statistic switch
            {
                "se" => "standard errors in parentheses",
                "p" => "p-values",
                "ci" => "95% confidence intervals",
                _ => "t statistics in parentheses",
            },
            note
        );
    }

    private static string PublishedLabel(string term) => Client.Reporting.PublishedTables.Label(term);

    [Fact]
    public async Task StarsLabelsOrderHeaderIndicatorRowsNotesAndFitStatisticsAreAsAsked()
    {
        var spec =
            "{"
            + Quick
            + ", \"tables\": [{\"id\": \"baseline\", \"indicatorRows\": [{\"label\": \"Controls\", \"values\": [\"No\", \"Yes\"]}], \"note\": \"Table note.\"}],"
            + " \"tableStyle\": {\"starLevels\": [0.001, 0.2], \"starSymbols\": [\"a\", \"b\"], \"labels\": {\"ln_x\": \"Density (log)\"},"
            + " \"order\": [\"ln_x\"], \"dependentHeader\": true, \"fitStatistics\": [\"FIT_STATISTIC_RMSE\", \"FIT_STATISTIC_N\"], \"notes\": [\"Source: the sample.\"]}}";
        var (report, md) = await Run(spec);
        var table = report.Tables.Single(t => t.Id == "baseline");
        var rows = Rows(md, table.Title);
        Assert.Equal(["Dependent variable", PublishedLabel("ln_resexport"), PublishedLabel("ln_resexport")], rows[0]);
        Assert.Equal("Density (log)", rows[1][0]); // ordered first, relabelled
        foreach (var (m, i) in table.Models.Select((m, i) => (m, i)))
            foreach (var c in m.Fit.Coefficients)
            {
                string label = c.Term == "ln_x" ? "Density (log)" : PublishedLabel(c.Term);
                string cell = rows.First(r => r[0] == label)[i + 1];
                string stars = c.PValue < 0.001 ? "a" : c.PValue < 0.2 ? "b" : "";
                Assert.EndsWith(stars, cell);
                Assert.Equal(stars.Length, cell.Length - cell.TrimEnd('a', 'b').Length);
            }
        var foot = rows.SkipWhile(r => r[0] != "Controls").ToList();
        Assert.Equal(["Controls", "No", "Yes"], foot[0]);
        Assert.Equal("RMSE", foot[1][0]);
        Rounded(table.Models[1].Fit.Model.Rmse, foot[1][2], 3);
        Assert.Equal(["N", "38", "38"], foot[2]);
        Assert.DoesNotContain(rows, r => r[0] is "R²" or "Adj. R²" or "F");
        int notes = Array.FindIndex(md, l => l.StartsWith("*Dependent variable: ln_resexport.", StringComparison.Ordinal));
        string noteText = string.Join("\n", md.Skip(notes).TakeWhile(l => l.StartsWith('*')));
        Assert.Contains("a p < 0.001, b p < 0.2", noteText);
        Assert.Contains("Source: the sample.", noteText);
        Assert.Contains("Table note.", noteText);
    }

    [Fact]
    public async Task TheDefaultStyleIsThePapers()
    {
        var (report, md) = await Run("{" + Quick + "}");
        var table = report.Tables.Single(t => t.Id == "baseline");
        var rows = Rows(md, table.Title);
        var first = table.Models[0].Fit.Coefficients[0];
        Rounded(first.Estimate, rows[0][1].TrimEnd('*'), 4);
        Rounded(first.TValue, rows[1][1].Trim('(', ')'), 3);
        Assert.Equal(["N", "R²", "Adj. R²", "F"], rows.Where(r => r[0] is "N" or "R²" or "Adj. R²" or "F").Select(r => r[0]));
        Assert.Contains(md, l => l.Contains("t statistics in parentheses; *** p < 0.01, ** p < 0.05, * p < 0.1."));
    }

    [Theory]
    [InlineData("{\"digits\": 11}", "spec.table_style.digits")]
    [InlineData("{\"starLevels\": [0.1, 0.05]}", "spec.table_style.star_levels[1]")]
    [InlineData("{\"starLevels\": [1.5]}", "spec.table_style.star_levels[0]")]
    [InlineData("{\"starSymbols\": [\"*\"]}", "spec.table_style.star_symbols")]
    [InlineData("{\"fitStatistics\": [\"FIT_STATISTIC_UNSPECIFIED\"]}", "spec.table_style.fit_statistics[0]")]
    [InlineData("{\"statistic\": 9}", "spec.table_style.statistic")]
    public async Task ABadStyleIsRefusedNamingTheField(string style, string field)
    {
        var spec = JsonParser.Default.Parse<StudySpec>("{\"tableStyle\": " + style + "}");
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations, v => v.Field == field);
    }

    [Fact]
    public async Task OverLongTextsAndTooManyIndicatorValuesAreRefusedNamingTheField()
    {
        var spec = new StudySpec { TableStyle = new TableStyle() };
        spec.TableStyle.Labels["ln_x"] = new string('x', 201);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Contains(
            e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations,
            v => v.Field == "spec.table_style.labels[ln_x]"
        );

        spec = new StudySpec
        {
            Tables =
            {
                new TableSpec
                {
                    Id = "baseline",
                    IndicatorRows = { new IndicatorRow { Label = "Controls", Values = { "No", "Yes", "Yes" } } },
                },
            },
        };
        e = await Assert.ThrowsAsync<RpcException>(() =>
            stack.RunAsync(new RunStudyRequest { Dataset = "sample", Spec = spec })
        );
        Assert.Contains(
            e.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>().FieldViolations,
            v => v.Field == "spec.tables[0].indicator_rows[0].values"
        );
    }

    [Fact]
    public async Task ABadOptionIsOneSentence()
    {
        var (exit, _, err) = await CliRunner.Run("study", "--out", _dir, "--table-stars", "0.05");
        Assert.NotEqual(0, exit);
        CliRunner.AssertOneSentence(err);
        Assert.Contains("level=symbol", err);
    }

    [Theory]
    [InlineData("ln_rescity", "LnRescity")]
    [InlineData("ln_x", "LnX")]
    [InlineData("ln_density", "LnDensity")]
    [InlineData("ln_gdp_per_capita", "LnGdpPerCapita")]
    [InlineData("ln_res_economy", "LnReseconomy")]
    [InlineData("ln_rescity*d_first", "LnRescity × D_first")]
    [InlineData("_cons", "Constant")]
    [InlineData("growth_rate", "growth_rate")]
    public void DefaultLabelsFollowThePapersStyleForEveryLog(string term, string label) =>
        Assert.Equal(label, PublishedLabel(term));
}
