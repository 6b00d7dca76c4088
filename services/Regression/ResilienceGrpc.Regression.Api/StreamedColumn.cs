using System.Buffers;
using Google.Protobuf.Collections;
using ResilienceGrpc.Regression.Domain;

namespace ResilienceGrpc.Regression.Api;

/// <summary>
/// One column of a streamed fit, appended chunk by chunk into a few large blocks rather than
/// one small array per chunk. The blocks are <see cref="NativeDoubles"/>: the first 512 KiB,
/// the next ones 8 MiB, huge-page backed, so a 10⁶-row column costs a handful of 2 MiB faults
/// rather than 2,000 4 KiB ones (about 10 µs each on the development VM: most of a streamed
/// fit's time before), and each block is unmapped as soon as it is copied into the whole column,
/// so assembling the columns never holds two copies of the data. Dispose it if the stream fails.
/// </summary>
internal sealed class StreamedColumn : IDisposable
{
    private const int FirstBlock = 1 << 16;
    private const int LargestBlock = 1 << 20;

    private readonly List<(NativeDoubles Block, int Used)> filled = [];
    private NativeDoubles? current;
    private int used;

    /// <summary>Values appended so far.</summary>
    public long Count { get; private set; }

    /// <summary>Appends one chunk's values (a chunk never splits across blocks).</summary>
    public void Append(RepeatedField<double> values)
    {
        int m = values.Count;
        if (m == 0)
            return;
        if (current is null || current.Length - used < m)
        {
            if (current is not null)
                filled.Add((current, used));
            // One small block for a small stream, then blocks large enough to be mostly huge pages.
            current = new NativeDoubles(Math.Max(m, current is null ? FirstBlock : LargestBlock));
            used = 0;
        }
        // The parsed field's array is not reachable, so the values pass through a pooled array.
        var staging = ArrayPool<double>.Shared.Rent(m);
        values.CopyTo(staging, 0);
        staging.AsSpan(0, m).CopyTo(current.Span[used..]);
        ArrayPool<double>.Shared.Return(staging);
        used += m;
        Count += m;
    }

    /// <summary>The whole column in one array; each block is released as soon as it is copied.</summary>
    public double[] TakeAll()
    {
        if (current is not null)
            filled.Add((current, used));
        current = null;
        var whole = LargeArrays.Uninitialized(checked((int)Count));
        int at = 0;
        foreach (var (block, n) in filled)
        {
            block.Span[..n].CopyTo(whole.AsSpan(at));
            at += n;
            block.Dispose();
        }
        filled.Clear();
        Count = 0;
        return whole;
    }

    public void Dispose()
    {
        foreach (var (block, _) in filled)
            block.Dispose();
        filled.Clear();
        current?.Dispose();
        current = null;
    }
}

/// <summary>
/// Gives a large streamed fit's memory back to the system once the service has been idle for
/// <see cref="Quiet"/>: not between back-to-back large fits, where freshly returned memory
/// would have to be faulted in again by the next one (README, "Operating").
/// </summary>
internal static class StreamMemory
{
    /// <summary>How long no large stream may run before the memory is given back.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private static int running;
    private static int pending;
    private static long lastEnd;

    /// <summary>Marks a stream as running; dispose the result when it is over.</summary>
    public static Lease Start()
    {
        Interlocked.Increment(ref running);
        return new Lease();
    }

    /// <summary>One running stream.</summary>
    internal sealed class Lease : IDisposable
    {
        private int done;

        /// <summary>Whether the stream was large enough that its memory is worth giving back.</summary>
        public bool Large { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 1)
                return;
            if (Large)
                Volatile.Write(ref pending, 1);
            Interlocked.Exchange(ref lastEnd, Environment.TickCount64);
            Interlocked.Decrement(ref running);
            if (Volatile.Read(ref pending) == 1)
                _ = ReturnWhenQuietAsync();
        }
    }

    private static async Task ReturnWhenQuietAsync()
    {
        while (true)
        {
            await Task.Delay(Quiet);
            if (Volatile.Read(ref running) > 0)
                return; // the last stream to end schedules the return again
            if (Environment.TickCount64 - Interlocked.Read(ref lastEnd) >= (long)Quiet.TotalMilliseconds)
                break;
        }
        if (Interlocked.Exchange(ref pending, 0) == 1)
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
