using System.Text.RegularExpressions;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using MiniExcelLibs;
using ResilienceGrpc.Contracts.Study.V1;
using Table = DocumentFormat.OpenXml.Wordprocessing.Table;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The report's tables for Word and Excel users: <c>tables.docx</c> (Open XML SDK: each
/// table with its title above, three rules as booktabs draws them, and its notes below) and
/// <c>tables.xlsx</c> (MiniExcel: one sheet per table with the title, the header, the rows
/// and the notes, plus an <c>analysis</c> sheet with the analysis data as numbers). The
/// cells are the published tables' own texts (<see cref="PublishedTables"/>), so the three
/// formats never disagree.
/// </summary>
public static partial class OfficeTables
{
    public const string DocxFile = "tables.docx";
    public const string XlsxFile = "tables.xlsx";

    /// <summary>tables.docx.</summary>
    public static byte[] Docx(StudyReport report)
    {
        using var stream = new MemoryStream();
        using (var doc = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = doc.AddMainDocumentPart();
            var body = new Body();
            main.Document = new Document(body);
            body.Append(Paragraph(report.Title, bold: true, size: 28));
            if (report.Synthetic)
                body.Append(
                    Paragraph(
                        "SYNTHETIC DATA: these results come from generated numbers and say nothing about the cities named.",
                        bold: true
                    )
                );
            foreach (var t in PublishedTables.For(report))
            {
                body.Append(Paragraph(t.Title, bold: true, keepNext: true));
                body.Append(WordTable(t));
                foreach (var note in t.Notes ?? [])
                    if (note.Length > 0)
                        body.Append(Paragraph(note, italic: true, size: 18));
            }
            body.Append(
                new SectionProperties(
                    new PageSize { Width = 11906U, Height = 16838U },
                    new PageMargin
                    {
                        Top = 1134,
                        Bottom = 1134,
                        Left = 1134U,
                        Right = 1134U,
                        Header = 708U,
                        Footer = 708U,
                        Gutter = 0U,
                    }
                )
            );
            main.Document.Save();
        }
        return stream.ToArray();
    }

    private static Paragraph Paragraph(
        string text,
        bool bold = false,
        bool italic = false,
        int? size = null,
        bool keepNext = false,
        JustificationValues? justify = null
    )
    {
        var props = new RunProperties();
        if (bold)
            props.Append(new Bold());
        if (italic)
            props.Append(new Italic());
        if (size is { } s)
            props.Append(new FontSize { Val = s.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var paragraph = new Paragraph();
        var pp = new ParagraphProperties();
        if (keepNext)
            pp.Append(new KeepNext());
        pp.Append(new SpacingBetweenLines { After = "60" });
        if (justify is { } j)
            pp.Append(new Justification { Val = j });
        paragraph.Append(pp);
        paragraph.Append(new Run(props, new Text(Clean(text)) { Space = SpaceProcessingModeValues.Preserve }));
        return paragraph;
    }

    private static Table WordTable(TextTable t)
    {
        var table = new Table(
            new TableProperties(
                new TableWidth { Type = TableWidthUnitValues.Auto, Width = "0" },
                new TableBorders(
                    new TopBorder { Val = BorderValues.Single, Size = 8U },
                    new BottomBorder { Val = BorderValues.Single, Size = 8U }
                )
            )
        );
        // Widths in twentieths of a point: the labels' column wide, the numbers' narrower.
        var grid = new TableGrid();
        for (int c = 0; c < t.Columns.Count; c++)
            grid.Append(new GridColumn { Width = c == 0 ? "3400" : "1250" });
        table.Append(grid);
        var header = new TableRow(new TableRowProperties(new TableHeader()));
        for (int c = 0; c < t.Columns.Count; c++)
            header.Append(WordCell(t.Columns[c], c, bold: true, ruleBelow: true));
        table.Append(header);
        foreach (var row in t.Rows)
        {
            var texts = TableRenderer.Texts(row, false);
            var tr = new TableRow();
            for (int c = 0; c < t.Columns.Count; c++)
                tr.Append(WordCell(c < texts.Length ? texts[c] : "", c));
            table.Append(tr);
        }
        return table;
    }

    private static TableCell WordCell(string text, int column, bool bold = false, bool ruleBelow = false)
    {
        var props = new TableCellProperties();
        if (ruleBelow)
            props.Append(new TableCellBorders(new BottomBorder { Val = BorderValues.Single, Size = 4U }));
        return new TableCell(
            props,
            Paragraph(text, bold: bold, size: 18, justify: column == 0 ? JustificationValues.Left : JustificationValues.Right)
        );
    }

    /// <summary>tables.xlsx.</summary>
    public static byte[] Xlsx(StudyReport report)
    {
        var sheets = new Dictionary<string, object>();
        foreach (var t in PublishedTables.For(report))
        {
            var rows = new List<Dictionary<string, object?>>
            {
                Row([t.Title]),
                Row(t.Columns.Cast<object?>().ToArray()),
            };
            foreach (var r in t.Rows)
                rows.Add(Row(r.Select(c => c.Number is { } n ? (object?)n : c.Text ?? "").ToArray()));
            foreach (var note in t.Notes ?? [])
                if (note.Length > 0)
                    rows.Add(Row([note]));
            sheets[SheetName(t.Id, sheets)] = rows;
        }
        if (report.Analysis is { Columns.Count: > 0 } a)
        {
            var rows = new List<Dictionary<string, object?>>
            {
                Row(a.Columns.Select(c => (object?)c.Name).Prepend("city").ToArray()),
            };
            for (int i = 0; i < a.CityIds.Count; i++)
                rows.Add(
                    Row(
                        a.Columns.Select(c => double.IsNaN(c.Values[i]) ? null : (object?)c.Values[i])
                            .Prepend(a.CityIds[i])
                            .ToArray()
                    )
                );
            sheets[SheetName("analysis", sheets)] = rows;
        }
        using var stream = new MemoryStream();
        stream.SaveAs(sheets, printHeader: false);
        return stream.ToArray();
    }

    /// <summary>A row keyed by spreadsheet column letters, as wide as the widest row needs.</summary>
    private static Dictionary<string, object?> Row(object?[] cells)
    {
        var row = new Dictionary<string, object?>();
        for (int c = 0; c < Width; c++)
            row[Letter(c)] = c < cells.Length ? Cell(cells[c]) : null;
        return row;
    }

    private const int Width = 26;

    private static object? Cell(object? v) => v is string s ? Clean(s) : v;

    private static string Letter(int c) => ((char)('A' + c)).ToString();

    /// <summary>A sheet name Excel accepts (≤ 31 characters, none of []:*?/\), unique.</summary>
    private static string SheetName(string id, Dictionary<string, object> taken)
    {
        string name = Forbidden().Replace(id, "_");
        if (name.Length == 0)
            name = "table";
        name = name.Length > 31 ? name[..31] : name;
        string unique = name;
        for (int i = 2; taken.ContainsKey(unique); i++)
            unique = (name.Length > 28 ? name[..28] : name) + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return unique;
    }

    [GeneratedRegex(@"[\[\]:*?/\\']")]
    private static partial Regex Forbidden();

    /// <summary>Drops characters XML 1.0 cannot carry (control characters other than tab and newline).</summary>
    private static string Clean(string s) => s.Any(NotXml) ? new string(s.Where(ch => !NotXml(ch)).ToArray()) : s;

    private static bool NotXml(char ch) => ch < 0x20 && ch is not ('\t' or '\n' or '\r') || ch is '\uFFFE' or '\uFFFF';
}
