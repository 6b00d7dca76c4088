using System.Globalization;
using csFastFloat;
using CsvHelper;
using CsvHelper.Configuration;

namespace ResilienceGrpc.Client.Data;

/// <summary>
/// A problem in an input file, located by file, line and column. The message is one
/// sentence: <c>exports.csv, line 12, column 3 ('exports'): 'n/a' is not a number.</c>
/// </summary>
public sealed class DataFileException(string file, int line, int column, string? columnName, string problem)
    : Exception(Locate(file, line, column, columnName) + problem)
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public int Column { get; } = column;

    private static string Locate(string file, int line, int column, string? name)
    {
        string where = Path.GetFileName(file);
        if (line > 0)
            where += $", line {line}";
        if (column > 0)
            where += $", column {column}" + (name is null ? "" : $" ('{name}')");
        return where + ": ";
    }
}

/// <summary>One data row of a CSV file with its line number.</summary>
public sealed record CsvRow(int Line, string[] Cells);

/// <summary>
/// A CSV file read whole: a header row, comma separated, <c>.</c> decimals, an empty
/// cell for a missing value, lines starting with <c>#</c> are comments (the sample data
/// carry their "synthetic" label there). Parsing is CsvHelper's; this type adds the checks and the
/// file/line/column errors the command line promises.
/// </summary>
public sealed class CsvTable
{
    public string File { get; }
    public string[] Header { get; }

    /// <summary>Comment lines (without the leading #) found before the header.</summary>
    public IReadOnlyList<string> Comments { get; private init; } = [];
    public IReadOnlyList<CsvRow> Rows { get; }

    private CsvTable(string file, string[] header, IReadOnlyList<CsvRow> rows)
    {
        File = file;
        Header = header;
        Rows = rows;
    }

    /// <summary>Reads a file. Missing files, empty files, blank or duplicate headers and ragged rows are errors.</summary>
    public static CsvTable Read(string path)
    {
        RequireFile(path);
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Refuses a folder or a missing file.</summary>
    internal static void RequireFile(string path, string kind = "CSV")
    {
        if (Directory.Exists(path))
            throw new DataFileException(path, 0, 0, null, $"this is a folder; give a {kind} file.");
        if (!System.IO.File.Exists(path))
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"the file does not exist (looked for {Path.GetFullPath(path)})."
            );
    }

