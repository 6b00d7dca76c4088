using System.Reflection;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Orchestrator.Data;

/// <summary>The data sets shipped inside the orchestrator: the synthetic sample.</summary>
public static class BundledData
{
    public const string SampleName = "sample";
    private const string Prefix = "ResilienceGrpc.Orchestrator.Sample.data.";

    /// <summary>The sample's files (name → bytes), as committed in <c>Sample/data/</c>.</summary>
    public static IReadOnlyDictionary<string, byte[]> SampleFiles()
    {
        var assembly = typeof(BundledData).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = copy.ToArray();
        }
        return files;
    }

    /// <summary>The sample as study data.</summary>
    public static StudyData Sample() => StudyDataFolder.FromFiles(SampleFiles(), SampleName, "sample");
}
