using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// Kestrel's memory for sockets and request bodies in 64 KiB blocks instead of its own 4 KiB
/// ones: a read from a socket fills at most one block, so a streamed fit of 88 MB took about
/// 22,000 receive calls, each a costly trip into the kernel on a virtual machine. Blocks are
/// pinned arrays, kept for reuse up to a bound (README, "Performance").
/// </summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

/// <summary>A pool of pinned 64 KiB blocks; a request for more gets an array of its own.</summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Bytes in a block.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Blocks kept for reuse at most (16 MiB); more are left to the collector.</summary>
    private const int Kept = 256;

    private readonly ConcurrentQueue<byte[]> free = new();
    private int count;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        if (free.TryDequeue(out var array))
            Interlocked.Decrement(ref count);
        else
            array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        return new Block(this, array);
    }

    private void Return(byte[] array)
    {
        if (Interlocked.Increment(ref count) <= Kept)
            free.Enqueue(array);
        else
            Interlocked.Decrement(ref count);
    }

    protected override void Dispose(bool disposing) => free.Clear();

    private sealed class Block(LargeBlockMemoryPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? held = array;

        public Memory<byte> Memory => held ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref held, null) is { } a && pool is not null && a.Length == BlockSize)
                pool.Return(a);
        }
    }
}
