using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Client.Data;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The CSV readers parse numbers with a fast parser (<see cref="CsvTable.TryNumber"/>: csFastFloat
/// where it reads the whole cell). Whatever a cell holds, <c>regress --data</c> must read it as
/// .NET's invariant parse does: the same double to the bit where that gives a finite number, a
/// "not a number" error with the cell's line and column where it does not, NaN for an empty cell.
/// </summary>
public class CsvNumberProperties
{
    private static readonly string[] Formats = ["R", "G17", "G5", "E3", "e12", "F0", "F6", "0.################", "0.0e+0"];

    private static readonly string[] Odd =
    [
        "+1.5",
        "-0",
        ".5",
        "5.",
        "-.25e-3",
        "1e",
        "1.5abc",
        "0x10",
        "1_000",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e400",
        "1e-400",
        "4.9406564584124654E-324",
        "2.4703282292062328E-324",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
        "0.1000000000000000055511151231257827021181583404541015625",
        "  42  ",
        "1 2",
        "--1",
        "1e+",
        "e5",
        ".",
        "١٢",
    ];

    private static Gen<string> Cell =>
        Gen.Frequency(
            (
                6,
                from bits in Gen.Choose(int.MinValue, int.MaxValue).Two()
                from format in Gen.Elements(Formats)
                let value = BitConverter.Int64BitsToDouble(((long)bits.Item1 << 32) | (uint)bits.Item2)
                where double.IsFinite(value)
                select value.ToString(format, CultureInfo.InvariantCulture)
            ),
            (2, Gen.Choose(-100_000, 100_000).Select(i => (i / 1000.0).ToString(CultureInfo.InvariantCulture))),
            (3, Gen.Elements(Odd))
        );

    [Property(MaxTest = 200)]
    public Property EveryCellReadsAsDotNetsInvariantParse() =>
        Prop.ForAll(
            Gen.NonEmptyListOf(Cell).Select(l => l.Take(30).ToArray()).ToArbitrary(),
            cells =>
            {
                var path = Path.Combine(Path.GetTempPath(), $"cells-{Guid.NewGuid():N}.csv");
                File.WriteAllLines(path, cells.Select(c => $"1,{c}").Prepend("y,x"));
                try
                {
                    int bad = Array.FindIndex(cells, c => Reference(c) is null);
                    if (bad >= 0)
                    {
                        var error = Assert.Throws<DataFileException>(() => NumericColumns.Read(path, ["y", "x"], null));
                        Assert.Equal(bad + 2, error.Line);
                        Assert.Equal(2, error.Column);
                        return;
                    }
                    var read = NumericColumns.Read(path, ["y", "x"], null);
                    var x = read.Columns[1].Values.Span;
                    Assert.Equal(cells.Length, x.Length);
                    for (int i = 0; i < cells.Length; i++)
                        Assert.Equal(
                            BitConverter.DoubleToInt64Bits(Reference(cells[i])!.Value),
                            BitConverter.DoubleToInt64Bits(x[i])
                        );
                }
                finally
                {
                    File.Delete(path);
                }
            }
        );

    /// <summary>.NET's invariant parse of a cell as the CSV reader trims it (spaces only); null where it is not a finite number.</summary>
    private static double? Reference(string cell)
    {
        var trimmed = cell.Trim(' ');
        if (trimmed.Length == 0)
            return double.NaN;
        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            && double.IsFinite(v)
            ? v
            : null;
    }
}
