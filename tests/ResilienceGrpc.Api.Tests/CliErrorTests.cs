using System.Globalization;
using Google.Protobuf;
using ResilienceGrpc.Cli;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>The command line, continued: errors (bad files, unreachable services, bad options) as one clear line, --verbose, and reproducible bootstrap p-values.</summary>
public partial class CliTests
{
    /// <summary>Runs <c>regress --y y --x x</c> on a file of <paramref name="csv"/>: refused as bad input, on one line.</summary>
    private async Task<string> RegressRefuses(string file, string csv)
    {
        var (exit, _, err) = await Run("regress", "--data", Write(file, csv), "--y", "y", "--x", "x");
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        return err;
    }

    [Fact]
    public async Task ANonNumericCellIsReportedWithFileLineAndColumn()
    {
        var err = await RegressRefuses("bad.csv", "city,y,x\na,1,2\nb,2,3\nc,3,n/a\nd,4,5\n");
        Assert.Contains("bad.csv, line 4, column 3 ('x')", err);
        Assert.Contains("'n/a'", err);
    }

    [Theory]
    [InlineData("y,x,x\n1,2,1\n2,3,1\n3,5,2\n4,4,1\n", 1, 3)]
    [InlineData("# a comment\n\"y\", x ,x\n1,2,1\n2,3,1\n3,5,2\n4,4,1\n", 2, 3)]
    public async Task AColumnNamedTwiceInTheHeaderIsLocated(string csv, int line, int column)
    {
        // Sep refuses such a header with its own exception text (exit 4, "Unexpected failure").
        var err = await RegressRefuses("twice.csv", csv);
        Assert.Contains($"twice.csv, line {line}, column {column} ('x')", err);
        Assert.Contains("appears twice", err);
        Assert.DoesNotContain("Exception", err);
    }

    [Theory]
    [InlineData("y;x\n1;2\n2;3\n3;5\n4;4\n", "semicolons")]
    [InlineData("y\tx\n1\t2\n2\t3\n3\t5\n4\t4\n", "tabs")]
    public async Task AFileSeparatedByAnotherCharacterSaysSo(string text, string separator)
    {
        // It used to say only that the header row has 1 column.
        var err = await RegressRefuses("other.csv", text);
        Assert.Contains($"looks separated by {separator}", err);
        Assert.Contains("separated by commas", err);
    }

    [Fact]
    public async Task AnUnknownColumnListsTheColumnsThereAre()
    {
        var (exit, _, err) = await Run("regress", "--data", Ref("city38.csv"), "--y", "ln_resexport", "--x", "gdp");
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("'gdp'", err);
        Assert.Contains("'ln_rescity'", err);
    }

    [Theory]
    [InlineData("serve", "notaurl")]
    [InlineData("serve", "dns:///collector:4317")]
    [InlineData("study", "localhost:4317")]
    public async Task AnOtlpEndpointThatIsNotAUrlIsAUsageError(string verb, string otlp)
    {
        // It reached the exporter's new Uri(...), whose message was all the user saw.
        string[] args = verb == "serve" ? ["serve", "study", "--port", "0", "--otlp", otlp] : ["study", "--otlp", otlp];
        var (exit, _, err) = await Run(args);
        Assert.Equal(CommandLineApp.ExitUsage, exit);
        AssertOneLineError(err);
        Assert.Contains($"'{otlp}' (--otlp, or OTEL_EXPORTER_OTLP_ENDPOINT) is not an OTLP endpoint", err);
        Assert.DoesNotContain("Invalid URI", err);
    }

    [Theory]
    [InlineData("localhost:99999")]
    [InlineData("a b:6379")]
    [InlineData("localhost:6379,nosuchoption=1")]
    public async Task ARedisAddressStackExchangeCannotUseIsAUsageError(string redis)
    {
        // A port past 65535 was 'Unexpected failure (ArgumentOutOfRangeException)', exit 4; a
        // host with a space ran the study with a warning per cache lookup.
        var (exit, _, err) = await Run("study", "--redis", redis);
        Assert.Equal(CommandLineApp.ExitUsage, exit);
        AssertOneLineError(err);
        Assert.Contains($"The Redis address '{redis}' (--redis, or ConnectionStrings:redis) is not HOST:PORT", err);
    }

    [Theory]
    [InlineData("study", "file")]
    [InlineData("study", "under-a-file")]
    [InlineData("sample", "under-a-file")]
    public async Task AnOutFolderThatCannotBeWrittenIsRefusedBeforeTheWork(string verb, string where)
    {
        // It used to run the whole study (or the sample's services) and then print
        // "Could not read or write a file: Could not find a part of the path ...", exit 1.
        var file = Write("not-a-folder.txt", "x\n");
        string path = where == "file" ? file : Path.Combine(file, "report");
        var (exit, _, err) = await Run(verb, "--out", path);
        Assert.Equal(CommandLineApp.ExitUsage, exit);
        AssertOneLineError(err);
        Assert.Contains($"--out '{path}'", err);
        Assert.Contains(where == "file" ? "is a file; give a folder" : "part of the path is missing or is not a folder", err);
        Assert.DoesNotContain("Could not", err);
    }

    [Fact]
    public async Task AFolderForTheSpecAndAFileForTheDataAreCalledWhatTheyAre()
    {
        // Each was reported as missing: "the spec file does not exist", "the data folder does not exist".
        var file = Write("indicators.csv", "x\n");
        var folder = Path.GetDirectoryName(file)!;
        var (exit, _, err) = await Run("study", "--spec", folder);
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("this is a folder; give the spec's JSON file", err);

        (exit, _, err) = await Run("study", "--data", file);
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("indicators.csv: this is a file; --data takes the folder", err);
    }

