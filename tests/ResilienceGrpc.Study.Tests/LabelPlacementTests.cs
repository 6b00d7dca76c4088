using System.Globalization;
using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.Tests.Support;
using Xunit;
using Spot = ResilienceGrpc.Client.Reporting.LabelPlacement.Spot;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// City labels on the static scatter: whatever the points, no two placed labels overlap, none
/// covers another point's marker or leaves the plot area, a point alone keeps its label above;
/// and in the study's own fig-scatter.svg, read back from the glyph positions ScottPlot wrote,
/// no two names overlap.
/// </summary>
public sealed class LabelPlacementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-labels-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly LabelPlacement.Box Area = new(0, 0, 400, 300);

    private static Arbitrary<(double X, double Y, double Width, double Height)[]> Labels() =>
        Gen.ArrayOf(
                from x in Gen.Choose(0, 400)
                from y in Gen.Choose(0, 300)
                from chars in Gen.Choose(2, 14)
                select ((double)x, (double)y, 5.4 * chars, 11.25)
            )
            .Select(a => a.Take(60).ToArray())
            .ToArbitrary();

    [Property(MaxTest = 200)]
    public Property PlacedLabelsOverlapNothingAndStayInside() =>
        Prop.ForAll(
            Labels(),
            labels =>
            {
                const double Radius = 5,
                    Gap = 6;
                var spots = LabelPlacement.Place(labels, Area, Radius, Gap);
                Assert.Equal(labels.Length, spots.Length);
                var boxes = new List<LabelPlacement.Box>();
                for (int i = 0; i < labels.Length; i++)
                {
                    if (spots[i] == Spot.None)
                        continue;
                    var (x, y, w, h) = labels[i];
                    var box = LabelPlacement.At(spots[i], x, y, w, h, Gap);
                    Assert.True(box.Inside(Area));
                    Assert.DoesNotContain(boxes, box.Overlaps);
                    for (int j = 0; j < labels.Length; j++)
                        if (j != i)
                            Assert.False(
                                box.Overlaps(new(labels[j].X - Radius, labels[j].Y - Radius, labels[j].X + Radius, labels[j].Y + Radius))
                            );
                    boxes.Add(box);
                }
                // The first label has nothing to avoid but the edges: it is left out only if no spot fits inside.
                if (labels.Length > 0 && spots[0] == Spot.None)
                    Assert.All(
                        (Spot[])[Spot.Above, Spot.Below, Spot.Right, Spot.Left],
                        s =>
                            Assert.False(
                                LabelPlacement.At(s, labels[0].X, labels[0].Y, labels[0].Width, labels[0].Height, Gap).Inside(Area)
                                    && !Enumerable
                                        .Range(1, labels.Length - 1)
                                        .Any(j =>
                                            LabelPlacement
                                                .At(s, labels[0].X, labels[0].Y, labels[0].Width, labels[0].Height, Gap)
                                                .Overlaps(new(labels[j].X - Radius, labels[j].Y - Radius, labels[j].X + Radius, labels[j].Y + Radius))
                                        )
                            )
                    );
            }
        );

    [Fact]
    public void ALabelGoesAboveUnlessTheNextSpotIsTheOnlyFreeOne()
    {
        var alone = LabelPlacement.Place([(200, 150, 40, 11)], Area, 5, 6);
        Assert.Equal([Spot.Above], alone);
        // Two points one above the other: the lower one's label would cover the upper marker,
        // and the upper's label is placed first.
        var pair = LabelPlacement.Place([(200, 140, 40, 11), (200, 160, 40, 11)], Area, 5, 6);
        Assert.Equal([Spot.Above, Spot.Below], pair);
        // At the top edge there is no room above.
        Assert.Equal([Spot.Below], LabelPlacement.Place([(200, 5, 40, 11)], Area, 5, 6));
    }

    [Fact]
    public async Task NoTwoCityNamesOverlapInTheStudysScatter()
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(spec, """{"bootstrap": {"replications": 0}, "multiverse": {"disabled": true}}""");
        var (exit, _, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        var names = Google
            .Protobuf.JsonParser.Default.Parse<ResilienceGrpc.Contracts.Study.V1.StudyReport>(
                File.ReadAllText(Path.Combine(_dir, "results.json"))
            )
            .Cities.Select(c => c.Name)
            .ToHashSet();
        var boxes = new List<(string Name, double Left, double Top, double Right, double Bottom)>();
        foreach (var text in XDocument.Load(Path.Combine(_dir, "fig-scatter.svg")).Descendants().Where(e => e.Name.LocalName == "text"))
        {
            string value = text.Value.Trim();
            if (!names.Contains(value))
                continue;
            // ScottPlot writes each glyph's x (and the baseline's y) relative to a translation.
            var at = text.Attribute("transform")!.Value.Split('(', ')')[1].Split(' ').Select(Number).ToArray();
            var xs = text.Attribute("x")!.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Number).ToArray();
            var baseline = at[1] + Number(text.Attribute("y")!.Value.Split(',')[0]);
            double size = Number(text.Attribute("font-size")!.Value);
            boxes.Add((value, at[0] + xs[0], baseline - 0.8 * size, at[0] + xs[^1] + 0.6 * size, baseline + 0.2 * size));
        }
        Assert.True(boxes.Count >= names.Count * 3 / 4, $"only {boxes.Count} of {names.Count} cities are labelled");
        foreach (var a in boxes)
            foreach (var b in boxes.Where(b => string.CompareOrdinal(b.Name, a.Name) > 0))
                Assert.False(
                    a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom,
                    $"'{a.Name}' and '{b.Name}' overlap"
                );
    }

    private static double Number(string s) => double.Parse(s.Trim(), CultureInfo.InvariantCulture);
}
