using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Sample;

/// <summary>
/// The synthetic sample's files as committed in <c>Sample/data/</c> (what
/// <see cref="SampleGenerator"/> writes for the default seed), and the sample loaded from them
/// the way any data folder is loaded. The study server carries the same data as a message.
/// </summary>
public static class BundledSample
{
    private const string Prefix = "ResilienceGrpc.Client.Sample.data.";

    /// <summary>The sample's files (name → bytes).</summary>
    public static IReadOnlyDictionary<string, byte[]> Files()
    {
        var assembly = typeof(BundledSample).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (
            var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        )
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = copy.ToArray();
        }
        return files;
    }

    /// <summary>The sample loaded from its CSV files.</summary>
    public static StudyData Load() => StudyDataFolder.FromFiles(Files(), "sample", "sample");
}