    [Fact]
    public async Task AMissingFileIsOneSentence()
    {
        var (exit, _, err) = await Run(
            "index",
            "--data",
            Path.Combine(_dir, "nope.csv"),
            "--catalogue",
            Path.Combine(_dir, "nope2.csv")
        );
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("nope.csv", err);
    }

    [Fact]
    public async Task AnUnknownDirectionInTheCatalogueIsLocated()
    {
        var cat = Write(
            "cat.csv",
            "indicator,dimension,direction\nurbanization_rate,A,positive\ngdp_per_capita,A,upward\nretail_sales_mn,B,positive\ngreen_coverage_rate,B,positive\n"
        );
        var (exit, _, err) = await Run("index", "--data", Ref("entropy_6x4.csv"), "--catalogue", cat);
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("cat.csv, line 3, column 3", err);
        Assert.Contains("'upward'", err);
    }

    [Fact]
    public async Task AConstantIndicatorComesBackFromTheServiceAsOneSentence()
    {
        var data = Write("const.csv", "unit,a,b\nx,1,5\ny,2,5\nz,3,5\n");
        var cat = Write("const_cat.csv", "indicator,dimension,direction\na,econ,positive\nb,econ,positive\n");
        var (exit, _, err) = await Run("index", "--data", data, "--catalogue", cat);
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains("'b'", err);
    }

    [Fact]
    public async Task ExportRowsInAnyOrderGiveTheSameProjectionAndARepeatedPeriodIsLocated()
    {
        var sorted = File.ReadAllLines(AnnualLongCsv());
        var reversed = Write("reversed.csv", string.Join("\n", sorted.Take(1).Concat(sorted.Skip(1).Reverse())) + "\n");
        var (exit, expected, err) = await Run("project", "--exports", AnnualLongCsv(), "--format", "json");
        Assert.True(exit == 0, err);
        (exit, var actual, err) = await Run("project", "--exports", reversed, "--format", "json");
        Assert.True(exit == 0, err);
        // The same cities, each with the same numbers (listed in the order they first appear).
        var a = JsonParser.Default.Parse<ProjectExportsResponse>(expected);
        var b = JsonParser.Default.Parse<ProjectExportsResponse>(actual);
        Assert.Equal(a.Cities.OrderBy(c => c.CityId, StringComparer.Ordinal), b.Cities.OrderBy(c => c.CityId, StringComparer.Ordinal));
        Assert.Equal(5, b.Cities.Count);

        var twice = Write("twice.csv", string.Join("\n", sorted.Append(sorted[2])) + "\n");
        (exit, _, err) = await Run("project", "--exports", twice);
        Assert.Equal(CommandLineApp.ExitInput, exit);
        AssertOneLineError(err);
        Assert.Contains($"twice.csv, line {sorted.Length + 1}", err);
        Assert.Contains("also on line 3", err);
    }

    [Fact]
    public async Task AnUnreachableServiceIsNamedAndExitsWithThree()
    {
        var (exit, _, err) = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity",
            "--regression",
            "http://127.0.0.1:1"
        );
        Assert.Equal(CommandLineApp.ExitUnavailable, exit);
        AssertOneLineError(err);
        Assert.Contains("regression service", err);
    }

    [Fact]
    public async Task AnUnknownOptionValueIsAUsageErrorOnOneLine()
    {
        var (exit, _, err) = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity",
            "--vce",
            "hc9"
        );
        Assert.Equal(CommandLineApp.ExitUsage, exit);
        AssertOneLineError(err);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData()]
    public async Task AnUnknownOrMissingVerbIsAUsageErrorThatSaysSo(params string[] args)
    {
        var (exit, _, err) = await Run(args);
        Assert.Equal(CommandLineApp.ExitUsage, exit);
        AssertOneLineError(err);
        Assert.Contains(args.Length == 0 ? "no verb" : "'frobnicate'", err);
    }

    [Fact]
    public async Task VerboseAddsTheStackTrace()
    {
        var (exit, _, err) = await Run(
            "regress",
            "--data",
            Path.Combine(_dir, "missing.csv"),
            "--y",
            "a",
            "--x",
            "b",
            "--verbose"
        );
        Assert.Equal(CommandLineApp.ExitInput, exit);
        Assert.Contains("   at ", err);
    }

    [Fact]
    public async Task BootstrapPValuesAreReproducibleFromTheCommandLine()
    {
        var a = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity,ln_x",
            "--bootstrap",
            "999",
            "--seed",
            "5",
            "--format",
            "json"
        );
        var b = await Run(
            "regress",
            "--data",
            Ref("city38.csv"),
            "--y",
            "ln_resexport",
            "--x",
            "ln_rescity,ln_x",
            "--bootstrap",
            "999",
            "--seed",
            "5",
            "--format",
            "json",
            "--regression",
            services.Regression.Address.ToString()
        );
        Assert.Equal(0, a.Exit);
        Assert.Equal(a.Out, b.Out);
        var r = JsonParser.Default.Parse<FitResponse>(a.Out);
        Assert.True(r.Coefficients[0].HasBootstrapPValue);
        Assert.Equal(999, r.Bootstrap.Replications);
    }
}
