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
    ) => Read(path, names, idColumn, cancellationToken, design, SplitFromBytes);

    /// <summary>Files from this size are parsed in two halves at once (<see cref="FindSplit"/>).</summary>
    internal const long SplitFromBytes = 4 << 20;

    /// <summary>The most data rows a file may have: one column is one .NET array.</summary>
    internal const int MaxRows = 0x7FFFFFC7; // Array.MaxLength

    /// <summary>
    /// As above, splitting files from <paramref name="splitFromBytes"/> bytes and refusing more
    /// than <paramref name="maxRows"/> data rows (tests split small files and lower the limit).
    /// </summary>
    internal static Result Read(
        string path,
        IEnumerable<string> names,
        string? idColumn,
        CancellationToken cancellationToken,
        ModelSpec? design,
        long splitFromBytes,
        int maxRows = MaxRows
    )
    {
        if (ParquetColumns.IsParquet(path))
            return ParquetColumns.Read(path, names, idColumn, cancellationToken, design);
        CsvTable.RequireFile(path);

        // A large file is read in two halves split at a line end after the header, the second
        // from its own handle: at once, each into its own columns, when there are no ids to check
        // across the halves; one after the other otherwise. The first half's reader stops at the split.
        using var file = new LimitedStream(
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan)
        );
        var split = file.CanSplit && file.Length >= splitFromBytes ? FindSplit(path) : null;
        if (split is { } bound)
            file.Limit = bound.Offset;
        using var text = new StreamReader(file, detectEncodingFromByteOrderMarks: true);
        int skipped = 0;
        while (text.Peek() == '#')
        {
            text.ReadLine();
            skipped++;
        }
        using var reader = ReaderWithHeader(path, text, skipped + 1);
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

        var rows = new Part(path, header, indices, idIndex, wanted.Count, maxRows);
        var ids = new List<string>();
        var seen = idIndex >= 0 ? new HashSet<string>(StringComparer.Ordinal) : null;
        Part? second = null;
        try
        {
            if (split is { } half && seen is null)
            {
                second = new Part(path, header, indices, idIndex, wanted.Count, maxRows);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var other = Task.Run(() => second.ReadFrom(half, ids: null, seen: null, stop.Token), stop.Token);
                try
                {
                    rows.Read(reader, skipped, ids, seen, cancellationToken);
                }
                catch
                {
                    // The first half's error is the file's first; the second half's is not waited for.
                    stop.Cancel();
                    try
                    {
                        other.Wait(CancellationToken.None);
                    }
                    catch (AggregateException) { }
                    throw;
                }
                try
                {
                    other.Wait(CancellationToken.None);
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                }
                rows.Append(second);
            }
            else
            {
                rows.Read(reader, skipped, ids, seen, cancellationToken);
                if (split is { } next)
                    rows.ReadFrom(next, ids, seen, cancellationToken);
            }
            if (rows.Count == 0)
                throw new DataFileException(path, skipped + 2, 0, null, "the file has a header but no data rows.");

            // Every column in one array (huge-page backed, so it costs a few faults rather than one
            // per 4 KiB), or laid out as the design will be; each assembled once, the blocks going
            // as they are copied.
            var taken = design is null
                ? ColumnBuilder.TakeAll(rows.Columns)
                : ColumnBuilder.TakeAll(rows.Columns, wanted, design);
            return new Result(wanted.Select((name, c) => (name, taken[c])).ToArray(), ids, rows.Count);
        }
        finally
        {
            rows.Dispose();
            second?.Dispose();
        }
    }

    /// <summary>
    /// A reader past the header on line <paramref name="line"/>. Sep refuses a header that names a
    /// column twice with its own exception text; that comes back as the located refusal the rest
    /// of the header check gives (<see cref="CsvTable.CheckHeader"/>), read again from the file.
    /// </summary>
    private static SepReader ReaderWithHeader(string path, TextReader text, int line)
    {
        try
        {
            return NewReader(text);
        }
        catch (ArgumentException) when (HeaderRefusal(path, line) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>The header check's refusal of the header on line <paramref name="line"/>, or null when it passes.</summary>
    private static DataFileException? HeaderRefusal(string path, int line)
    {
        using var text = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        for (int i = 1; i < line; i++)
            text.ReadLine();
        using var reader = NewReader(text, hasHeader: false);
        foreach (var row in reader)
        {
            var names = new string[row.ColCount];
            for (int c = 0; c < names.Length; c++)
                names[c] = row[c].ToString().Trim().TrimStart('\uFEFF');
            try
            {
                CsvTable.CheckHeader(path, names, line);
            }
            catch (DataFileException refusal)
            {
                return refusal;
            }
            break;
        }
        return null;
    }

    private static SepReader NewReader(TextReader text, bool hasHeader = true) =>
        Sep.New(',')
            .Reader(o => o with { HasHeader = hasHeader, DisableColCountCheck = true, Trim = SepTrim.Outer, Unescape = true })
            .From(text);

    /// <summary>A byte offset just after a line end near the middle, and the lines before it.</summary>
    internal readonly record struct Split(long Offset, int LinesBefore);

    /// <summary>
    /// Where a file can be read in two halves whose line numbers are known: just after the
    /// first line feed past the middle, counting the line feeds before it. Null when a split
    /// could fall inside a quoted cell (the file has a quote), when a line could end in a lone
    /// carriage return (then line feeds do not count lines), when the text is UTF-16 or
    /// UTF-32 (a line feed byte is not a line end there), or when the leading comment lines
    /// and the header do not end before the split.
    /// </summary>
    internal static Split? FindSplit(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long middle = file.Length / 2,
            at = 0,
            offset = -1;
        int lines = 0,
            leading = -1; // comment lines before the header, once counted
        bool carriageReturn = false;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = file.Read(buffer, 0, 1 << 20)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                if (at == 0)
                {
                    if (span.Length >= 2 && (span[0] == 0xFE || span[0] == 0xFF || span[0] == 0 || span[1] == 0))
                        return null;
                    leading = LeadingComments(span.StartsWith("\uFEFF"u8) ? span[3..] : span);
                }
                if (span.Contains((byte)'"'))
                    return null;
                if (carriageReturn && span[0] != '\n')
                    return null;
                for (int i = span.IndexOf((byte)'\r'); i >= 0;)
                {
                    if (i + 1 < span.Length && span[i + 1] != '\n')
                        return null;
                    int next = span[(i + 1)..].IndexOf((byte)'\r');
                    i = next < 0 ? -1 : i + 1 + next;
                }
                carriageReturn = span[^1] == '\r';
                if (offset < 0)
                {
                    int from = (int)Math.Clamp(middle - at, 0, read);
                    int feed = span[from..].IndexOf((byte)'\n');
                    if (feed >= 0)
                    {
                        offset = at + from + feed + 1;
                        lines += span[..(from + feed + 1)].Count((byte)'\n');
                    }
                    else
                        lines += span.Count((byte)'\n');
                }
                at += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return !carriageReturn && offset > 0 && offset < at && lines > leading && leading >= 0
            ? new Split(offset, lines)
            : null;
    }

    /// <summary>Lines starting with '#' at the start of the text; -1 when they may run past it.</summary>
    private static int LeadingComments(ReadOnlySpan<byte> text)
    {
        int count = 0;
        while (!text.IsEmpty && text[0] == '#')
        {
            int end = text.IndexOf((byte)'\n');
            if (end < 0)
                return -1;
            text = text[(end + 1)..];
            count++;
        }
        return text.IsEmpty ? -1 : count;
    }

    /// <summary>The wanted columns of some of a file's rows, and how to read rows into them.</summary>
    private sealed class Part(string path, string[] header, int[] indices, int idIndex, int columns, int maxRows)
        : IDisposable
    {
        public ColumnBuilder[] Columns { get; } = Enumerable.Range(0, columns).Select(_ => new ColumnBuilder()).ToArray();

        public int Count { get; private set; }

        /// <summary>The rows from <paramref name="split"/> to the end of the file (no header there).</summary>
        public void ReadFrom(Split split, List<string>? ids, HashSet<string>? seen, CancellationToken cancellationToken)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            stream.Seek(split.Offset, SeekOrigin.Begin);
            using var text = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
            using var reader = NewReader(text, hasHeader: false);
            Read(reader, split.LinesBefore, ids, seen, cancellationToken, headerless: true);
        }

        /// <summary>Reads every row of <paramref name="reader"/>; its line 1 is the file's line <paramref name="before"/> + 1.</summary>
        public void Read(
            SepReader reader,
            int before,
            List<string>? ids,
            HashSet<string>? seen,
            CancellationToken cancellationToken,
            bool headerless = false
        )
        {
            int rows = Count;
            bool first = true;
            foreach (var row in reader)
            {
                // Sep (0.17.1) numbers a headerless reader's first row line 2, as it does its
                // second; the first row is line 1 (CsvSplitProperties found it).
                int line = before + (headerless && first ? 1 : row.LineNumberFrom);
                first = false;
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
                if (rows == maxRows)
                    throw TooManyRows(line);
                for (int c = 0; c < indices.Length; c++)
                {
                    var cell = row[indices[c]].Span;
                    Columns[c].Add(
                        CsvTable.TryNumber(cell, out double v) && double.IsFinite(v) ? v
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
                    ids!.Add(id);
                }
                rows++;
            }
            Count = rows;
        }

        /// <summary>Moves the other part's rows after this part's (their blocks, not a copy).</summary>
        public void Append(Part other)
        {
            if ((long)Count + other.Count > maxRows)
                throw TooManyRows(0); // the halves together; no one line passed it

            for (int c = 0; c < Columns.Length; c++)
                Columns[c].AppendMoved(other.Columns[c]);
            Count += other.Count;
            other.Count = 0;
        }

        private DataFileException TooManyRows(int line) =>
            new(
                path,
                line,
                0,
                null,
                $"the file has more than {maxRows:N0} data rows, the most one column can hold; fit a sample of the rows."
            );

        public void Dispose()
        {
            foreach (var b in Columns)
                b.Dispose();
        }
    }

    /// <summary>
    /// A read-only file stream that ends at <see cref="Limit"/> (the first half of a split file).
    /// It counts what it has read rather than asking the file, so a pipe or FIFO (which cannot
    /// seek, and is never split) reads through it as through the file itself.
    /// </summary>
    private sealed class LimitedStream(FileStream inner) : Stream
    {
        private long read;

        public long Limit { get; set; } = long.MaxValue;

        /// <summary>Whether the file has a length and can be opened again at an offset.</summary>
        public bool CanSplit => inner.CanSeek;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long left = Limit - read;
            if (left <= 0)
                return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
            read += n;
            return n;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }

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
