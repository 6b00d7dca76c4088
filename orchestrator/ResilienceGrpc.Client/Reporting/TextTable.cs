using System.Globalization;
using System.Text;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>Output formats of the command line and the report.</summary>
public enum OutputFormat
{
    Table,
    Json,
    Markdown,
    Latex,
    Csv,
}

/// <summary>One cell: text, or a number formatted per output (full precision in CSV).</summary>
public readonly record struct Cell(string? Text, double? Number)
{
    public static implicit operator Cell(string text) => new(text, null);

    public static implicit operator Cell(double number) => new(null, number);

    public static Cell Empty => new("", null);
}

/// <summary>A titled table with optional notes under it, rendered by <see cref="TableRenderer"/>.</summary>
public sealed record TextTable(
    string Id,
    string Title,
    IReadOnlyList<string> Columns,
    IReadOnlyList<Cell[]> Rows,
    IReadOnlyList<string>? Notes = null
);

/// <summary>Number formats for people (and for machines in CSV).</summary>
public static class NumberText
{
    /// <summary>Six significant digits, without exponent for ordinary magnitudes.</summary>
    public static string Human(double v)
    {
        if (double.IsNaN(v))
            return "";
        if (v == 0)
            return "0";
        double a = Math.Abs(v);
        if (a >= 1e7 || a < 1e-5)
            return v.ToString("0.#####E+0", CultureInfo.InvariantCulture);
        int digits = Math.Clamp(5 - (int)Math.Floor(Math.Log10(a)), 0, 10);
        return v.ToString("F" + digits, CultureInfo.InvariantCulture);
    }

    /// <summary>Shortest text that parses back to the same double.</summary>
    public static string Exact(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Fixed decimals (for published tables).</summary>
    public static string Fixed(double v, int decimals) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
}

/// <summary>Renders tables as aligned text, Markdown, LaTeX (booktabs) or CSV.</summary>
public static partial class TableRenderer
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^Table \d+[.:]\s*")]
    private static partial System.Text.RegularExpressions.Regex TableNumber();

    public static string Render(IEnumerable<TextTable> tables, OutputFormat format)
    {
        return string.Join("\n", tables.Select(t => Render(t, format)));
    }

    public static string Render(TextTable t, OutputFormat format) =>
        format switch
        {
            OutputFormat.Table => Plain(t),
            OutputFormat.Markdown => Markdown(t),
            OutputFormat.Latex => Latex(t),
            OutputFormat.Csv => Csv(t),
            _ => throw new ArgumentOutOfRangeException(
                nameof(format),
                format,
                "JSON is rendered from the response message, not from tables."
            ),
        };

    internal static string[] Texts(Cell[] row, bool exact) =>
        row.Select(c => c.Number is { } n ? (exact ? NumberText.Exact(n) : NumberText.Human(n)) : c.Text ?? "")
            .ToArray();

    private static bool IsNumericColumn(TextTable t, int c) =>
        t.Rows.Count > 0
        && t.Rows.All(r => r[c].Number is not null || string.IsNullOrEmpty(r[c].Text) || LooksNumeric(r[c].Text!));

    private static bool LooksNumeric(string s) =>
        s.TrimStart('(', '[', '-').Length > 0 && (char.IsAsciiDigit(s.TrimStart('(', '[', '-')[0]));

