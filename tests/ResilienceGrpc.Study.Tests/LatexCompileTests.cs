using System.Diagnostics;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// tables.tex compiles with a real pdflatex, on its own and \input into a paper (that loads
/// booktabs and siunitx), with a title that tries to break out; numbers sit in siunitx S columns;
/// no raw &lt; or &gt; reaches the typesetter (OT1 prints them as ¡ ¿).
/// </summary>
public sealed class LatexCompileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-tex-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<(int Exit, string Log)> PdfLatex(string file)
    {
        var psi = new ProcessStartInfo("pdflatex")
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", file })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a hang guard
        await p.WaitForExitAsync(guard.Token);
        return (p.ExitCode, await output);
    }

    [LatexFact]
    public async Task TablesTexCompilesOnItsOwnAndInsideAPaper()
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            """{"title": "Evil\n\\input{/etc/passwd} & 100% <b> $x$", "bootstrap": {"replications": 0}, "multiverse": {"disabled": false, "dropOneCity": false}, "tableStyle": {"statistic": "TABLE_STATISTIC_CI", "starSymbols": ["†", "‡", "§"], "dependentHeader": true}}"""
        );
        var (exit, _, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        var tex = File.ReadAllLines(Path.Combine(_dir, "tables.tex"));
        // (A comparison of widths in the preamble's \resiliencefit is TeX, not text.)
        Assert.DoesNotContain(
            tex,
            l => !l.StartsWith('%') && !l.TrimStart().StartsWith(@"\ifdim", StringComparison.Ordinal) && (l.Contains('<') || l.Contains('>'))
        );
        Assert.DoesNotContain(tex, l => l.StartsWith(@"\caption{Table ", StringComparison.Ordinal));
        // Regression tables align their numbers with siunitx: S columns, stars and brackets as braced text.
        int baseline = Array.FindIndex(tex, l => l == @"\label{tab:baseline}");
        Assert.Equal(@"\resiliencefit{%", tex[baseline + 1]); // set smaller if wider than the text
        Assert.StartsWith(@"\begin{tabular}{lS[table-format=", tex[baseline + 2]);
        Assert.Contains(tex.Skip(baseline), l => l.StartsWith("LnRescity & 0.", StringComparison.Ordinal) && l.Contains("{†}"));
        Assert.Contains(tex.Skip(baseline), l => l.StartsWith(" & {[", StringComparison.Ordinal)); // the intervals, as text

        (exit, var log) = await PdfLatex("tables.tex");
        Assert.True(exit == 0, log);
        Assert.True(File.Exists(Path.Combine(_dir, "tables.pdf")));
        Assert.DoesNotContain("Overfull \\hbox", log);

        File.WriteAllText(
            Path.Combine(_dir, "paper.tex"),
            "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage{siunitx}\n\\begin{document}\nBefore.\n\\input{tables.tex}\nAfter.\n\\end{document}\n"
        );
        (exit, log) = await PdfLatex("paper.tex");
        Assert.True(exit == 0, log);
        Assert.DoesNotContain("incomplete", log);
        Assert.True(File.Exists(Path.Combine(_dir, "paper.pdf")));
    }

    [LatexFact]
    public async Task EveryTableOfTheDefaultStudyFitsTheTextWidth()
    {
        // The default study's widest table is the specification curve's summary, whose labels
        // include "sample: one city left out"; pdflatex reports a table past the margin as an
        // overfull box.
        var (exit, _, err) = await CliRunner.Run("study", "--out", _dir);
        Assert.True(exit == 0, err);
        Assert.Contains(@"\label{tab:multiverse}", File.ReadAllText(Path.Combine(_dir, "tables.tex")));
        (exit, var log) = await PdfLatex("tables.tex");
        Assert.True(exit == 0, log);
        Assert.DoesNotContain("Overfull \\hbox", log);
    }

    [LatexCjkFact]
    public async Task ChineseTitlesAndLabelsAreTypesetAndControlCharactersDoNotBreakTheTable()
    {
        // A study of Chinese cities may well be titled in Chinese; pdflatex alone cannot set a
        // Han character ("Unicode character 城 not set up"), and a blank line or U+0002 in a
        // caption stopped it too.
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            """
            {"title": "城市韧性", "bootstrap": {"replications": 0}, "multiverse": {"disabled": true}, "leaveOneOut": false,
             "tables": [{"id": "mine", "title": "城市韧性与出口韧性\n\nsecond paragraph\u0002", "regressions": [
               {"label": "（1）基准", "dependent": "ln_resexport", "regressors": ["ln_rescity"]}]}]}
            """
        );
        var (exit, _, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        var tex = File.ReadAllText(Path.Combine(_dir, "tables.tex"));
        Assert.Contains(@"\caption{\resiliencecjk{城市韧性与出口韧性}  second paragraph }", tex);
        Assert.Contains(@"\resiliencecjk{（}1\resiliencecjk{）基准}", tex);

        (exit, var log) = await PdfLatex("tables.tex");
        Assert.True(exit == 0, log);
        // The Chinese text was set in the Arphic font the CJK package uses (gbsn), so it is in the PDF.
        Assert.Contains("gbsn", File.ReadAllText(Path.Combine(_dir, "tables.log")));

        File.WriteAllText(
            Path.Combine(_dir, "paper.tex"),
            "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage{siunitx}\n\\usepackage{CJKutf8}\n\\begin{document}\n\\input{tables.tex}\n\\end{document}\n"
        );
        (exit, log) = await PdfLatex("paper.tex");
        Assert.True(exit == 0, log);
    }

    [Theory]
    [InlineData("Weight", "Weight")]
    [InlineData("(1) x", "(1) x")]
    [InlineData("Median estimate", @"\begin{tabular}[b]{@{}c@{}}Median\\estimate\end{tabular}")]
    [InlineData("Significant (5%)", @"\begin{tabular}[b]{@{}c@{}}Significant\\(5\%)\end{tabular}")]
    [InlineData("(1) entropy", @"\begin{tabular}[b]{@{}c@{}}(1)\\entropy\end{tabular}")]
    [InlineData("one two three", @"\begin{tabular}[b]{@{}c@{}}one two\\three\end{tabular}")]
    [InlineData("Specifications", "Specifications")]
    [InlineData("trailing ", "trailing ")]
    public void ALongNumericHeaderIsSetOnTwoLinesAtItsMiddleSpace(string header, string expected) =>
        Assert.Equal(expected, ResilienceGrpc.Client.Reporting.TableRenderer.StackedHeader(header));
}

