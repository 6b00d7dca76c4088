using System.Collections.Concurrent;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// Blocks of <see cref="NativeDoubles"/> kept for reuse by <see cref="ColumnBuilder"/>s, so that a
/// service's back-to-back streamed fits write into memory already faulted in instead of mapping,
/// zeroing and unmapping about one copy of their data each time (on the development VM the
/// kernel's page zeroing was a tenth of a streamed fit's time). Only the builder's two block sizes
/// are kept, up to <see cref="MaxHeldBytes"/> in all; any other block, or one past the cap, is
/// unmapped on return. <see cref="Trim"/> unmaps everything held: the owner calls it once its
/// streams have been quiet for a moment (docs/method.md, "Memory"). A block handed out is never
/// read before it is written: a builder only gives back the values it appended.
/// </summary>
public sealed class BlockPool(long maxHeldBytes) : IDisposable
{
    private readonly ConcurrentBag<NativeDoubles> first = [];
    private readonly ConcurrentBag<NativeDoubles> large = [];
    private long held;
    private long mapped;
    private volatile bool disposed;

    /// <summary>The most bytes of blocks kept between uses.</summary>
    public long MaxHeldBytes { get; } = maxHeldBytes;

    /// <summary>Bytes of blocks kept now (their capacity; the memory they hold is at most this).</summary>
    public long HeldBytes => Interlocked.Read(ref held);

    /// <summary>Blocks this pool has had to map because it held none of the size asked for.</summary>
    public long Mapped => Interlocked.Read(ref mapped);

    /// <summary>A block of <paramref name="length"/> doubles, reused when one is held.</summary>
    internal NativeDoubles Rent(int length)
    {
        if (Bag(length) is { } bag && bag.TryTake(out var block))
        {
            Interlocked.Add(ref held, -Bytes(block));
            return block;
        }
        Interlocked.Increment(ref mapped);
        return new NativeDoubles(length);
    }

    /// <summary>Takes a block back (the caller no longer uses it), or unmaps it.</summary>
    internal void Return(NativeDoubles block)
    {
        var bag = Bag(block.Length);
        if (bag is null || block.IsClosed || disposed)
        {
            block.Dispose();
            return;
        }
        if (Interlocked.Add(ref held, Bytes(block)) > MaxHeldBytes)
        {
            Interlocked.Add(ref held, -Bytes(block));
            block.Dispose();
            return;
        }
        bag.Add(block);
        if (disposed)
            Trim(); // disposed while this block was going in
    }

    /// <summary>Unmaps every block held; blocks out on loan come back later as usual.</summary>
    public void Trim()
    {
        foreach (var bag in new[] { first, large })
        {
            while (bag.TryTake(out var block))
            {
                Interlocked.Add(ref held, -Bytes(block));
                block.Dispose();
            }
        }
    }

    /// <summary>Unmaps what is held; blocks returned afterwards are unmapped at once.</summary>
    public void Dispose()
    {
        disposed = true;
        Trim();
    }

    private ConcurrentBag<NativeDoubles>? Bag(int length) =>
        length switch
        {
            ColumnBuilder.FirstBlock => first,
            ColumnBuilder.LargestBlock => large,
            _ => null,
        };

    private static long Bytes(NativeDoubles block) => (long)block.Length * sizeof(double);
}
