using System.Globalization;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using DocumentFormat.OpenXml.Validation;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// tables.docx and tables.xlsx are valid Office Open XML (the Open XML SDK's schema validator
/// finds nothing) and carry the published tables: every title in order, the header and the
/// cells as report.md prints them, and in the workbook an analysis sheet whose numbers are
/// analysis.csv's to the last bit. The workbook is written by MiniExcel and read back here
/// with the Open XML SDK, a different library. A title with control characters and markup
/// stays text.
/// </summary>
public sealed class OfficeTablesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-office-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<StudyReport> Study()
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            """{"title": "Bell\u0007 <w:t>x</w:t> & =SUM(A1)", "bootstrap": {"replications": 0}, "multiverse": {"disabled": true}}"""
        );
        var (exit, _, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        return JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "results.json")));
    }

    /// <summary>The published tables' titles from report.md, in order.</summary>
    private string[] MarkdownTitles() =>
        File.ReadAllLines(Path.Combine(_dir, "report.md"))
            .Where(l => l.StartsWith("**", StringComparison.Ordinal) && l.EndsWith("**", StringComparison.Ordinal))
            .Select(l => l[2..^2])
            .Where(t => !t.StartsWith("Specification curve", StringComparison.Ordinal) && t != "Intermediate data by city")
            .ToArray();

    [Fact]
    public async Task TheWordFileIsValidAndCarriesEveryTableAsTheReportPrintsIt()
    {
        var report = await Study();
        using var doc = WordprocessingDocument.Open(Path.Combine(_dir, "tables.docx"), false);
        var errors = new OpenXmlValidator().Validate(doc).Select(e => e.Description).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        var body = doc.MainDocumentPart!.Document.Body!;
        var paragraphs = body.Elements<W.Paragraph>().Select(p => p.InnerText).ToList();
        Assert.Equal("Bell <w:t>x</w:t> & =SUM(A1)", paragraphs[0]);
        var titles = MarkdownTitles();
        Assert.Equal(titles.Length, body.Elements<W.Table>().Count());
        Assert.Equal(titles, paragraphs.Where(p => titles.Contains(p)).ToArray());

        // The baseline table's first model's coefficient cell, as report.md prints it.
        var baseline = body.Elements<W.Table>().ElementAt(Array.FindIndex(titles, t => t.Contains("Baseline")));
        var rows = baseline.Elements<W.TableRow>().Select(r => r.Elements<W.TableCell>().Select(c => c.InnerText).ToArray()).ToList();
        var md = File.ReadAllLines(Path.Combine(_dir, "report.md"));
        var mdRow = md.First(l => l.StartsWith("| " + rows[1][0] + " |", StringComparison.Ordinal))
            .Split('|')
            .Select(c => c.Trim())
            .Where(c => c.Length > 0)
            .ToArray();
        Assert.Equal(mdRow, rows[1]);
        // and that cell is the fitted estimate, rounded to the digits it shows.
        string shown = rows[1][1].TrimEnd('*');
        int decimals = shown.Length - shown.IndexOf('.') - 1;
        double estimate = report.Tables.First(t => t.Id == "baseline").Models[0].Fit.Coefficients[0].Estimate;
        Assert.True(
            Math.Abs(double.Parse(shown, CultureInfo.InvariantCulture) - estimate) <= 0.5 * Math.Pow(10, -decimals) + 1e-15,
            $"{rows[1][1]} vs {estimate}"
        );
    }

    [Fact]
    public async Task TheWorkbookIsValidWithASheetPerTableAndTheAnalysisDataAsNumbers()
    {
        var report = await Study();
        using var book = SpreadsheetDocument.Open(Path.Combine(_dir, "tables.xlsx"), false);
        var errors = new OpenXmlValidator().Validate(book).Select(e => e.Description).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        var part = book.WorkbookPart!;
        var strings = part.SharedStringTablePart?.SharedStringTable.Elements<SharedStringItem>().Select(s => s.InnerText).ToArray() ?? [];
        string?[][] Sheet(string name)
        {
            var sheet = part.Workbook.Sheets!.Elements<Sheet>().Single(s => s.Name == name);
            var ws = ((WorksheetPart)part.GetPartById(sheet.Id!)).Worksheet;
            return ws.Descendants<Row>()
                .Select(r =>
                    r.Elements<Cell>()
                        .Select(c =>
                            c.CellValue is null ? null
                            : c.DataType?.Value == CellValues.SharedString ? strings[int.Parse(c.CellValue.Text, CultureInfo.InvariantCulture)]
                            : c.InlineString is not null ? c.InlineString.InnerText
                            : c.CellValue.Text
                        )
                        .ToArray()
                )
                .ToArray();
        }

        var names = part.Workbook.Sheets!.Elements<Sheet>().Select(s => s.Name!.Value!).ToList();
        Assert.Equal(report.Tables.Select(t => t.Id).Append("descriptives").Append("analysis"), names);
        var titles = MarkdownTitles();
        for (int i = 0; i < titles.Length; i++)
            Assert.Equal(titles[i], Sheet(names[i])[0][0]);

        var analysis = Sheet("analysis");
        var columns = report.Analysis.Columns;
        Assert.Equal(columns.Select(c => c.Name).Prepend("city"), analysis[0].Take(columns.Count + 1));
        for (int i = 0; i < report.Analysis.CityIds.Count; i++)
        {
            Assert.Equal(report.Analysis.CityIds[i], analysis[i + 1][0]);
            for (int j = 0; j < columns.Count; j++)
            {
                double v = columns[j].Values[i];
                string? cell = analysis[i + 1][j + 1];
                if (double.IsNaN(v))
                    Assert.True(string.IsNullOrEmpty(cell), $"{columns[j].Name} row {i}: {cell}");
                else
                    Assert.Equal(v, double.Parse(cell!, CultureInfo.InvariantCulture));
            }
        }
    }
}
