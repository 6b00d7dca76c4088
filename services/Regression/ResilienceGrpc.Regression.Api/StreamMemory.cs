using ResilienceGrpc.Regression.Domain;

namespace ResilienceGrpc.Regression.Api;

/// <summary>
/// Gives a large streamed fit's memory back to the system once the service has been idle for
/// <see cref="Quiet"/>: not between back-to-back large fits, where freshly returned memory
/// would have to be faulted in again by the next one (README, "Operating").
/// </summary>
internal static class StreamMemory
{
    /// <summary>How long no large stream may run before the memory is given back.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The streams' column blocks, reused from one stream to the next and unmapped when quiet
    /// (at most <see cref="RegressionGrpcService.PooledStreamBytes"/> are kept).
    /// </summary>
    public static readonly BlockPool Blocks = new(RegressionGrpcService.PooledStreamBytes);

    private static int running;
    private static int pendingCollect;
    private static int scheduled;
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

        /// <summary>Whether the stream was large enough that the heap's memory is worth giving back.</summary>
        public bool Large { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 1)
                return;
            if (Large)
                Volatile.Write(ref pendingCollect, 1);
            Interlocked.Exchange(ref lastEnd, Environment.TickCount64);
            Interlocked.Decrement(ref running);
            // One waiting return at a time, however many streams end.
            if (
                (Volatile.Read(ref pendingCollect) == 1 || Blocks.HeldBytes > 0)
                && Interlocked.Exchange(ref scheduled, 1) == 0
            )
                _ = ReturnWhenQuietAsync();
        }
    }

    private static async Task ReturnWhenQuietAsync()
    {
        while (true)
        {
            await Task.Delay(Quiet);
            if (
                Volatile.Read(ref running) == 0
                && Environment.TickCount64 - Interlocked.Read(ref lastEnd) >= (long)Quiet.TotalMilliseconds
            )
                break;
        }
        // A stream ending from here on schedules its own return; this one still trims what it left.
        Volatile.Write(ref scheduled, 0);
        Blocks.Trim();
        if (Interlocked.Exchange(ref pendingCollect, 0) == 1)
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
