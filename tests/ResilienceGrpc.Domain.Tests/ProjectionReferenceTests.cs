using ResilienceGrpc.Projection.Domain;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Domain.Tests;

/// <summary>
/// Export projection against an R implementation (bit for bit with plain doubles):
/// relative 1e-12 for CAGR, projection, ratio and growth; exact match for recovery months.
/// </summary>
public class ProjectionReferenceTests
{
    private const double Rel = 1e-12;

    [Fact]
    public void AnnualProjectionMatchesTheReference()
    {
        var json = Reference.Json("export_annual");
        var (header, rows) = Reference.Csv("export_annual.csv");
        var periods = header.Skip(1).Select(h => h.TrimStart('E')).ToArray();
        var series = rows.Select(r => new ExportSeries(r[0], periods, r.Skip(1).Select(Reference.Number).ToArray()))
            .ToArray();

        var result = ExportProjection.Project(series, new ProjectionOptions(SeriesKind.Annual));

        Assert.Equal(series.Length, result.Count);
        foreach (var city in result)
        {
            var expected = json.GetProperty("results").GetProperty(city.CityId);
            Reference.Close(expected.GetProperty("cagr").GetDouble(), city.BaseGrowth, Rel, $"{city.CityId} CAGR");
            Reference.Close(
                expected.GetProperty("projected_2020").GetDouble(),
                city.Projected,
                Rel,
                $"{city.CityId} projected 2020"
            );
            Reference.Close(expected.GetProperty("ratio").GetDouble(), city.Ratio, Rel, $"{city.CityId} ratio");
            Reference.Close(
                expected.GetProperty("growth_2020").GetDouble(),
                city.GrowthRate,
                Rel,
                $"{city.CityId} growth 2020"
            );
            Assert.Equal(RecoveryStatus.Unavailable, city.Recovery.Status);
        }
    }

    [Theory]
    [InlineData("CityR")]
    [InlineData("CityS")]
    [InlineData("CityT")]
    public void RecoveryTimeMatchesTheReference(string city)
    {
        var json = Reference.Json("export_recovery");
        var expected = json.GetProperty("results").GetProperty(city);
        var (header, rows) = Reference.Csv("export_monthly.csv");
        var mine = rows.Where(r => r[0] == city).ToArray();
        var months = mine.Select(r => r[1]).ToArray();
        var ratios = mine.Select(r => Reference.Number(r[2]) / Reference.Number(r[3])).ToArray();
        var refRatios = expected.GetProperty("ratio").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int t = 0; t < ratios.Length; t++)
            Reference.Close(refRatios[t], ratios[t], Rel, $"{city} ratio {months[t]}");

        var recovery = RecoveryTime.FromRatios(ratios, i => months[i], city);

        var n = expected.GetProperty("recovery_months");
        Assert.Equal(n.ValueKind == System.Text.Json.JsonValueKind.Null ? null : n.GetInt32(), recovery.Months);
        Assert.Equal(expected.GetProperty("censored").GetBoolean(), recovery.Status == RecoveryStatus.Censored);
        var dip = expected.GetProperty("dip_month_index");
        Assert.Equal(
            dip.ValueKind == System.Text.Json.JsonValueKind.Null ? null : dip.GetInt32() - 1,
            recovery.DipIndex
        );
        var rec = expected.GetProperty("recovery_month");
        Assert.Equal(
            rec.ValueKind == System.Text.Json.JsonValueKind.Null ? null : rec.GetString(),
            recovery.RecoveryIndex is { } r ? months[r] : null
        );
        string kind = expected.GetProperty("kind").GetString()!;
        Assert.Equal(
            kind switch
            {
                "recovered" => RecoveryStatus.Recovered,
                "no_dip" => RecoveryStatus.NoDip,
                _ => RecoveryStatus.Censored,
            },
            recovery.Status
        );
    }
}
