using System.Text.Json;
using ResilienceGrpc.Indexing.Domain;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// The entropy weight method against numpy (confirmed by an independent R
/// implementation and 50-digit arithmetic to ≤ 1.4e-13). Tolerance: 1e-10 relative
/// (the reference README's suggestion) for weights, entropies, dimension weights and
/// every score.
/// </summary>
public class IndexReferenceTests
{
    private const double Rel = 1e-10;

    internal static (string[] Units, Indicator[] Indicators) Load(JsonElement json)
    {
        string file = json.GetProperty("data").GetString()!;
        var (header, rows) = Reference.Csv(file);
        var units = rows.Select(r => r[0]).ToArray();
        var indicators = json.GetProperty("indicators")
            .EnumerateArray()
            .Select(e =>
            {
                string name = e.GetProperty("name").GetString()!;
                return new Indicator(
                    name,
                    e.GetProperty("dimension").GetString()!,
                    IndicatorCatalogue.ParseDirection(e.GetProperty("direction").GetString(), name, "direction"),
                    Reference.Column(file, name)
                );
            })
            .ToArray();
        Assert.Equal(header.Length - 1, indicators.Length);
        return (units, indicators);
    }

    [Theory]
    [InlineData("entropy_6x4")]
    [InlineData("entropy_10x6")]
    [InlineData("entropy_38x20")]
    public void EntropyWeightsEntropiesAndScoresMatchTheReference(string caseName)
    {
        var json = Reference.Json(caseName);
        var (units, indicators) = Load(json);
        var result = CompositeIndex.Compute(
            units,
            indicators,
            new IndexOptions(WeightingMethod.Entropy, json.GetProperty("shift").GetDouble())
        );

        foreach (var w in result.Indicators)
        {
            Reference.Close(
                json.GetProperty("weights").GetProperty(w.Id).GetDouble(),
                w.Weight,
                Rel,
                $"{caseName} weight {w.Id}"
            );
            Reference.Close(
                json.GetProperty("entropy").GetProperty(w.Id).GetDouble(),
                w.Entropy!.Value,
                Rel,
                $"{caseName} entropy {w.Id}"
            );
        }
        foreach (var d in result.Dimensions)
            Reference.Close(
                json.GetProperty("dimension_weights").GetProperty(d.Dimension).GetDouble(),
                d.Weight,
                Rel,
                $"{caseName} dimension weight {d.Dimension}"
            );

        var scores = json.GetProperty("scores");
        var composite = scores.GetProperty("composite").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < units.Length; i++)
            Reference.Close(composite[i], result.Composite[i], Rel, $"{caseName} composite {units[i]}");
        for (int d = 0; d < result.Dimensions.Count; d++)
        {
            var expected = scores
                .GetProperty(result.Dimensions[d].Dimension)
                .EnumerateArray()
                .Select(e => e.GetDouble())
                .ToArray();
            for (int i = 0; i < units.Length; i++)
                Reference.Close(
                    expected[i],
                    result.DimensionScores[d][i],
                    Rel,
                    $"{caseName} {result.Dimensions[d].Dimension} score {units[i]}"
                );
        }
    }
}
