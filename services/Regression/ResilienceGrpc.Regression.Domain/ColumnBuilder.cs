namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// A column of doubles of unknown final length, appended value by value (a CSV's rows) or span
/// by span (a stream's chunks) into a few blocks of <see cref="NativeDoubles"/>, then taken as
/// one array. The first block is 512 KiB, the next ones 8 MiB and huge-page backed, so a
/// 10⁶-row column costs a handful of 2 MiB faults rather than 2,000 4 KiB ones (about 10 µs
/// each on the development VM), and the GC never sees the blocks. <see cref="TakeAll"/>
/// unmaps each block as soon as it is copied, so assembling the columns never holds two
/// copies of the data. A builder given a <see cref="BlockPool"/> takes its blocks from the pool
/// and gives them back instead (a service's repeated streams then reuse memory already faulted
/// in). Dispose the builder if it is abandoned (docs/method.md, "The engine").
/// </summary>
public sealed unsafe class ColumnBuilder(BlockPool? pool = null) : IDisposable
{
    /// <summary>Values in a column's first block (512 KiB).</summary>
    public const int FirstBlock = 1 << 16;

    /// <summary>Values in each later block (8 MiB).</summary>
    public const int LargestBlock = 1 << 20;

    private readonly List<(NativeDoubles Block, int Used)> filled = [];
    private long filledCount;
    private NativeDoubles? current;
    private double* at;
    private int used,
        capacity;

    /// <summary>Values appended so far.</summary>
    public long Count => filledCount + used;

    /// <summary>Appends one value.</summary>
    public void Add(double value)
    {
        if (used == capacity)
            NextBlock(1);
        at[used++] = value;
    }

    /// <summary>Appends a run of values (kept in one block).</summary>
    public void Append(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
            return;
        if (capacity - used < values.Length)
            NextBlock(values.Length);
        values.CopyTo(new Span<double>(at + used, values.Length));
        used += values.Length;
    }

    /// <summary>
    /// Moves <paramref name="other"/>'s values after this column's: its blocks change hands,
    /// nothing is copied. <paramref name="other"/> is empty afterwards.
    /// </summary>
    public void AppendMoved(ColumnBuilder other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
            throw new ArgumentException("A column cannot be appended to itself.", nameof(other));
        Seal();
        other.Seal();
        foreach (var (block, n) in other.filled)
        {
            filled.Add((block, n));
            filledCount += n;
        }
        other.filled.Clear();
        other.filledCount = 0;
    }

    /// <summary>Closes the current block, so that the next value starts a new one.</summary>
    private void Seal()
    {
        if (current is not null)
        {
            filled.Add((current, used));
            filledCount += used;
        }
        current = null;
        at = null;
        used = capacity = 0;
    }

    private void NextBlock(int atLeast)
    {
        Seal();
        // One small block for a small column, then blocks large enough to be mostly huge pages.
        int length = Math.Max(atLeast, filled.Count == 0 ? FirstBlock : LargestBlock);
        current = pool?.Rent(length) ?? new NativeDoubles(length);
        at = (double*)current.DangerousGetHandle();
        used = 0;
        capacity = current.Length;
    }

    /// <summary>
    /// Every builder's column as a slice of one huge-page backed array (or one array each when
    /// they do not fit in one: <see cref="LargeArrays.Columns"/>); the builders are empty afterwards.
    /// </summary>
    public static ReadOnlyMemory<double>[] TakeAll(IReadOnlyList<ColumnBuilder> columns) =>
        Take(columns, LargeArrays.Columns);

    /// <summary>
    /// The builders' columns laid out for <paramref name="model"/>'s design
    /// (<see cref="DesignMatrix.Layout"/>), so that building the design copies nothing; the
    /// builders are empty afterwards.
    /// </summary>
    public static ReadOnlyMemory<double>[] TakeAll(
        IReadOnlyList<ColumnBuilder> columns,
        IReadOnlyList<string> names,
        ModelSpec model
    ) => Take(columns, lengths => DesignMatrix.Layout(names, lengths, model));

    private static ReadOnlyMemory<double>[] Take(
        IReadOnlyList<ColumnBuilder> columns,
        Func<IReadOnlyList<int>, Memory<double>[]> layout
    )
    {
        ArgumentNullException.ThrowIfNull(columns);
        var taken = layout(columns.Select(c => checked((int)c.Count)).ToArray());
        for (int c = 0; c < columns.Count; c++)
            columns[c].MoveTo(taken[c].Span);
        return taken.Select(m => (ReadOnlyMemory<double>)m).ToArray();
    }

    /// <summary>The whole column in one array (huge-page advised when large); the builder is empty afterwards.</summary>
    public double[] TakeAll()
    {
        var whole = LargeArrays.Uninitialized(checked((int)Count));
        MoveTo(whole);
        return whole;
    }

    /// <summary>
    /// Copies the column into <paramref name="destination"/> (exactly <see cref="Count"/> long),
    /// releasing each block as soon as it is copied; the builder is empty afterwards.
    /// </summary>
    public void MoveTo(Span<double> destination)
    {
        if (destination.Length != Count)
            throw new ArgumentException(
                $"The destination holds {destination.Length} values; the column has {Count}.",
                nameof(destination)
            );
        Seal();
        int offset = 0;
        foreach (var (block, n) in filled)
        {
            block.Span[..n].CopyTo(destination[offset..]);
            offset += n;
            Release(block);
        }
        filled.Clear();
        Dispose();
    }

    /// <summary>Gives a block back to the pool, or unmaps it when there is none.</summary>
    private void Release(NativeDoubles block)
    {
        if (pool is null)
            block.Dispose();
        else
            pool.Return(block);
    }

    public void Dispose()
    {
        foreach (var (block, _) in filled)
            Release(block);
        filled.Clear();
        if (current is not null)
            Release(current);
        current = null;
        at = null;
        filledCount = used = capacity = 0;
    }
}
