using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study.Data;

/// <summary>
/// The data sets shipped inside the study server: the synthetic sample, as a
/// <see cref="StudyData"/> message (<c>sample.binpb</c>). The server parses no CSV; the
/// client library loads the sample's CSV files, and a test checks that the two agree byte
/// for byte.
/// </summary>
public static class BundledData
{
    public const string SampleName = "sample";

    /// <summary>The resource holding the sample.</summary>
    public const string SampleResource = "ResilienceGrpc.Study.Data.sample.binpb";

    private static readonly Lazy<byte[]> Bytes = new(() =>
    {
        using var stream =
            typeof(BundledData).Assembly.GetManifestResourceStream(SampleResource)
            ?? throw new InvalidOperationException($"The bundled sample ({SampleResource}) is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The sample's bytes as embedded.</summary>
    public static ReadOnlySpan<byte> SampleBytes => Bytes.Value;

    /// <summary>The sample as study data (a fresh copy each time).</summary>
    public static StudyData Sample() => StudyData.Parser.ParseFrom(Bytes.Value);
}
