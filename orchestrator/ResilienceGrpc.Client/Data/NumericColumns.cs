using System.Globalization;
using csFastFloat;
using nietras.SeparatedValues;
using ResilienceGrpc.Regression.Domain;

namespace ResilienceGrpc.Client.Data;

/// <summary>
/// Reads only the named numeric columns (and an optional id column) of a CSV file,
/// streaming: rows are parsed by Sep straight from the file into each column's blocks
/// (<see cref="ColumnBuilder"/>: outside the GC heap, huge-page backed), so the process never
/// holds the text or a row object, and each column is assembled once at the end. Same
/// conventions as <see cref="CsvTable"/>: a header row,
/// comma separated, <c>.</c> decimals, an empty cell for a missing value, leading lines
/// starting with <c>#</c> are comments. A bad cell fails with file, line and column, and
/// quotes that cell only (shortened), never the rest of the file.
/// </summary>
public static class NumericColumns
{
    /// <summary>The columns read, in the order asked, and the row ids (empty when there is no id column).</summary>
    public sealed record Result(
        IReadOnlyList<(string Name, ReadOnlyMemory<double> Values)> Columns,
        IReadOnlyList<string> RowIds,
        int Rows
    );

    /// <summary>
    /// Reads <paramref name="names"/> (a name <c>a*b</c> that is not a column reads
    /// <c>a</c> and <c>b</c>) and the id column: <paramref name="idColumn"/>, or a column
    /// named city, id, unit or city_id when there is one. A path ending in <c>.parquet</c>
    /// (or <c>.pq</c>) is read as Apache Parquet (<see cref="ParquetColumns"/>). Given the
    /// <paramref name="design"/> the columns will be fitted with, they are laid out as its design
    /// matrix (<see cref="DesignMatrix.Layout"/>), so that building it copies nothing.
    /// </summary>
    public static Result Read(
        string path,
        IEnumerable<string> names,
        string? idColumn,
        CancellationToken cancellationToken = default,
        ModelSpec? design = null
    )
    {
        if (ParquetColumns.IsParquet(path))
            return ParquetColumns.Read(path, names, idColumn, cancellationToken, design);
        CsvTable.RequireFile(path);

        using var text = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        int skipped = 0;
        while (text.Peek() == '#')
        {
            text.ReadLine();
            skipped++;
        }
        using var reader = Sep.New(',')
            .Reader(o => o with { DisableColCountCheck = true, Trim = SepTrim.Outer, Unescape = true })
            .From(text);
        if (!reader.HasHeader || reader.Header.IsEmpty)
            throw new DataFileException(
                path,
                skipped + 1,
                0,
                null,
                "the file is empty; it needs a header row and data rows."
            );
        var header = reader.Header.ColNames.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray();
        CsvTable.CheckHeader(path, header, skipped + 1);

        var wanted = Wanted(header, names);
        var indices = wanted.Select(n => IndexOf(path, header, n, skipped + 1, "named in --y or --x")).ToArray();
        int idIndex = idColumn is not null
            ? IndexOf(path, header, idColumn, skipped + 1, "the row id")
            : Array.FindIndex(header, IsIdName);

        var builders = wanted.Select(_ => new ColumnBuilder()).ToArray();
        try
        {
            return ReadRows(path, reader, header, wanted, indices, idIndex, skipped, builders, design, cancellationToken);
        }
        finally
        {
            foreach (var b in builders)
                b.Dispose();
        }
    }

    private static Result ReadRows(
        string path,
        SepReader reader,
        string[] header,
        List<string> wanted,
        int[] indices,
        int idIndex,
        int skipped,
        ColumnBuilder[] builders,
        ModelSpec? design,
        CancellationToken cancellationToken
    )
    {
        var ids = new List<string>();
        var seen = idIndex >= 0 ? new HashSet<string>(StringComparer.Ordinal) : null;
        int rows = 0;
        foreach (var row in reader)
        {
            int line = skipped + row.LineNumberFrom;
            if (row.ColCount == 1 && row[0].Span.IsEmpty)
                continue; // blank line
            if (row.Span.Length > 0 && row.Span[0] == '#')
                continue; // comment line
            if (row.ColCount != header.Length)
                throw new DataFileException(
                    path,
                    line,
                    Math.Min(row.ColCount, header.Length) + 1,
                    null,
                    $"the row has {row.ColCount} cells but the header has {header.Length} columns."
                );
            if ((rows & 0xFFFF) == 0)
                cancellationToken.ThrowIfCancellationRequested();
            for (int c = 0; c < indices.Length; c++)
            {
                var cell = row[indices[c]].Span;
                builders[c].Add(
                    TryNumber(cell, out double v) && double.IsFinite(v) ? v
                    : cell.IsEmpty ? double.NaN
                    : throw CsvTable.NotANumber(path, line, indices[c], header[indices[c]], cell)
                );
            }
            if (seen is not null)
            {
                var cell = row[idIndex].Span;
                if (cell.IsEmpty)
                    throw new DataFileException(
                        path,
                        line,
                        idIndex + 1,
                        header[idIndex],
                        "the row id is empty but every row needs one."
                    );
                string id = cell.ToString();
                if (!seen.Add(id))
                    throw new DataFileException(
                        path,
                        line,
                        idIndex + 1,
                        header[idIndex],
                        $"row id '{CsvTable.Quote(cell)}' appears twice; ids must be unique."
                    );
                ids.Add(id);
            }
            rows++;
        }
        if (rows == 0)
            throw new DataFileException(path, skipped + 2, 0, null, "the file has a header but no data rows.");

        // Every column in one array (huge-page backed, so it costs a few faults rather than one
        // per 4 KiB), each assembled once; the blocks go as they are copied.
        var taken = design is null ? ColumnBuilder.TakeAll(builders) : ColumnBuilder.TakeAll(builders, wanted, design);
        return new Result(wanted.Select((name, c) => (name, taken[c])).ToArray(), ids, rows);
    }

    /// <summary>
    /// A cell's number, exactly as .NET's invariant parse (<see cref="CsvTable"/>) reads it:
    /// csFastFloat (what Sep itself uses, here called directly so that the row loop's code is
    /// precompiled rather than a generic instantiation the JIT must tier up) when it reads the
    /// whole cell, else .NET's parser. The count of characters read is checked: without it
    /// "0x10" was taken as 0 (CsvNumberProperties found it).
    /// </summary>
    private static bool TryNumber(ReadOnlySpan<char> cell, out double value) =>
        (FastDoubleParser.TryParseDouble(cell, out int used, out value, decimal_separator: '.') && used == cell.Length)
        || double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// The columns to read for <paramref name="names"/>, once each, in order: a name that is a
    /// column, or else the factors of a product <c>a*b</c> (CSV and Parquet alike).
    /// </summary>
    internal static List<string> Wanted(string[] header, IEnumerable<string> names)
    {
        var wanted = new List<string>();
        foreach (var name in names)
        {
            if (Array.IndexOf(header, name) >= 0)
                wanted.Add(name);
            else if (name.Split('*') is { Length: > 1 } parts)
                wanted.AddRange(parts);
            else
                wanted.Add(name);
        }
        return wanted.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The names taken as the row id column when none is named.</summary>
    internal static bool IsIdName(string column) => column is "city" or "id" or "unit" or "city_id";

    private static int IndexOf(string path, string[] header, string name, int line, string purpose)
    {
        int c = Array.IndexOf(header, name);
        return c >= 0 ? c : throw CsvTable.NoColumn(path, header, name, purpose, line);
    }
}