/// <summary>
/// A fact that needs pdflatex with siunitx (Debian's texlive-latex-recommended and
/// texlive-science): skipped without them, unless REQUIRE_LATEX=1.
/// </summary>
public sealed class LatexFactAttribute : FactAttribute
{
    /// <summary>Whether pdflatex and siunitx are installed.</summary>
    internal static bool Installed =>
        ToolRequirement.OnPath("pdflatex") && Directory.Exists("/usr/share/texlive/texmf-dist/tex/latex/siunitx");

    public LatexFactAttribute() =>
        Skip = ToolRequirement.SkipReason(
            Installed,
            "REQUIRE_LATEX",
            "pdflatex with siunitx is not installed (Debian's texlive-latex-recommended and texlive-science)"
        );
}

/// <summary>
/// A fact that needs, beside <see cref="LatexFactAttribute"/>'s, the CJK package and its Chinese
/// fonts (Debian's texlive-lang-chinese): skipped without them, unless REQUIRE_LATEX=1.
/// </summary>
public sealed class LatexCjkFactAttribute : FactAttribute
{
    public LatexCjkFactAttribute() =>
        Skip = ToolRequirement.SkipReason(
            LatexFactAttribute.Installed && File.Exists("/usr/share/texmf/tex/latex/CJK/CJKutf8.sty"),
            "REQUIRE_LATEX",
            "pdflatex with siunitx and the CJK package is not installed (Debian's texlive-latex-recommended, texlive-science and texlive-lang-chinese)"
        );
}
