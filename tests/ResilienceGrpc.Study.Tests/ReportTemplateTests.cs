using ResilienceGrpc.Client.Reporting;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>The LaTeX layout comes from the embedded templates, filled once, with every piece of text escaped.</summary>
public class ReportTemplateTests
{
    [Fact]
    public void ALatexTableHasTheTemplatesShapeAndEscapesEveryPieceOfText()
    {
        var table = new TextTable(
            "t9",
            "Costs & @rows@ 100% \\input{x}",
            ["Term", "b_1"],
            [
                ["ln_x", 1.5],
                ["@notes@", 2.0],
            ],
            ["Note with # and @caption@"]
        );

        string tex = TableRenderer.Render(table, OutputFormat.Latex);
        var lines = tex.Split('\n');

        // The placeholders a title or cell carries stay text: one pass, nothing read twice.
        Assert.Contains(@"\caption{Costs \& @rows@ 100\% \textbackslash{}input\{x\}}", lines);
        Assert.Single(
            lines,
            l => l.StartsWith("@notes@ & 2", StringComparison.Ordinal) && l.EndsWith(@" \\", StringComparison.Ordinal)
        );
        Assert.Contains(@"Note with \# and @caption@", lines);
        // The numeric column is a siunitx S column sized to its numbers; its header is braced text.
        Assert.Contains(@"\begin{tabular}{lS[table-format=1.5]}", lines);
        Assert.Contains(@"Term & {b\_1} \\", lines);
        Assert.Equal(1, lines.Count(l => l == @"\begin{table}[htbp]"));
        Assert.Equal(1, lines.Count(l => l == @"\end{table}"));
        // The header and the two rows, nothing else, as tabular rows.
        Assert.Equal(3, lines.Count(l => l.EndsWith(@" \\", StringComparison.Ordinal) && l.Contains(" & ")));
        Assert.DoesNotContain(@"\input{", tex);
    }

    [Fact]
    public void AMissingValueForAPlaceholderIsAnError() =>
        Assert.Throws<InvalidOperationException>(() =>
            ReportTemplates.Fill("table-notes.tex", new Dictionary<string, string>())
        );
}
