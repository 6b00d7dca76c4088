using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The analysis data set: analysis.csv carries every variable the tables used, one row per
/// city, and every fitted model of results.json is rerun from it by statsmodels (an
/// independent OLS, Debian's python3-statsmodels) to 1e-10, under HC1 and HC3; the
/// weighting robustness table's three models read three different index columns; the
/// descriptive-statistics table agrees with the file.
/// </summary>
public sealed class AnalysisDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-analysis-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<StudyReport> Study(string covariance)
    {
        var spec = Path.Combine(_dir, "spec.json");
        File.WriteAllText(
            spec,
            "{\"covarianceType\": \""
                + covariance
                + "\", \"bootstrap\": {\"replications\": 0}, \"multiverse\": {\"disabled\": true}}"
        );
        var (exit, _, err) = await CliRunner.Run("study", "--spec", spec, "--out", _dir);
        Assert.True(exit == 0, err);
        return JsonParser.Default.Parse<StudyReport>(File.ReadAllText(Path.Combine(_dir, "results.json")));
    }

    [StatsmodelsTheory]
    [InlineData("COVARIANCE_TYPE_HC1")]
    [InlineData("COVARIANCE_TYPE_HC3")]
    public async Task StatsmodelsRerunsEveryTableFromAnalysisCsv(string covariance)
    {
        var report = await Study(covariance);
        int fitted = report.Tables.Sum(t => t.Models.Count(m => m.Fit is { Coefficients.Count: > 0 }));
        Assert.True(fitted >= 10, $"{fitted} fitted models");

        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repository.Root, "tests/tools/rerun_tables.py"));
        psi.ArgumentList.Add(_dir);
        psi.ArgumentList.Add("1e-10");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a hang guard
        await p.WaitForExitAsync(guard.Token);
        string output = await stdout;
        Assert.True(p.ExitCode == 0, output + await stderr);
        var summary = JsonDocument.Parse(output).RootElement;
        Assert.Equal(fitted, summary.GetProperty("models").GetInt32());
        Assert.Equal(covariance[^3..], summary.GetProperty("covariance").GetString());
    }

    [Fact]
    public async Task AnalysisCsvHoldsEveryVariableOnceAndOneIndexColumnPerWeighting()
    {
        var report = await Study("COVARIANCE_TYPE_HC1");
        var csv = CsvTable.Read(Path.Combine(_dir, "analysis.csv"));
        Assert.Equal("city", csv.Header[0]);
        Assert.Equal(report.Cities.Select(c => c.CityId), csv.Rows.Select(r => r.Cells[0]));

        // Every variable of every model is a column (both factors of a product).
        var used = report
            .Tables.SelectMany(t => t.Models)
            .SelectMany(m => m.Spec.Regressors.Prepend(m.Spec.Dependent))
            .SelectMany(n => n.Split('*'))
            .ToHashSet();
        var columns = report.Analysis.Columns;
        Assert.Equal(used.Order(), columns.Select(c => c.Variable).Distinct().Order());
        Assert.Equal(columns.Select(c => c.Name), csv.Header.Skip(1));

        // The weighting table's three models each read their own ln_rescity.
        var weighting = report.Tables.Single(t => t.Id == "robustness_weighting");
        var names = weighting
            .Models.Select(m =>
                columns.Single(c => c.Variable == "ln_rescity" && c.Weighting == m.Weighting).Name
            )
            .ToList();
        Assert.Equal(["ln_rescity", "ln_rescity_equal", "ln_rescity_critic"], names);

        // The main weighting's column is the log of the index the report prints per city.
        var main = columns.Single(c => c.Name == "ln_rescity");
        Assert.Equal(WeightingMethod.Entropy, main.Weighting);
        for (int i = 0; i < report.Cities.Count; i++)
            Assert.Equal(Math.Log(report.Cities[i].Rescity), main.Values[i], 1e-12);

        // Full precision, and a missing value is an empty cell.
        for (int j = 0; j < columns.Count; j++)
            for (int i = 0; i < csv.Rows.Count; i++)
            {
                string cell = csv.Rows[i].Cells[j + 1];
                double v = columns[j].Values[i];
                if (double.IsNaN(v))
                    Assert.Equal("", cell);
                else
                    Assert.Equal(v, double.Parse(cell, CultureInfo.InvariantCulture));
            }
        Assert.Contains(columns, c => c.Values.Any(double.IsNaN)); // recovery_months is censored for one city

        // The descriptive-statistics table counts the non-missing values of each column.
        var md = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("Descriptive statistics of the analysis variables", md);
        foreach (var c in columns)
            Assert.Contains($"| {c.Name} | {c.Values.Count(v => !double.IsNaN(v))} |", md);
    }
}

/// <summary>A theory that needs Debian's python3-statsmodels: skipped without it, unless REQUIRE_STATSMODELS=1.</summary>
public sealed class StatsmodelsTheoryAttribute : TheoryAttribute
{
    public StatsmodelsTheoryAttribute() =>
        Skip = ToolRequirement.SkipReason(
            File.Exists("/usr/bin/python3") && Directory.Exists("/usr/lib/python3/dist-packages/statsmodels"),
            "REQUIRE_STATSMODELS",
            "Debian's python3-statsmodels is not installed"
        );
}
