using System.Text;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>Writes a study's report folder: report.html, report.md, tables.tex, results.json, manifest.json, the tidy coefficients.csv and models.csv, the analysis data set analysis.csv, and tables.docx and tables.xlsx.</summary>
public static class ReportWriter
{
    public static readonly string[] Files =
    [
        "report.html",
        "report.md",
        "tables.tex",
        "results.json",
        "manifest.json",
        TidyTables.CoefficientsFile,
        TidyTables.ModelsFile,
        AnalysisTables.CsvFile,
        OfficeTables.DocxFile,
        OfficeTables.XlsxFile,
    ];

    /// <summary>The files written for a report: <see cref="Files"/>, <c>multiverse.csv</c> when it has a specification curve, and the SVG figures.</summary>
    public static IReadOnlyList<string> FilesFor(StudyReport report) =>
        [.. Files, .. report.Multiverse is null ? [] : new[] { MultiverseReport.CsvFile }, .. Figures(report).Keys];

    /// <summary>
    /// The SVG figures; none where the drawing library's native part cannot load (a minimal
    /// container image), since report.html has every figure anyway.
    /// </summary>
    private static IReadOnlyDictionary<string, string> Figures(StudyReport report)
    {
        try
        {
            return FigureFiles.Render(report);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            return new Dictionary<string, string>();
        }
    }

    private static readonly JsonFormatter Json = new(
        JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation()
    );

    /// <summary>The report as proto3 JSON (tables under their stable ids).</summary>
    public static string ResultsJson(StudyReport report) => Json.Format(report);

    public static async Task WriteAsync(StudyReport report, string dir, CancellationToken ct = default)
    {
        Directory.CreateDirectory(dir);
        await WriteSafelyAsync(dir, "results.json", ResultsJson(report) + "\n", ct);
        await WriteSafelyAsync(dir, "manifest.json", Json.Format(report.Manifest) + "\n", ct);
        await WriteSafelyAsync(dir, "tables.tex", Latex(report), ct);
        await WriteSafelyAsync(dir, "report.md", Markdown(report), ct);
        await WriteSafelyAsync(dir, "report.html", HtmlReport.Render(report), ct);
        await WriteSafelyAsync(dir, TidyTables.CoefficientsFile, TidyTables.Coefficients(report), ct);
        await WriteSafelyAsync(dir, TidyTables.ModelsFile, TidyTables.Models(report), ct);
        await WriteSafelyAsync(dir, AnalysisTables.CsvFile, AnalysisTables.Csv(report.Analysis), ct);
        await WriteSafelyAsync(dir, OfficeTables.DocxFile, OfficeTables.Docx(report), ct);
        await WriteSafelyAsync(dir, OfficeTables.XlsxFile, OfficeTables.Xlsx(report), ct);
        foreach (var (name, svg) in Figures(report))
            await WriteSafelyAsync(dir, name, svg, ct);
        if (report.Multiverse is { } m)
            await WriteSafelyAsync(dir, MultiverseReport.CsvFile, MultiverseReport.Csv(m), ct);
    }

    /// <summary>
    /// Writes a file of the report without following anything planted under its name: the text
    /// goes to a new file of an unpredictable name (created, never opened if it exists), which
    /// then replaces the name; a rename replaces a symlink itself, it does not write through it.
    /// </summary>
    public static Task WriteSafelyAsync(string dir, string name, string text, CancellationToken ct = default) =>
        WriteSafelyAsync(dir, name, new UTF8Encoding(false).GetBytes(text), ct);

    /// <summary>As above, for bytes (the Word and Excel files).</summary>
    public static async Task WriteSafelyAsync(string dir, string name, byte[] bytes, CancellationToken ct = default)
    {
        string temp = Path.Combine(dir, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                await stream.WriteAsync(bytes, ct);
            File.Move(temp, Path.Combine(dir, name), overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>A title on one line (for a Markdown heading or a LaTeX comment): line breaks become spaces.</summary>
    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Replace('\u2028', ' ').Replace('\u2029', ' ');

    public static string Markdown(StudyReport report)
    {
        var sb = new StringBuilder($"# {TableRenderer.MarkdownText(report.Title)}\n\n");
        if (report.Synthetic)
            sb.Append(
                $"> **SYNTHETIC DATA** ({TableRenderer.MarkdownText(report.Manifest?.DataLabel ?? "")}): these results come from generated numbers and say nothing about the cities named.\n\n"
            );
        if (report.Manifest is { } m)
            sb.Append(
                $"Data: {TableRenderer.MarkdownText(m.DataLabel)} (SHA-256 `{m.DataSha256}`) · ResilienceGrpc {m.SoftwareVersion} · run {m.StartedAt}\n\n"
            );
        foreach (var w in report.Warnings)
            sb.Append($"- {TableRenderer.MarkdownText(w)}\n");
        if (report.Warnings.Count > 0)
            sb.Append('\n');
        foreach (var t in PublishedTables.For(report))
            sb.Append(TableRenderer.Render(t, OutputFormat.Markdown)).Append('\n');
        if (report.Multiverse is { } curve)
            sb.Append(TableRenderer.Render(MultiverseReport.Summary(curve), OutputFormat.Markdown)).Append('\n');
        sb.Append(TableRenderer.Render(HtmlReport.CityTable(report), OutputFormat.Markdown));
        return sb.ToString();
    }

    public static string Latex(StudyReport report)
    {
        var sb = new StringBuilder(
            ReportTemplates.Fill(
                "tables-head.tex",
                new Dictionary<string, string>
                {
                    ["title"] = OneLine(report.Title),
                    ["synthetic"] = report.Synthetic
                        ? "% SYNTHETIC DATA: generated numbers, not statistics of the cities named.\n"
                        : "",
                }
            )
        );
        foreach (var t in PublishedTables.For(report))
            sb.Append('\n').Append(TableRenderer.Render(t, OutputFormat.Latex));
        if (report.Multiverse is { } m)
            sb.Append('\n').Append(TableRenderer.Render(MultiverseReport.Summary(m), OutputFormat.Latex));
        sb.Append(ReportTemplates.Get("tables-foot.tex"));
        return sb.ToString();
    }
}
