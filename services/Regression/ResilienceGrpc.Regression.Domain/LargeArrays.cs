using System.Runtime.InteropServices;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// Large arrays of doubles that the engine writes whole (X, residuals, Q). On Linux,
/// where transparent huge pages are usually enabled only on request ("madvise"), the
/// array's memory is advised as huge-page backed before its first write, so that the
/// kernel maps it in 2 MiB pages rather than taking one fault per 4 KiB page: on the
/// development VM a 4 KiB fault costs about 10 µs, which made first-touching the
/// residuals of n = 10⁶ rows (8 MB) cost 25 ms, more than the QR itself. numpy advises
/// its large arrays the same way. The advice only changes how memory is mapped, never
/// its contents; where it is refused or unsupported nothing happens
/// (docs/method.md, "The engine").
/// </summary>
public static partial class LargeArrays
{
    /// <summary>Arrays from this many bytes are advised (two huge pages).</summary>
    public const int AdviseBytes = 4 << 20;

    private const int MadvHugepage = 14;

    /// <summary>
    /// An uninitialised array of <paramref name="length"/> doubles (the caller writes every
    /// element before reading it), huge-page advised when large.
    /// </summary>
    public static double[] Uninitialized(int length)
    {
        var array = GC.AllocateUninitializedArray<double>(length);
        Advise(array);
        return array;
    }

    /// <summary>Advises the memory of a large array as huge-page backed (Linux only; otherwise nothing).</summary>
    public static unsafe void Advise(double[] array)
    {
        long bytes = (long)array.Length * sizeof(double);
        if (bytes < AdviseBytes || !OperatingSystem.IsLinux())
            return;
        fixed (double* p = array)
        {
            long start = ((long)p + HugePage - 1) & ~(HugePage - 1);
            long end = ((long)p + bytes) & ~(HugePage - 1);
            if (end > start)
                AdviseHugePages((nint)start, (nuint)(end - start));
        }
    }

    /// <summary>
    /// Memory for columns of the given lengths: slices of one huge-page advised array, or, when
    /// together they pass the largest array .NET allows, one array each (never a lower limit
    /// than one array per column).
    /// </summary>
    public static Memory<double>[] Columns(IReadOnlyList<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var columns = new Memory<double>[lengths.Count];
        long total = lengths.Sum(n => (long)n);
        var all = total <= Array.MaxLength ? Uninitialized((int)total) : null;
        int at = 0;
        for (int c = 0; c < lengths.Count; c++)
        {
            columns[c] = all is null ? Uninitialized(lengths[c]) : all.AsMemory(at, lengths[c]);
            at += lengths[c];
        }
        return columns;
    }

    /// <summary>Advises a 2 MiB-aligned range as huge-page backed (the caller checks Linux and alignment).</summary>
    internal static void AdviseHugePages(nint start, nuint bytes) => _ = madvise(start, bytes, MadvHugepage);

    /// <summary>The size of a huge page on x86-64 and arm64 Linux.</summary>
    internal const long HugePage = 2 << 20;

    [LibraryImport("libc", SetLastError = false)]
    private static partial int madvise(nint address, nuint length, int advice);
}

/// <summary>
/// Doubles outside the GC heap, for data held only briefly while a larger array is assembled
/// (<see cref="ColumnBuilder"/>: a CSV's rows, a streamed fit's chunks). On Linux the memory is mapped on its own, 2 MiB-aligned and
/// huge-page advised, and unmapped the moment it is released: it leaves the process at once,
/// with no collection, so it never adds to the peak of what is built from it. Elsewhere it is
/// ordinary native memory. Dispose it (a finaliser releases a lost one).
/// </summary>
public sealed unsafe partial class NativeDoubles : SafeHandle
{
    private const int ProtReadWrite = 1 | 2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const long HugePage = LargeArrays.HugePage;

    private readonly nint mapping;
    private readonly nuint mappedBytes;

    /// <summary>Room for <paramref name="length"/> doubles, uninitialised.</summary>
    public NativeDoubles(int length)
        : base(0, ownsHandle: true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        long bytes = (long)length * sizeof(double);
        if (OperatingSystem.IsLinux())
        {
            // Room to align the start to 2 MiB and advise whole huge pages up to the aligned end.
            long rounded = (bytes + HugePage - 1) & ~(HugePage - 1);
            mappedBytes = (nuint)(rounded + HugePage);
            mapping = mmap(0, mappedBytes, ProtReadWrite, MapPrivateAnonymous, -1, 0);
            if (mapping == -1)
                throw new OutOfMemoryException($"Could not map {bytes:N0} bytes.");
            long start = (mapping + HugePage - 1) & ~(HugePage - 1);
            LargeArrays.AdviseHugePages((nint)start, (nuint)rounded);
            SetHandle((nint)start);
        }
        else
        {
            SetHandle((nint)NativeMemory.AlignedAlloc((nuint)bytes, 64));
        }
    }

    /// <summary>Doubles held.</summary>
    public int Length { get; }

    /// <summary>The memory (valid until disposed).</summary>
    public Span<double> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return new Span<double>((void*)handle, Length);
        }
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        if (mapping != 0)
            return munmap(mapping, mappedBytes) == 0;
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = false)]
    private static partial int munmap(nint address, nuint length);
}
