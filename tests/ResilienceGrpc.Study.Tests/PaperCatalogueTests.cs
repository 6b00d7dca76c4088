using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>docs/paper-catalogue.csv is a catalogue the study reads: the paper's 20 indicators in its four dimensions.</summary>
public class PaperCatalogueTests
{
    [Fact]
    public void ThePapersCatalogueLoadsWithItsTwentyIndicatorsInFourDimensions()
    {
        var catalogue = CsvTable.Read(Path.Combine(Repository.Root, "docs", "paper-catalogue.csv"));
        int idColumn = catalogue.Column("indicator", "the indicator id");
        var ids = catalogue.Rows.Select(r => r.Cells[idColumn]).ToList();

        // An indicators file with these ids as columns, as a user would build it.
        var rng = new Random(7);
        var rows = Enumerable.Range(0, 5).Select(c => $"c{c}," + string.Join(",", ids.Select(_ => rng.Next(1, 99))));
        var data = CsvTable.Parse(
            "city," + string.Join(",", ids) + "\n" + string.Join("\n", rows) + "\n",
            "indicators.csv"
        );
        var (units, indicators) = Loaders.IndicatorTable(data, catalogue);

        Assert.Equal(5, units.Count);
        Assert.Equal(20, indicators.Count);
        Assert.Equal(
            new Dictionary<string, int>
            {
                ["society"] = 5,
                ["infrastructure"] = 4,
                ["economy"] = 5,
                ["ecology"] = 6,
            },
            indicators.GroupBy(i => i.Dimension).ToDictionary(g => g.Key, g => g.Count())
        );
        Assert.Equal(4, indicators.Count(i => i.Direction == Direction.Negative));
        Assert.All(indicators, i => Assert.False(string.IsNullOrEmpty(i.Label)));
    }
}
