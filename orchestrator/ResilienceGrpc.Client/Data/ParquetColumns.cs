using System.Buffers;
using Parquet;
using Parquet.Schema;

namespace ResilienceGrpc.Client.Data;

/// <summary>
/// Reads the named numeric columns (and an optional id column) of an Apache Parquet file
/// with Parquet.Net, the counterpart of <see cref="NumericColumns"/> for CSV: the same
/// result, the same product names (<c>a*b</c>), the same id rules. The row count is
/// known from the footer, so each column's array is allocated once and every row group
/// is decoded straight into its slice (non-null doubles), or through one pooled buffer
/// of the group's size (other numeric types, nullable columns): no row objects and no
/// second copy. A null is a missing value, as an empty CSV cell; NaN or ±∞ is refused
/// with the file, the row and the column. Whatever the decoder throws on a damaged file is
/// refused in one sentence naming the file (and the row group and column of a page), and a
/// footer the decoder never finishes is given up on (<see cref="MetadataTimeout"/>).
/// </summary>
public static class ParquetColumns
{
    /// <summary>Whether a path names a Parquet file (by its extension).</summary>
    public static bool IsParquet(string path) =>
        path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".pq", StringComparison.OrdinalIgnoreCase);

    private static readonly Type[] Numeric =
    [
        typeof(double),
        typeof(float),
        typeof(int),
        typeof(long),
        typeof(short),
        typeof(byte),
        typeof(sbyte),
        typeof(ushort),
        typeof(uint),
        typeof(ulong),
        typeof(decimal),
    ];

    /// <summary>Reads <paramref name="names"/> and the id column, as <see cref="NumericColumns.Read"/> does for CSV.</summary>
    public static NumericColumns.Result Read(
        string path,
        IEnumerable<string> names,
        string? idColumn,
        CancellationToken cancellationToken = default,
        Regression.Domain.ModelSpec? design = null
    ) => ReadAsync(path, names, idColumn, design, cancellationToken).GetAwaiter().GetResult();

    private static async Task<NumericColumns.Result> ReadAsync(
        string path,
        IEnumerable<string> names,
        string? idColumn,
        Regression.Domain.ModelSpec? design,
        CancellationToken ct
    )
    {
        CsvTable.RequireFile(path, "Parquet");
        var reader = await OpenAsync(path, ct);
        await using var _ = reader;
        var fields = reader.Schema.DataFields.Where(f => !f.IsArray && f.MaxRepetitionLevel == 0).ToArray();
        var header = fields.Select(f => f.Name).ToArray();

        var chosen = NumericColumns.Wanted(header, names).Select(n => Field(path, fields, header, n, "named in --y or --x")).ToArray();
        foreach (var f in chosen)
            if (Array.IndexOf(Numeric, f.ClrType) < 0)
                throw new DataFileException(
                    path,
                    0,
                    0,
                    null,
                    $"column '{f.Name}' holds {Describe(f.ClrType)}, not numbers; the regression reads numeric columns only."
                );
        DataField? idField = idColumn is not null
            ? Field(path, fields, header, idColumn, "the row id")
            : fields.FirstOrDefault(f => NumericColumns.IsIdName(f.Name));

        long total = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
            total += Decode(
                path,
                g,
                reader.RowGroupCount,
                null,
                () =>
                {
                    using var group = reader.OpenRowGroupReader(g);
                    return group.RowCount >= 0 ? group.RowCount : throw Damaged(path, g, reader.RowGroupCount, null);
                }
            );
        if (total == 0)
            throw new DataFileException(path, 0, 0, null, "the file has a schema but no rows.");
        if (total > Array.MaxLength)
            throw new DataFileException(path, 0, 0, null, $"the file has {total:N0} rows, more than one array holds.");
        int rows = (int)total;
        // The footer's row count is the file's word, and a constant column compresses to a few
        // bytes, so a small file may claim billions of rows: check the memory before allocating.
        // The design adds the intercept's column to the ones read.
        int slots = chosen.Length + (design is { NoIntercept: false } ? 1 : 0);
        long bytes = total * 8 * slots;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available / 2)
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"the file has {total:N0} rows; {slots} columns of them need {bytes / (1 << 20):N0} MiB, more than half of this machine's memory ({available / (1 << 20):N0} MiB)."
            );
        // Every column in one huge-page backed array, as the CSV reader does, or laid out as the
        // design will be when the model is known.
        var lengths = Enumerable.Repeat(rows, chosen.Length).ToArray();
        Memory<double>[] values;
        try
        {
            values = design is null
                ? Regression.Domain.LargeArrays.Columns(lengths)
                : Regression.Domain.DesignMatrix.Layout(chosen.Select(f => f.Name).ToArray(), lengths, design);
        }
        catch (Exception e) when (e is OutOfMemoryException or OverflowException)
        {
            // Under the half but more than the heap will give (the runtime reports a refused
            // array of many gigabytes as either).
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"the file has {total:N0} rows; {slots} columns of them need {bytes / (1 << 20):N0} MiB, more than this process could allocate."
            );
        }
        var ids = new List<string>(idField is null ? 0 : rows);
        var seen = idField is null ? null : new HashSet<string>(StringComparer.Ordinal);

        int at = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            ct.ThrowIfCancellationRequested();
            using var group = Decode(path, g, reader.RowGroupCount, null, () => reader.OpenRowGroupReader(g));
            int count = checked((int)group.RowCount);
            for (int c = 0; c < chosen.Length; c++)
            {
                var dest = values[c].Slice(at, count);
                int bad = await DecodeAsync(
                    path,
                    g,
                    reader.RowGroupCount,
                    chosen[c].Name,
                    () => ReadNumbers(group, chosen[c], dest, ct),
                    ct
                );
                if (bad >= 0)
                    throw new DataFileException(
                        path,
                        0,
                        0,
                        null,
                        $"row {at + bad + 1:N0}, column '{chosen[c].Name}': the value {dest.Span[bad]} is not a finite number."
                    );
            }
            if (idField is not null)
                await DecodeAsync(
                    path,
                    g,
                    reader.RowGroupCount,
                    idField.Name,
                    async () =>
                    {
                        await ReadIds(path, group, idField, at, count, ids, seen!, ct);
                        return 0;
                    },
                    ct
                );
            at += count;
        }
        return new NumericColumns.Result(
            chosen.Select((f, c) => (f.Name, (ReadOnlyMemory<double>)values[c])).ToArray(),
            ids,
            rows
        );
    }

    /// <summary>
    /// How long the file's metadata (its footer) may take to decode. Parquet.Net 6.1.0 loops
    /// for ever on some damaged footers (a variable-length integer that runs past the footer's
    /// end reads the end as 0xFF bytes, which never finish it) and does not observe
    /// cancellation there, so the footer is decoded on a pool thread and abandoned after this
    /// long; a whole footer of a valid file takes milliseconds.
    /// </summary>
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Opens the file and decodes its metadata, or refuses it as damaged in one sentence.</summary>
    private static async Task<ParquetReader> OpenAsync(string path, CancellationToken ct)
    {
        var open = Task.Run(
            async () =>
            {
                var reader = await ParquetReader.CreateAsync(path, cancellationToken: ct);
                try
                {
                    _ = reader.Schema; // made from the footer on first use, and as liable to fail
                    return reader;
                }
                catch
                {
                    await reader.DisposeAsync();
                    throw;
                }
            },
            CancellationToken.None
        );
        try
        {
            return await open.WaitAsync(MetadataTimeout, ct);
        }
        catch (Exception e)
        {
            // A decoding thread left behind cannot be stopped; whatever it returns later is closed.
            if (!open.IsCompleted)
                _ = open.ContinueWith(
                    t => t.Result.DisposeAsync().AsTask(),
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnRanToCompletion,
                    TaskScheduler.Default
                );
            if (IsCancellation(e, ct))
                throw;
            // Parquet.Net reports a damaged footer with whatever its decoder met: Thrift
            // protocol errors, overflows, null references, impossible array sizes.
            throw new DataFileException(
                path,
                0,
                0,
                null,
                e is TimeoutException
                    ? $"this is not a readable Parquet file (its metadata did not decode within {MetadataTimeout.TotalSeconds:0.#} s: the footer is damaged)."
                    : "this is not a readable Parquet file (its header or footer is missing or damaged)."
            );
        }
    }

    /// <summary>Runs a step of decoding row group <paramref name="g"/>, refusing whatever it throws as damage in one sentence.</summary>
    private static T Decode<T>(string path, int g, int groups, string? column, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (e is not DataFileException and not OperationCanceledException)
        {
            throw Damaged(path, g, groups, column);
        }
    }

    /// <summary>As <see cref="Decode{T}"/>, for an asynchronous step.</summary>
    private static async Task<T> DecodeAsync<T>(
        string path,
        int g,
        int groups,
        string? column,
        Func<Task<T>> step,
        CancellationToken ct
    )
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (e is not DataFileException && !IsCancellation(e, ct))
        {
            throw Damaged(path, g, groups, column);
        }
    }

    private static bool IsCancellation(Exception e, CancellationToken ct) =>
        e is OperationCanceledException && ct.IsCancellationRequested;

    private static DataFileException Damaged(string path, int g, int groups, string? column) =>
        new(
            path,
            0,
            0,
            null,
            $"row group {g + 1} of {groups}{(column is null ? "" : $", column '{column}'")}: the data cannot be decoded; this part of the file is damaged (or needs more memory than is available)."
        );

    /// <summary>The first value of <paramref name="span"/> that is not finite, or −1.</summary>
    private static int FirstNonFinite(ReadOnlySpan<double> span)
    {
        for (int i = 0; i < span.Length; i++)
            if (!double.IsFinite(span[i]))
                return i;
        return -1;
    }

    /// <summary>
    /// Decodes a column chunk into <paramref name="dest"/> as doubles, a null as NaN (missing);
    /// returns the index of the first non-null value that is not finite (a NaN or ±∞ stored in
    /// the file), or −1.
    /// </summary>
    private static async Task<int> ReadNumbers(
        ParquetRowGroupReader group,
        DataField field,
        Memory<double> dest,
        CancellationToken ct
    )
    {
        if (field.ClrType == typeof(double) && !field.IsNullable)
        {
            await group.ReadAsync(field, dest, null, ct);
            return FirstNonFinite(dest.Span);
        }
        return field.ClrType switch
        {
            var t when t == typeof(double) => await Convert<double>(group, field, dest, v => v, ct),
            var t when t == typeof(float) => await Convert<float>(group, field, dest, v => v, ct),
            var t when t == typeof(int) => await Convert<int>(group, field, dest, v => v, ct),
            var t when t == typeof(long) => await Convert<long>(group, field, dest, v => v, ct),
            var t when t == typeof(short) => await Convert<short>(group, field, dest, v => v, ct),
            var t when t == typeof(byte) => await Convert<byte>(group, field, dest, v => v, ct),
            var t when t == typeof(sbyte) => await Convert<sbyte>(group, field, dest, v => v, ct),
            var t when t == typeof(ushort) => await Convert<ushort>(group, field, dest, v => v, ct),
            var t when t == typeof(uint) => await Convert<uint>(group, field, dest, v => v, ct),
            var t when t == typeof(ulong) => await Convert<ulong>(group, field, dest, v => v, ct),
            _ => await Convert<decimal>(group, field, dest, v => (double)v, ct),
        };
    }

    /// <summary>As <see cref="ReadNumbers"/>, through one pooled buffer of the column's own type.</summary>
    private static async Task<int> Convert<T>(
        ParquetRowGroupReader group,
        DataField field,
        Memory<double> dest,
        Func<T, double> convert,
        CancellationToken ct
    )
        where T : struct
    {
        int n = dest.Length;
        if (!field.IsNullable)
        {
            var buffer = ArrayPool<T>.Shared.Rent(n);
            try
            {
                await group.ReadAsync(field, buffer.AsMemory(0, n), null, ct);
                var span = dest.Span;
                for (int i = 0; i < n; i++)
                    span[i] = convert(buffer[i]);
                return FirstNonFinite(span);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(buffer);
            }
        }
        var nullable = ArrayPool<T?>.Shared.Rent(n);
        try
        {
            await group.ReadAsync(field, nullable.AsMemory(0, n), null, ct);
            var span = dest.Span;
            int bad = -1;
            for (int i = 0; i < n; i++)
            {
                span[i] = nullable[i] is { } v ? convert(v) : double.NaN;
                if (bad < 0 && nullable[i] is not null && !double.IsFinite(span[i]))
                    bad = i;
            }
            return bad;
        }
        finally
        {
            ArrayPool<T?>.Shared.Return(nullable);
        }
    }

    private static async Task ReadIds(
        string path,
        ParquetRowGroupReader group,
        DataField field,
        int at,
        int count,
        List<string> ids,
        HashSet<string> seen,
        CancellationToken ct
    )
    {
        string?[] cells = new string?[count];
        if (IsText(field.ClrType))
            await group.ReadAsync(field, cells.AsMemory(), null, ct);
        else if (Array.IndexOf(Numeric, field.ClrType) >= 0)
        {
            var numbers = new double[count];
            await ReadNumbers(group, field, numbers, ct);
            for (int i = 0; i < count; i++)
                cells[i] = double.IsNaN(numbers[i])
                    ? null // a null, or a NaN: no id either way
                    : numbers[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
        else
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"the id column '{field.Name}' holds {Describe(field.ClrType)}; ids must be text or integers."
            );
        for (int i = 0; i < count; i++)
        {
            var id = cells[i];
            if (string.IsNullOrEmpty(id))
                throw new DataFileException(
                    path,
                    0,
                    0,
                    null,
                    $"row {at + i + 1:N0}, column '{field.Name}': the row id is empty but every row needs one."
                );
            if (!seen.Add(id))
                throw new DataFileException(
                    path,
                    0,
                    0,
                    null,
                    $"row {at + i + 1:N0}, column '{field.Name}': row id '{CsvTable.Quote(id)}' appears twice; ids must be unique."
                );
            ids.Add(id);
        }
    }

    private static bool IsText(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>);

    private static string Describe(Type t) =>
        IsText(t) ? "text"
        : t == typeof(bool) ? "true/false values"
        : t == typeof(DateTime) || t == typeof(DateOnly) || t == typeof(DateTimeOffset) ? "dates"
        : t == typeof(TimeSpan) || t == typeof(TimeOnly) ? "times"
        : t == typeof(byte[]) ? "binary values"
        : $"{t.Name} values";

    private static DataField Field(string path, DataField[] fields, string[] header, string name, string purpose)
    {
        int c = Array.IndexOf(header, name);
        return c >= 0 ? fields[c] : throw CsvTable.NoColumn(path, header, name, purpose, 0);
    }
}
