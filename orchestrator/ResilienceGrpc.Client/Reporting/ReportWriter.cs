using System.Text;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>Writes a study's report folder: report.html, report.md, tables.tex, results.json, manifest.json.</summary>
public static class ReportWriter
{
    public static readonly string[] Files = ["report.html", "report.md", "tables.tex", "results.json", "manifest.json"];

    /// <summary>The files written for a report: <see cref="Files"/>, and <c>multiverse.csv</c> when it has a specification curve.</summary>
    public static IReadOnlyList<string> FilesFor(StudyReport report) => report.Multiverse is null ? Files : [.. Files, MultiverseReport.CsvFile];

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    /// <summary>The report as proto3 JSON (tables under their stable ids).</summary>
    public static string ResultsJson(StudyReport report) => Json.Format(report);

    public static async Task WriteAsync(StudyReport report, string dir, CancellationToken ct = default)
    {
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "results.json"), ResultsJson(report) + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "manifest.json"), Json.Format(report.Manifest) + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "tables.tex"), Latex(report), ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "report.md"), Markdown(report), ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "report.html"), HtmlReport.Render(report), ct);
        if (report.Multiverse is { } m)
            await File.WriteAllTextAsync(Path.Combine(dir, MultiverseReport.CsvFile), MultiverseReport.Csv(m), ct);
    }

    public static string Markdown(StudyReport report)
    {
        var sb = new StringBuilder($"# {report.Title}\n\n");
        if (report.Synthetic) sb.Append($"> **SYNTHETIC DATA** ({report.Manifest?.DataLabel}): these results come from generated numbers and say nothing about the cities named.\n\n");
        if (report.Manifest is { } m)
            sb.Append($"Data: {m.DataLabel} (SHA-256 `{m.DataSha256}`) · ResilienceGrpc {m.SoftwareVersion} · run {m.StartedAt}\n\n");
        foreach (var w in report.Warnings) sb.Append($"- {w}\n");
        if (report.Warnings.Count > 0) sb.Append('\n');
        foreach (var t in PublishedTables.For(report)) sb.Append(TableRenderer.Render(t, OutputFormat.Markdown)).Append('\n');
        if (report.Multiverse is { } curve) sb.Append(TableRenderer.Render(MultiverseReport.Summary(curve), OutputFormat.Markdown)).Append('\n');
        sb.Append(TableRenderer.Render(HtmlReport.CityTable(report), OutputFormat.Markdown));
        return sb.ToString();
    }

    public static string Latex(StudyReport report)
    {
        var sb = new StringBuilder();
        sb.Append($"% {report.Title}\n% Tables for \\input{{tables.tex}}; needs \\usepackage{{booktabs}}.\n");
        if (report.Synthetic) sb.Append("% SYNTHETIC DATA: generated numbers, not statistics of the cities named.\n");
        foreach (var t in PublishedTables.For(report)) sb.Append('\n').Append(TableRenderer.Render(t, OutputFormat.Latex));
        if (report.Multiverse is { } m) sb.Append('\n').Append(TableRenderer.Render(MultiverseReport.Summary(m), OutputFormat.Latex));
        return sb.ToString();
    }
}
