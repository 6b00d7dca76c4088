using System.Globalization;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// <c>regress --data file.parquet</c>: the same fit as the same numbers in CSV, to the
/// last digit, whatever the column types (double, int, nullable float) and the row groups
/// (Longley, whose CSV fit is checked against its exact values elsewhere); a null is a
/// missing value as an empty CSV cell; a NaN, a text column, a damaged file and an unknown
/// column are each one sentence naming the file and the row or column.
/// Files are written with Parquet.Net's writer.
/// </summary>
public class ParquetInputTests
{
    private static readonly string[] Longley =
    [
        "Employed",
        "GNP.deflator",
        "GNP",
        "Unemployed",
        "Armed.Forces",
        "Population",
        "Year",
    ];

    private static string Temp(string name) =>
        Path.Combine(Directory.CreateTempSubdirectory("resilience-parquet-").FullName, name);

    private static double[][] LongleyColumns()
    {
        var lines = File.ReadAllLines(Path.Combine(Reference.Dir, "longley.csv")).Skip(1).ToArray();
        return Enumerable
            .Range(0, Longley.Length)
            .Select(c => lines.Select(l => double.Parse(l.Split(',')[c], CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
    }

    /// <summary>Writes Longley with Year as int, Armed.Forces as nullable float (no nulls), the rest doubles, in row groups of <paramref name="group"/>.</summary>
    private static async Task<string> WriteLongley(int group, Func<int, double?>? unemployed = null)
    {
        var cols = LongleyColumns();
        int n = cols[0].Length;
        var fields = new DataField[]
        {
            new DataField<double>("Employed"),
            new DataField<double>("GNP.deflator"),
            new DataField<double>("GNP"),
            new DataField<double?>("Unemployed"),
            new DataField<float?>("Armed.Forces"),
            new DataField<double>("Population"),
            new DataField<int>("Year"),
            new DataField<string>("label"),
        };
        var path = Temp("longley.parquet");
        await using (var file = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file))
        {
            for (int s = 0; s < n; s += group)
            {
                int m = Math.Min(group, n - s);
                using var g = writer.CreateRowGroup();
                await g.WriteAsync(fields[0], (ReadOnlyMemory<double>)cols[0].AsMemory(s, m));
                await g.WriteAsync(fields[1], (ReadOnlyMemory<double>)cols[1].AsMemory(s, m));
                await g.WriteAsync(fields[2], (ReadOnlyMemory<double>)cols[2].AsMemory(s, m));
                var u = Enumerable.Range(s, m).Select(i => unemployed is null ? cols[3][i] : unemployed(i)).ToArray();
                await g.WriteAsync(fields[3], (ReadOnlyMemory<double?>)u.AsMemory());
                var af = cols[4].Skip(s).Take(m).Select(v => (float?)(float)v).ToArray();
                await g.WriteAsync(fields[4], (ReadOnlyMemory<float?>)af.AsMemory());
                await g.WriteAsync(fields[5], (ReadOnlyMemory<double>)cols[5].AsMemory(s, m));
                var year = cols[6].Skip(s).Take(m).Select(v => (int)v).ToArray();
                await g.WriteAsync(fields[6], (ReadOnlyMemory<int>)year.AsMemory());
                await g.WriteAsync(fields[7], Enumerable.Range(s, m).Select(i => $"y{i}").ToArray());
            }
        }
        return path;
    }

    private static string WriteCsv(Func<int, string>? unemployed = null)
    {
        var lines = File.ReadAllLines(Path.Combine(Reference.Dir, "longley.csv"));
        if (unemployed is not null)
            for (int i = 1; i < lines.Length; i++)
            {
                var cells = lines[i].Split(',');
                cells[3] = unemployed(i - 1);
                lines[i] = string.Join(',', cells);
            }
        var path = Temp("longley.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static async Task<JsonElement> Fit(string path, string x = "GNP.deflator,GNP,Unemployed,Armed.Forces,Population,Year")
    {
        var (exit, stdout, stderr) = await CliRunner.Run(
            "regress",
            "--data",
            path,
            "--y",
            "Employed",
            "--x",
            x,
            "--vce",
            "hc3",
            "--format",
            "json"
        );
        Assert.True(exit == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.GetProperty("coefficients");
    }

    private static void AssertSameFit(JsonElement csv, JsonElement parquet)
    {
        var a = csv.EnumerateArray().ToArray();
        var b = parquet.EnumerateArray().ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            foreach (var key in new[] { "term", "estimate", "stdError" })
                Assert.Equal(a[i].GetProperty(key).ToString(), b[i].GetProperty(key).ToString());
    }

    [Theory]
    [InlineData(16)]
    [InlineData(5)]
    public async Task ParquetGivesTheCsvFitToTheLastDigitWhateverTheTypesAndRowGroups(int group)
    {
        // Armed.Forces is stored as float in the Parquet file: compare with the float's value in CSV.
        var csvLines = File.ReadAllLines(Path.Combine(Reference.Dir, "longley.csv"));
        var parquet = await WriteLongley(group);
        var csv = WriteCsv();
        var rounded = File.ReadAllLines(csv)
            .Select(
                (l, i) =>
                {
                    if (i == 0)
                        return l;
                    var cells = l.Split(',');
                    cells[4] = ((double)(float)double.Parse(cells[4], CultureInfo.InvariantCulture)).ToString(
                        "R",
                        CultureInfo.InvariantCulture
                    );
                    return string.Join(',', cells);
                }
            )
            .ToArray();
        File.WriteAllLines(csv, rounded);
        Assert.Equal(csvLines.Length, rounded.Length);
        AssertSameFit(await Fit(csv), await Fit(parquet));
    }

    [Fact]
    public async Task ANullIsAMissingValueAsAnEmptyCsvCell()
    {
        var parquet = await WriteLongley(7, i => i % 4 == 1 ? null : LongleyColumns()[3][i]);
        var csv = WriteCsv(i => i % 4 == 1 ? "" : LongleyColumns()[3][i].ToString("R", CultureInfo.InvariantCulture));
        // Armed.Forces is left out: the float storage is the other test's concern.
        AssertSameFit(
            await Fit(csv, "GNP.deflator,GNP,Unemployed,Population,Year"),
            await Fit(parquet, "GNP.deflator,GNP,Unemployed,Population,Year")
        );
    }

    [Fact]
    public async Task ANaNIsRefusedNamingTheRowAndTheColumn()
    {
        var parquet = await WriteLongley(16, i => i == 9 ? double.NaN : LongleyColumns()[3][i]);
        var (exit, _, stderr) = await CliRunner.Run("regress", "--data", parquet, "--y", "Employed", "--x", "Unemployed");
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(stderr);
        Assert.Contains("longley.parquet", stderr);
        Assert.Contains("row 10, column 'Unemployed'", stderr);
    }

    [Fact]
    public async Task ATextColumnAnUnknownColumnAndADamagedFileAreOneSentenceEach()
    {
        var parquet = await WriteLongley(16);
        var (exit, _, stderr) = await CliRunner.Run("regress", "--data", parquet, "--y", "Employed", "--x", "label");
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(stderr);
        Assert.Contains("column 'label' holds text, not numbers", stderr);

        (exit, _, stderr) = await CliRunner.Run("regress", "--data", parquet, "--y", "Employed", "--x", "GDP");
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(stderr);
        Assert.Contains("there is no column 'GDP'", stderr);
        Assert.Contains("'GNP.deflator'", stderr);

        var damaged = Temp("damaged.parquet");
        var bytes = await File.ReadAllBytesAsync(parquet);
        await File.WriteAllBytesAsync(damaged, bytes[..(bytes.Length / 2)]);
        (exit, _, stderr) = await CliRunner.Run("regress", "--data", damaged, "--y", "Employed", "--x", "GNP");
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(stderr);
        Assert.Contains("damaged.parquet", stderr);
        Assert.Contains("not a readable Parquet file", stderr);
    }

    [Fact]
    public async Task AFileClaimingMoreRowsThanMemoryHoldsIsRefusedBeforeAnyIsRead()
    {
        // 40 row groups of 1,000,000 zeros: a file of under 2 MiB that says it has
        // 40,000,000 rows, whose two columns would need 610 MiB of doubles. The command line
        // runs with a 256 MiB heap (DOTNET_GCHeapHardLimit), half of which is what it may take.
        var path = Temp("claims.parquet");
        var zeros = new int[1_000_000];
        var fields = new DataField[] { new DataField<int>("y"), new DataField<int>("x") };
        await using (var file = File.Create(path))
        await using (
            var writer = await ParquetWriter.CreateAsync(
                new ParquetSchema(fields),
                file,
                new ParquetOptions { CompressionMethod = CompressionMethod.Gzip }
            )
        )
        {
            for (int g = 0; g < 40; g++)
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], (ReadOnlyMemory<int>)zeros.AsMemory());
                await group.WriteAsync(fields[1], (ReadOnlyMemory<int>)zeros.AsMemory());
            }
        }
        Assert.True(new FileInfo(path).Length < 2 << 20, $"{new FileInfo(path).Length:N0} bytes");

        var (exit, err) = await RunChild(
            ["regress", "--data", path, "--y", "y", "--x", "x"],
            ("DOTNET_GCHeapHardLimit", "0x10000000")
        );
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(err);
        Assert.Contains("claims.parquet", err);
        Assert.Contains("40,000,000 rows", err);
        Assert.Contains("more than half of this machine's memory (256 MiB)", err);
    }

    [Fact]
    public async Task AFooterThatEndsInsideANumberIsRefusedInsteadOfHangingForEver()
    {
        // A footer of one byte: field 1 of FileMetaData as a 32-bit integer, whose value is
        // missing. Parquet.Net 6.1.0 reads the footer's end as 0xFF bytes and never finishes
        // the number, ignoring cancellation. The command line runs as a child process, so the
        // abandoned decoding thread ends with it.
        var path = Temp("endless.parquet");
        await File.WriteAllBytesAsync(path, [.. "PAR1"u8, 0x15, 1, 0, 0, 0, .. "PAR1"u8]);
        var (exit, err) = await RunChild(["regress", "--data", path, "--y", "y", "--x", "x"]);
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(err);
        Assert.Contains("endless.parquet: this is not a readable Parquet file", err);
        Assert.Contains("the footer is damaged", err);
    }

    [Fact]
    public async Task ARowGroupClaimingANegativeNumberOfRowsIsDamageNotAnOverflow()
    {
        // 1,234,567 rows, then every varint of that count in the footer (the file's, the row
        // group's and each column's value count) made negative: zigzag 2n becomes 2n − 1, the
        // same length. The count used to pass every check and overflow an array size.
        const long rows = 1_234_567;
        var path = Temp("negative.parquet");
        var zeros = new int[rows];
        var fields = new DataField[] { new DataField<int>("y"), new DataField<int>("x") };
        await using (var file = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(fields[0], (ReadOnlyMemory<int>)zeros.AsMemory());
            await group.WriteAsync(fields[1], (ReadOnlyMemory<int>)zeros.AsMemory());
        }
        var bytes = await File.ReadAllBytesAsync(path);
        int footer = BitConverter.ToInt32(bytes.AsSpan(bytes.Length - 8, 4));
        var positive = Varint(2 * rows);
        var negative = Varint(2 * rows - 1);
        Assert.Equal(positive.Length, negative.Length);
        int replaced = 0;
        for (int at = bytes.Length - 8 - footer; at <= bytes.Length - 8 - positive.Length; at++)
            if (bytes.AsSpan(at, positive.Length).SequenceEqual(positive))
            {
                negative.CopyTo(bytes, at);
                replaced++;
            }
        Assert.True(replaced >= 2, $"{replaced} row counts found in the footer");
        await File.WriteAllBytesAsync(path, bytes);

        var (exit, _, stderr) = await CliRunner.Run("regress", "--data", path, "--y", "y", "--x", "x");
        Assert.Equal(1, exit);
        CliRunner.AssertOneSentence(stderr);
        Assert.Contains("negative.parquet: row group 1 of 1: the data cannot be decoded", stderr);
    }

    private static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        for (ulong v = (ulong)value; ; v >>= 7)
        {
            if (v < 0x80)
            {
                bytes.Add((byte)v);
                return [.. bytes];
            }
            bytes.Add((byte)(v | 0x80));
        }
    }

    /// <summary>
    /// Every 4-byte run of the footer (and of the 64 bytes before it, the last data page) set to
    /// zeros: the read either succeeds or is refused as a
    /// <see cref="ResilienceGrpc.Client.Data.DataFileException"/> naming the file, never with the
    /// decoder's own exception (null references, "at least one field is required" and the
    /// decoder's buffer checks all came through as "Unexpected failure", exit 4). Zeros cannot
    /// start the endless number of the test above, so no case waits for the metadata timeout
    /// (other fills do, and each would leave a decoding thread spinning in the test process).
    /// </summary>
    [Fact]
    public async Task EveryZeroedRunOfTheFooterIsADataFileErrorNamingTheFile()
    {
        var parquet = await WriteLongley(8);
        var bytes = await File.ReadAllBytesAsync(parquet);
        int footer = BitConverter.ToInt32(bytes.AsSpan(bytes.Length - 8, 4));
        int start = Math.Max(0, bytes.Length - 8 - footer - 64);
        var damaged = Temp("damaged.parquet");
        int refused = 0;
        var names = new[] { "Employed", "GNP", "Armed.Forces", "Year" };
        for (int at = start; at < bytes.Length - 4; at++)
        {
            var copy = (byte[])bytes.Clone();
            copy.AsSpan(at, 4).Clear();
            await File.WriteAllBytesAsync(damaged, copy);
            try
            {
                ResilienceGrpc.Client.Data.ParquetColumns.Read(damaged, names, null);
            }
            catch (ResilienceGrpc.Client.Data.DataFileException e)
            {
                Assert.StartsWith("damaged.parquet: ", e.Message);
                refused++;
            }
        }
        // Not a test that cannot fail: most of these files are damaged beyond reading.
        int cases = bytes.Length - 4 - start;
        Assert.True(refused >= cases / 2, $"{refused} of {cases} damaged files refused");
    }

    /// <summary>Runs the command line as a child process; returns its exit code and stderr.</summary>
    private static Task<(int Exit, string Err)> RunChild(string[] args, params (string Name, string Value)[] environment) =>
        CliRunner.RunProcess("resilience.dll", args, environment.ToDictionary(e => e.Name, e => e.Value));
}