    private static string Plain(TextTable t)
    {
        var rows = t.Rows.Select(r => Texts(r, false)).ToList();
        var widths = t
            .Columns.Select((h, c) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length)))
            .ToArray();
        var right = t.Columns.Select((_, c) => c > 0 && IsNumericColumn(t, c)).ToArray();
        string Line(string[] cells) =>
            string.Join("  ", cells.Select((s, c) => right[c] ? s.PadLeft(widths[c]) : s.PadRight(widths[c])))
                .TrimEnd();
        int total = widths.Sum() + 2 * (widths.Length - 1);
        var sb = new StringBuilder();
        sb.AppendLine(t.Title);
        sb.AppendLine(new string('=', Math.Max(total, Math.Min(t.Title.Length, 100))));
        sb.AppendLine(Line(t.Columns.ToArray()));
        sb.AppendLine(new string('-', total));
        foreach (var r in rows)
            sb.AppendLine(Line(r));
        sb.AppendLine(new string('-', total));
        foreach (var n in t.Notes ?? [])
            sb.AppendLine(n);
        return sb.ToString();
    }

    /// <summary>
    /// Text as Markdown shows it literally, on one line: a backslash escapes nothing, a pipe does
    /// not end a table cell, and a '&lt;' or '&amp;' that could open raw HTML or an entity is escaped
    /// (CommonMark's backslash escapes), so a title or label such as <c>&lt;script&gt;</c> is shown,
    /// never run, by a renderer that passes HTML through. "p &lt; 0.01" and "R &amp; D" stay as written.
    /// </summary>
    public static string MarkdownText(string s) =>
        HtmlStart()
            .Replace(
                s.ReplaceLineEndings(" ")
                    .Replace('\u2028', ' ')
                    .Replace('\u2029', ' ')
                    .Replace("\\", "\\\\", StringComparison.Ordinal)
                    .Replace("|", "\\|", StringComparison.Ordinal),
                "\\$0"
            );

    [System.Text.RegularExpressions.GeneratedRegex("<(?=[A-Za-z/!?])|&(?=[A-Za-z#])")]
    private static partial System.Text.RegularExpressions.Regex HtmlStart();

    private static string Markdown(TextTable t)
    {
        var right = t.Columns.Select((_, c) => c > 0 && IsNumericColumn(t, c)).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine($"**{MarkdownText(t.Title)}**").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", t.Columns.Select(MarkdownText)) + " |");
        sb.AppendLine("|" + string.Join("|", right.Select(r => r ? "---:" : ":---")) + "|");
        foreach (var r in t.Rows)
            sb.AppendLine("| " + string.Join(" | ", Texts(r, false).Select(MarkdownText)) + " |");
        if (t.Notes is { Count: > 0 })
        {
            sb.AppendLine();
            foreach (var n in t.Notes)
                sb.AppendLine($"*{MarkdownText(n)}*  ");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Escapes LaTeX's special characters. A control character or line break becomes a space (a
    /// blank line would end the caption's paragraph; pdflatex cannot typeset U+0001). A run of
    /// Chinese, Japanese or Korean characters goes into <c>\resiliencecjk{…}</c>, which
    /// tables.tex defines: the CJK package's environment under pdflatex, the text as it is under
    /// XeLaTeX or LuaLaTeX.
    /// </summary>
    public static string TeX(string s)
    {
        var sb = new StringBuilder();
        bool inCjk = false;
        foreach (char ch in s)
        {
            bool cjk = IsCjk(ch);
            if (cjk != inCjk)
                sb.Append(cjk ? @"\resiliencecjk{" : "}");
            inCjk = cjk;
            if (char.IsControl(ch) || ch is '\u2028' or '\u2029')
            {
                sb.Append(' ');
                continue;
            }
            sb.Append(
                ch switch
                {
                    '\\' => @"\textbackslash{}",
                    '<' => @"\textless{}",
                    '>' => @"\textgreater{}",
                    '|' => @"\textbar{}",
                    '&' or '%' or '$' or '#' or '_' or '{' or '}' => "\\" + ch,
                    '~' => @"\textasciitilde{}",
                    '^' => @"\textasciicircum{}",
                    '²' => "$^2$",
                    '×' => @"$\times$",
                    '≤' => @"$\leq$",
                    '−' => "-",
                    _ => ch.ToString(),
                }
            );
        }
        if (inCjk)
            sb.Append('}');
        return sb.ToString();
    }

    /// <summary>
    /// Han ideographs (and their extension A and compatibility forms), CJK symbols and
    /// punctuation, kana, Hangul syllables and full-width forms: what pdflatex's own UTF-8 input
    /// cannot typeset.
    /// </summary>
    private static bool IsCjk(char ch) =>
        ch is (>= '\u3000' and <= '\u30FF')
            or (>= '\u3400' and <= '\u4DBF')
            or (>= '\u4E00' and <= '\u9FFF')
            or (>= '\uAC00' and <= '\uD7AF')
            or (>= '\uF900' and <= '\uFAFF')
            or (>= '\uFF00' and <= '\uFFEF');

    /// <summary>
    /// A cell of a siunitx S column: the number is parsed and aligned on its decimal mark,
    /// what comes before or after it (parentheses, brackets, stars) is braced text, and a
    /// cell that is not one number (an interval, a dash) is braced whole.
    /// </summary>
    private static string SCell(string cell)
    {
        if (cell.Length == 0)
            return "";
        var m = SNumber().Match(cell);
        if (!m.Success)
            return "{" + TeX(cell) + "}";
        string pre = m.Groups["pre"].Value,
            post = m.Groups["post"].Value;
        return (pre.Length > 0 ? "{" + TeX(pre) + "}" : "")
            + m.Groups["num"].Value
            + (post.Length > 0 ? "{" + TeX(post) + "}" : "");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<pre>[\(\[]?)(?<num>-?\d+(?:\.\d+)?)(?<post>[\)\]]?[^\d.]*)$")]
    private static partial System.Text.RegularExpressions.Regex SNumber();

    /// <summary>
    /// The S column for a column's cells: integer and decimal digits, a sign when any number
    /// is negative, and room for the widest text before and after (siunitx's table-format).
    /// </summary>
    private static string SColumn(IEnumerable<string> cells)
    {
        int whole = 1,
            decimals = 0;
        bool negative = false;
        string pre = "",
            post = "";
        foreach (var cell in cells)
        {
            var m = SNumber().Match(cell);
            if (cell.Length == 0 || !m.Success)
                continue;
            string num = m.Groups["num"].Value.TrimStart('-');
            negative |= m.Groups["num"].Value.StartsWith('-');
            int dot = num.IndexOf('.');
            whole = Math.Max(whole, dot < 0 ? num.Length : dot);
            decimals = Math.Max(decimals, dot < 0 ? 0 : num.Length - dot - 1);
            if (m.Groups["pre"].Value.Length > pre.Length)
                pre = m.Groups["pre"].Value;
            if (m.Groups["post"].Value.Length > post.Length)
                post = m.Groups["post"].Value;
        }
        var options = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"table-format={(negative ? "-" : "")}{whole}.{decimals}"),
        };
        if (pre.Length > 0)
            options.Add("table-space-text-pre={" + TeX(pre) + "}");
        if (post.Length > 0)
            options.Add("table-space-text-post={" + TeX(post) + "}");
        return "S[" + string.Join(", ", options) + "]";
    }

    /// <summary>One booktabs table, laid out by <c>Templates/table.tex</c>; numeric columns are siunitx S columns.</summary>
    private static string Latex(TextTable t)
    {
        var texts = t.Rows.Select(r => Texts(r, false)).ToList();
        // A column is an S column when most of its cells are numbers; the rest (a dependent
        // variable's name, an interval, a dash) are braced text in it.
        var numeric = t
            .Columns.Select(
                (_, c) =>
                {
                    if (c == 0)
                        return false;
                    var cells = texts.Select(r => c < r.Length ? r[c] : "").Where(x => x.Length > 0).ToList();
                    return cells.Count > 0 && 2 * cells.Count(x => SNumber().IsMatch(x)) > cells.Count;
                }
            )
            .ToArray();
        var rows = new StringBuilder();
        foreach (var r in texts)
            rows.Append(
                    string.Join(" & ", r.Select((cell, c) => c < numeric.Length && numeric[c] ? SCell(cell) : TeX(cell)))
                )
                .Append(" \\\\\n");
        string notes = t.Notes is { Count: > 0 }
            ? ReportTemplates.Fill(
                "table-notes.tex",
                new Dictionary<string, string> { ["notes"] = string.Join(" \\\\\n", t.Notes.Select(TeX)) }
            )
            : "";
        return ReportTemplates.Fill(
            "table.tex",
            new Dictionary<string, string>
            {
                // LaTeX numbers its tables: "Table 2. Baseline" is captioned "Baseline".
                ["caption"] = TeX(TableNumber().Replace(t.Title, "")),
                ["id"] = t.Id,
                ["align"] = string.Concat(
                    numeric.Select((n, c) => n ? SColumn(texts.Select(r => c < r.Length ? r[c] : "")) : "l")
                ),
                // Header cells of S columns are text: braced, so siunitx does not parse them, and
                // set on two lines when long, so that a header is not wider than its numbers.
                ["header"] = string.Join(
                    " & ",
                    t.Columns.Select((h, c) => numeric[c] ? "{" + StackedHeader(h) + "}" : TeX(h))
                ),
                ["rows"] = rows.ToString(),
                ["notes"] = notes,
            }
        );
    }

    /// <summary>
    /// A header of more than 8 characters with a space, split at the space nearest its middle
    /// into two lines (a one-column tabular, bottom-aligned); otherwise the header as it is.
    /// </summary>
    internal static string StackedHeader(string header)
    {
        int middle = header.Length / 2,
            at = -1;
        for (int i = 0; i < header.Length; i++)
            if (header[i] == ' ' && (at < 0 || Math.Abs(i - middle) < Math.Abs(at - middle)))
                at = i;
        if (header.Length <= 8 || at <= 0 || at == header.Length - 1)
            return TeX(header);
        return @"\begin{tabular}[b]{@{}c@{}}" + TeX(header[..at]) + @"\\" + TeX(header[(at + 1)..]) + @"\end{tabular}";
    }

    private static string Csv(TextTable t)
    {
        static string Q(string s) =>
            s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", t.Columns.Select(Q)));
        foreach (var r in t.Rows)
            sb.AppendLine(string.Join(",", Texts(r, true).Select(Q)));
        return sb.ToString();
    }
}