    /// <summary>Refuses an empty or repeated column name in a header on line <paramref name="line"/>.</summary>
    internal static void CheckHeader(string file, string[] header, int line)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int c = 0; c < header.Length; c++)
        {
            if (header[c].Length == 0)
                throw new DataFileException(
                    file,
                    line,
                    c + 1,
                    null,
                    "the header has an empty column name; name every column."
                );
            if (!seen.Add(header[c]))
                throw new DataFileException(
                    file,
                    line,
                    c + 1,
                    Quote(header[c]),
                    "this column name appears twice in the header."
                );
        }
    }

    /// <summary>
    /// The error for a column the header lacks. The header's names are listed only when it
    /// looks like a header, so a file that is no CSV (a key, a password file) is never echoed.
    /// </summary>
    internal static DataFileException NoColumn(string file, string[] header, string name, string? purpose, int line)
    {
        bool plausible =
            header.Length <= 200
            && header.All(h => h.Length <= 64 && h.All(ch => char.IsLetterOrDigit(ch) || "_.-*() %/".Contains(ch)));
        string known = plausible
            ? $"the columns are {string.Join(", ", header.Select(h => $"'{h}'"))}"
            : $"the header row has {header.Length} column{(header.Length == 1 ? "" : "s")}";
        // A European spreadsheet's CSV (';') or a TSV arrives as one column whose name holds the separator.
        string? separator =
            header.Length != 1 ? null
            : header[0].Contains(';') ? "semicolons"
            : header[0].Contains('\t') ? "tabs"
            : null;
        string hint = separator is null
            ? ""
            : $" The file looks separated by {separator}; it must be separated by commas, with '.' as the decimal mark (in a spreadsheet, save it as 'CSV UTF-8 (comma delimited)').";
        return new DataFileException(
            file,
            line,
            0,
            null,
            $"there is no column '{name}'{(purpose is null ? "" : $" ({purpose})")}; {known}.{hint}"
        );
    }

    /// <summary>The error for a cell that is not a finite number; the cell is quoted shortened.</summary>
    internal static DataFileException NotANumber(
        string file,
        int line,
        int column,
        string name,
        ReadOnlySpan<char> cell
    )
    {
        string hint = cell.Contains(',') ? " (use '.' as the decimal mark)" : "";
        return new DataFileException(
            file,
            line,
            column + 1,
            name,
            $"'{Quote(cell)}' is not a finite number{hint}; this column must be numeric."
        );
    }

    /// <summary>A cell as an error quotes it: at most 32 characters, control characters replaced.</summary>
    internal static string Quote(ReadOnlySpan<char> cell)
    {
        var head = cell.Length > 32 ? cell[..32] : cell;
        var s = string.Create(
            head.Length,
            head.ToString(),
            (dst, src) =>
            {
                for (int i = 0; i < src.Length; i++)
                    dst[i] = char.IsControl(src[i]) ? '?' : src[i];
            }
        );
        return cell.Length > 32 ? s + "…" : s;
    }

    /// <summary>Parses CSV text; <paramref name="name"/> names it in errors.</summary>
    public static CsvTable Parse(string content, string name)
    {
        // A byte-order mark (Excel's "CSV UTF-8") would hide the leading comment lines and the header.
        if (content.StartsWith('\uFEFF'))
            content = content[1..];
        var comments = content
            .Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .TakeWhile(l => l.StartsWith('#'))
            .Select(l => l[1..].Trim())
            .ToList();
        var text = new StringReader(content);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = true,
            TrimOptions = TrimOptions.Trim,
            IgnoreBlankLines = true,
            BadDataFound = null,
            DetectColumnCountChanges = false,
            AllowComments = true,
            Comment = '#',
        };
        using var csv = new CsvParser(text, config);
        if (!csv.Read())
            throw new DataFileException(name, 1, 0, null, "the file is empty; it needs a header row and data rows.");
        var header = csv.Record!.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray();
        CheckHeader(name, header, 1);
        var rows = new List<CsvRow>();
        while (csv.Read())
        {
            var cells = csv.Record!;
            int line = csv.RawRow;
            if (cells.Length == 1 && cells[0].Length == 0)
                continue;
            if (cells.Length != header.Length)
                throw new DataFileException(
                    name,
                    line,
                    Math.Min(cells.Length, header.Length) + 1,
                    null,
                    $"the row has {cells.Length} cells but the header has {header.Length} columns."
                );
            rows.Add(new CsvRow(line, cells));
        }
        if (rows.Count == 0)
            throw new DataFileException(name, 2, 0, null, "the file has a header but no data rows.");
        return new CsvTable(name, header, rows) { Comments = comments };
    }

    /// <summary>Index of a column; an error listing the columns when it is absent.</summary>
    public int Column(string name, string? purpose = null)
    {
        int c = Array.IndexOf(Header, name);
        if (c < 0)
            throw NoColumn(File, Header, name, purpose, 1);
        return c;
    }

    /// <summary>Whether the header has a column.</summary>
    public bool Has(string name) => Array.IndexOf(Header, name) >= 0;

    /// <summary>The number in a cell; NaN for an empty cell when <paramref name="allowMissing"/>.</summary>
    public double Number(CsvRow row, int column, bool allowMissing = true)
    {
        string cell = row.Cells[column];
        if (cell.Length == 0)
        {
            if (allowMissing)
                return double.NaN;
            throw new DataFileException(
                File,
                row.Line,
                column + 1,
                Header[column],
                "the value is missing, and this file needs every value."
            );
        }
        if (TryNumber(cell, out double v) && double.IsFinite(v))
            return v;
        throw NotANumber(File, row.Line, column, Header[column], cell);
    }

    /// <summary>A whole numeric column.</summary>
    public double[] Numbers(int column, bool allowMissing = true) =>
        Rows.Select(r => Number(r, column, allowMissing)).ToArray();

    /// <summary>Whether every non-empty cell of a column is a number.</summary>
    public bool IsNumeric(int column) =>
        Rows.All(r =>
            r.Cells[column].Length == 0 || TryNumber(r.Cells[column], out _)
        );

    /// <summary>
    /// A cell's number, the one rule of every CSV reader here: what .NET's invariant parse
    /// (<see cref="NumberStyles.Float"/>) accepts. csFastFloat (what Sep itself uses, called
    /// directly so that <see cref="NumericColumns"/>' row loop is precompiled code rather than a
    /// generic instantiation the JIT must tier up) answers when it reads the whole cell, else
    /// .NET's parser. The count of characters read is checked: without it "0x10" was taken as 0
    /// (CsvNumberProperties found it).
    /// </summary>
    internal static bool TryNumber(ReadOnlySpan<char> cell, out double value) =>
        (FastDoubleParser.TryParseDouble(cell, out int used, out value, decimal_separator: '.') && used == cell.Length)
        || double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>A text cell that must not be empty.</summary>
    public string Text(CsvRow row, int column)
    {
        string cell = row.Cells[column];
        if (cell.Length == 0)
            throw new DataFileException(
                File,
                row.Line,
                column + 1,
                Header[column],
                "the cell is empty but a value is required."
            );
        return cell;
    }
}
