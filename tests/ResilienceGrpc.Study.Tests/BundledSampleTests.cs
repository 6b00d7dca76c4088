using Google.Protobuf;
using ResilienceGrpc.Client.Sample;
using ResilienceGrpc.Study.Data;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>The study server carries the sample as a message; it must be the sample's CSV files, loaded.</summary>
public class BundledSampleTests
{
    [Fact]
    public void TheServersBundledSampleIsTheSampleFilesLoadedByTheClient()
    {
        var expected = BundledSample.Load().ToByteArray();
        if (!BundledData.SampleBytes.SequenceEqual(expected))
        {
            var path = Path.Combine(AppContext.BaseDirectory, "sample.binpb");
            File.WriteAllBytes(path, expected);
            Assert.Fail(
                $"orchestrator/ResilienceGrpc.Study/Data/sample.binpb is not the sample's CSV files loaded; after changing the sample, copy {path} there."
            );
        }
        Assert.Equal(38, BundledData.Sample().CityIds.Count);
    }
}

/// <summary>The study server is a server only: no client library, no CSV parsers, no plotly.js.</summary>
public class StudyServerAssemblyTests
{
    [Fact]
    public void TheStudyServerReferencesNeitherTheClientLibraryNorItsParsersNorCarriesPlotly()
    {
        var server = typeof(StudyRunner).Assembly;
        var references = server.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("ResilienceGrpc.Contracts", references);
        foreach (
            var banned in new[]
            {
                "ResilienceGrpc.Client",
                "CsvHelper",
                "Sep",
                "ResilienceGrpc.Indexing.Api",
                "ResilienceGrpc.Regression.Api",
            }
        )
            Assert.DoesNotContain(banned, references);
        Assert.Equal([BundledData.SampleResource], server.GetManifestResourceNames());
        // ... and the client library does carry the report's assets and the sample's files.
        Assert.Contains(
            typeof(BundledSample).Assembly.GetManifestResourceNames(),
            n => n.EndsWith("plotly-basic.min.js", StringComparison.Ordinal)
        );
    }
}
