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
/// with the file, the row and the column.
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
        CancellationToken cancellationToken = default
    ) => ReadAsync(path, names, idColumn, cancellationToken).GetAwaiter().GetResult();

    private static async Task<NumericColumns.Result> ReadAsync(
        string path,
        IEnumerable<string> names,
        string? idColumn,
        CancellationToken ct
    )
    {
        CsvTable.RequireFile(path, "Parquet");
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(path, cancellationToken: ct);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            throw new DataFileException(
                path,
                0,
                0,
                null,
                "this is not a readable Parquet file (its header or footer is missing or damaged)."
            );
        }
        await using var _ = reader;
        var fields = reader.Schema.DataFields.Where(f => !f.IsArray && f.MaxRepetitionLevel == 0).ToArray();
        var header = fields.Select(f => f.Name).ToArray();

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
        wanted = wanted.Distinct(StringComparer.Ordinal).ToList();
        var chosen = wanted.Select(n => Field(path, fields, header, n, "named in --y or --x")).ToArray();
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
            : fields.FirstOrDefault(f => f.Name is "city" or "id" or "unit" or "city_id");

        long total = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            total += group.RowCount;
        }
        if (total == 0)
            throw new DataFileException(path, 0, 0, null, "the file has a schema but no rows.");
        if (total > Array.MaxLength)
            throw new DataFileException(path, 0, 0, null, $"the file has {total:N0} rows, more than one array holds.");
        int rows = (int)total;
        // The footer's row count is the file's word, and a constant column compresses to a few
        // bytes, so a small file may claim billions of rows: check the memory before allocating.
        long bytes = total * 8 * chosen.Length;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available / 2)
            throw new DataFileException(
                path,
                0,
                0,
                null,
                $"the file has {total:N0} rows; {chosen.Length} columns of them need {bytes / (1 << 20):N0} MiB, more than half of this machine's memory ({available / (1 << 20):N0} MiB)."
            );
        var values = chosen.Select(_ => GC.AllocateUninitializedArray<double>(rows)).ToArray();
        var ids = new List<string>(idField is null ? 0 : rows);
        var seen = idField is null ? null : new HashSet<string>(StringComparer.Ordinal);

        int at = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            ct.ThrowIfCancellationRequested();
            using var group = reader.OpenRowGroupReader(g);
            int count = checked((int)group.RowCount);
            for (int c = 0; c < chosen.Length; c++)
            {
                var dest = values[c].AsMemory(at, count);
                await ReadNumbers(group, chosen[c], dest, ct);
                var span = dest.Span;
                for (int i = 0; i < span.Length; i++)
                    if (!double.IsFinite(span[i]) && !IsMissing(span, i, chosen[c]))
                        throw new DataFileException(
                            path,
                            0,
                            0,
                            null,
                            $"row {at + i + 1:N0}, column '{chosen[c].Name}': the value {span[i]} is not a finite number."
                        );
            }
            if (idField is not null)
                await ReadIds(path, group, idField, at, count, ids, seen!, ct);
            at += count;
        }
        Unmark(values);
        return new NumericColumns.Result(
            chosen.Select((f, c) => (f.Name, values[c])).ToArray(),
            ids,
            rows
        );
    }

    // Nulls are written as a NaN with this payload while reading, so that a NaN stored in the
    // file (refused) and a null (missing) stay apart; Unmark turns them into plain NaN.
    private static readonly double Null = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0A11);

    private static bool IsMissing(Span<double> span, int i, DataField field) =>
        field.IsNullable && BitConverter.DoubleToInt64Bits(span[i]) == BitConverter.DoubleToInt64Bits(Null);

    private static void Unmark(double[][] values)
    {
        foreach (var column in values)
            for (int i = 0; i < column.Length; i++)
                if (BitConverter.DoubleToInt64Bits(column[i]) == BitConverter.DoubleToInt64Bits(Null))
                    column[i] = double.NaN;
    }

    private static async Task ReadNumbers(
        ParquetRowGroupReader group,
        DataField field,
        Memory<double> dest,
        CancellationToken ct
    )
    {
        if (field.ClrType == typeof(double) && !field.IsNullable)
        {
            await group.ReadAsync(field, dest, null, ct);
            return;
        }
        switch (field.ClrType)
        {
            case var t when t == typeof(double):
                await Convert<double>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(float):
                await Convert<float>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(int):
                await Convert<int>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(long):
                await Convert<long>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(short):
                await Convert<short>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(byte):
                await Convert<byte>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(sbyte):
                await Convert<sbyte>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(ushort):
                await Convert<ushort>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(uint):
                await Convert<uint>(group, field, dest, v => v, ct);
                break;
            case var t when t == typeof(ulong):
                await Convert<ulong>(group, field, dest, v => v, ct);
                break;
            default:
                await Convert<decimal>(group, field, dest, v => (double)v, ct);
                break;
        }
    }

    private static async Task Convert<T>(
        ParquetRowGroupReader group,
        DataField field,
        Memory<double> dest,
        Func<T, double> convert,
        CancellationToken ct
    )
        where T : struct
    {
        int n = dest.Length;
        if (field.IsNullable)
        {
            var buffer = ArrayPool<T?>.Shared.Rent(n);
            try
            {
                await group.ReadAsync(field, buffer.AsMemory(0, n), null, ct);
                var span = dest.Span;
                for (int i = 0; i < n; i++)
                    span[i] = buffer[i] is { } v ? convert(v) : Null;
            }
            finally
            {
                ArrayPool<T?>.Shared.Return(buffer);
            }
        }
        else
        {
            var buffer = ArrayPool<T>.Shared.Rent(n);
            try
            {
                await group.ReadAsync(field, buffer.AsMemory(0, n), null, ct);
                var span = dest.Span;
                for (int i = 0; i < n; i++)
                    span[i] = convert(buffer[i]);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(buffer);
            }
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
                cells[i] = BitConverter.DoubleToInt64Bits(numbers[i]) == BitConverter.DoubleToInt64Bits(Null)
                    ? null
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
