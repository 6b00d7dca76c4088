using System.Globalization;
using Google.Protobuf;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Study.V1;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// coefficients.csv and models.csv (broom's tidy and glance shapes) carry every fitted model of
/// results.json, term by term, at full precision.
/// </summary>
public sealed class TidyTablesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-tidy-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task EveryFittedTermAndModelIsInTheTidyFilesAtFullPrecision()
    {
        var (exit, _, err) = await StudyCliTests.Run("study", "--out", _dir);
        Assert.True(exit == 0, err);
        var report = JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "results.json")));

        var coefficients = CsvTable.Read(Path.Combine(_dir, "coefficients.csv"));
        var rows = coefficients.Rows.ToDictionary(r =>
            (
                r.Cells[coefficients.Column("table")],
                r.Cells[coefficients.Column("model")],
                r.Cells[coefficients.Column("term")]
            )
        );
        int terms = 0;
        foreach (var t in report.Tables)
            foreach (var m in t.Models.Where(m => m.Fit is not null))
                foreach (var c in m.Fit.Coefficients)
                {
                    var row = rows[(t.Id, m.Spec.Label, c.Term)].Cells;
                    Assert.Equal(c.Estimate, D(row[coefficients.Column("estimate")]));
                    Assert.Equal(c.StdError, D(row[coefficients.Column("std.error")]));
                    Assert.Equal(c.TValue, D(row[coefficients.Column("statistic")]));
                    Assert.Equal(c.PValue, D(row[coefficients.Column("p.value")]));
                    Assert.Equal(c.CiLow, D(row[coefficients.Column("conf.low")]));
                    Assert.Equal(c.CiHigh, D(row[coefficients.Column("conf.high")]));
                    if (c.HasBootstrapPValue)
                        Assert.Equal(c.BootstrapPValue, D(row[coefficients.Column("bootstrap.p.value")]));
                    terms++;
                }
        Assert.Equal(terms, coefficients.Rows.Count);
        Assert.True(terms > 20);

        var models = CsvTable.Read(Path.Combine(_dir, "models.csv"));
        Assert.Equal(report.Tables.Sum(t => t.Models.Count), models.Rows.Count);
        foreach (var row in models.Rows)
        {
            var m = report
                .Tables.Single(t => t.Id == row.Cells[models.Column("table")])
                .Models.Single(x => x.Spec.Label == row.Cells[models.Column("model")]);
            if (m.Fit is null)
                continue;
            Assert.Equal(m.Fit.Model.NObs, int.Parse(row.Cells[models.Column("nobs")], CultureInfo.InvariantCulture));
            Assert.Equal(m.Fit.Model.RSquared, D(row.Cells[models.Column("r.squared")]));
            Assert.Equal(m.Fit.Model.AdjRSquared, D(row.Cells[models.Column("adj.r.squared")]));
            Assert.Equal(m.Fit.Model.Rmse, D(row.Cells[models.Column("sigma")]));
            Assert.Equal(m.Fit.Model.FStatistic, D(row.Cells[models.Column("statistic")]));
        }
    }
}
