using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ResilienceGrpc.Client.Data;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// <c>regress --data</c> reads a large CSV in two halves at once (<see cref="NumericColumns.FindSplit"/>).
/// Whatever the file holds, the result must be the one-pass read's: the same columns to the bit,
/// ids and row count, or the same first error with the same line and column. The files are small
/// and split anyway; they mix line ends (LF, CRLF, a stray lone CR), comments, blank lines, empty
/// and bad cells, ragged rows, quotes, a byte-order mark, ids repeated across the halves, and a
/// missing last line end.
/// </summary>
public class CsvSplitProperties
{
    public sealed record Case(string Text, bool Ids)
    {
        public override string ToString() => $"ids: {Ids}\n{Text.Replace("\r", "\\r")}";
    }

    private static Gen<string> Cell(bool quotes) =>
        Gen.Frequency(
            (60, Gen.Choose(-100_000, 100_000).Select(i => (i / 97.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
            (1, Gen.Constant("")),
            (1, Gen.Elements(" 7 ", "1e3")),
            (quotes ? 2 : 0, Gen.Constant("\"2.5\""))
        );

    /// <summary>A fault put into one row: a bad cell, a ragged row, an empty or repeated id.</summary>
    public enum Fault
    {
        None,
        BadCell,
        Ragged,
        EmptyId,
        RepeatedId,
    }

    private static Arbitrary<Case> Cases() =>
        (
            from rows in Gen.Choose(0, 120)
            from ids in Gen.Elements(false, true)
            from crlf in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
            from bom in Gen.Elements(false, false, true)
            from comments in Gen.Choose(0, 2)
            from quotes in Gen.Frequency((7, Gen.Constant(false)), (1, Gen.Constant(true)))
            from cells in Gen.ArrayOf(Cell(quotes), rows * 3)
            from extras in Gen.ArrayOf(Gen.Frequency((30, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2))), rows)
            from faults in Gen.ArrayOf(Gen.Elements(Enum.GetValues<Fault>()), 2)
            from at in Gen.ArrayOf(Gen.Choose(0, Math.Max(0, rows - 1)), 2)
            from lastEnd in Gen.Elements(true, true, false)
            select new Case(Write(rows, ids, crlf, bom, comments, cells, extras, faults, at, lastEnd), ids)
        ).ToArbitrary();

    private static string Write(
        int rows,
        bool ids,
        int crlf,
        bool bom,
        int comments,
        string[] cells,
        int[] extras,
        Fault[] faults,
        int[] at,
        bool lastEnd
    )
    {
        var b = new StringBuilder();
        if (bom)
            b.Append('\uFEFF');
        string End(int i) => crlf switch
        {
            0 => "\n",
            1 => "\r\n",
            _ => i % 17 == 16 ? "\r" : i % 2 == 0 ? "\r\n" : "\n",
        };
        for (int c = 0; c < comments; c++)
            b.Append("# note ").Append(c).Append(End(c));
        b.Append(ids ? "city,y,x1,x2" : "y,x1,x2").Append(End(0));
        for (int i = 0; i < rows; i++)
        {
            if (extras[i] == 1)
                b.Append(End(i)); // blank line
            else if (extras[i] == 2)
                b.Append("# a comment row").Append(End(i));
            var fault = Enumerable.Range(0, 2).Where(f => at[f] == i).Select(f => faults[f]).FirstOrDefault();
            if (ids)
                b.Append(
                        fault switch
                        {
                            Fault.EmptyId => "",
                            Fault.RepeatedId => $"c{i / 3}",
                            _ => $"c{i}",
                        }
                    )
                    .Append(',');
            b.Append(cells[3 * i]).Append(',').Append(fault == Fault.BadCell ? "1.5.2" : cells[3 * i + 1]);
            if (fault != Fault.Ragged)
                b.Append(',').Append(cells[3 * i + 2]);
            if (i < rows - 1 || lastEnd)
                b.Append(End(i));
        }
        return b.ToString();
    }

    [Property(MaxTest = 300)]
    public Property TwoHalvesReadAsOnePass() =>
        Prop.ForAll(
            Cases(),
            c =>
            {
                var path = Path.Combine(Path.GetTempPath(), $"split-{Guid.NewGuid():N}.csv");
                File.WriteAllText(path, c.Text, new UTF8Encoding(false));
                try
                {
                    var one = Outcome(path, long.MaxValue);
                    var two = Outcome(path, 0);
                    Assert.Equal(one, two);
                }
                finally
                {
                    File.Delete(path);
                }
            }
        );

    /// <summary>A split lands just after a line feed past the middle, with the line feeds before it counted.</summary>
    [Fact]
    public void APlainFileSplitsAfterTheLineEndPastItsMiddle()
    {
        var path = Path.Combine(Path.GetTempPath(), $"split-{Guid.NewGuid():N}.csv");
        var text = "y,x\r\n" + string.Concat(Enumerable.Range(0, 999).Select(i => $"{i},{i * 3 % 7}\r\n"));
        File.WriteAllText(path, text, new UTF8Encoding(false));
        try
        {
            var split = NumericColumns.FindSplit(path);
            Assert.NotNull(split);
            var bytes = File.ReadAllBytes(path);
            long offset = split.Value.Offset;
            Assert.True(offset > bytes.Length / 2 && offset < bytes.Length);
            Assert.Equal((byte)'\n', bytes[offset - 1]);
            Assert.DoesNotContain((byte)'\n', bytes[(bytes.Length / 2)..(int)(offset - 1)]);
            Assert.Equal(bytes[..(int)offset].Count(x => x == '\n'), split.Value.LinesBefore);
            File.WriteAllText(path, text.Replace("\r\n", "\n").Insert(text.Length / 3, "\"q\""), new UTF8Encoding(false));
            Assert.Null(NumericColumns.FindSplit(path)); // a quote could hide a line end
            File.WriteAllText(path, text.Replace("\r\n", "\r"), new UTF8Encoding(false));
            Assert.Null(NumericColumns.FindSplit(path)); // lone carriage returns end lines too
            File.WriteAllText(path, text, new UnicodeEncoding(false, true));
            Assert.Null(NumericColumns.FindSplit(path)); // UTF-16
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A pipe cannot be split or measured: it is read in one pass, as a file with the same text.</summary>
    [Fact]
    public async Task APipeIsReadInOnePass()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var dir = Directory.CreateTempSubdirectory("fifo-");
        var fifo = Path.Combine(dir.FullName, "data.csv");
        var plain = Path.Combine(dir.FullName, "plain.csv");
        var text = "y,x1,x2\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"{i % 7},{i},{i * 0.5}\n"));
        File.WriteAllText(plain, text);
        try
        {
            using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo]))
                await mk.WaitForExitAsync();
            var writer = Task.Run(() => File.WriteAllText(fifo, text));
            var fromPipe = Outcome(fifo, 0);
            await writer;
            Assert.Equal(Outcome(plain, 0), fromPipe);
            Assert.StartsWith("rows 500;", fromPipe);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void AFileWithMoreRowsThanAColumnHoldsIsRefusedAtTheRowThatPassesIt()
    {
        Assert.Equal(NumericColumns.MaxRows, Array.MaxLength);
        var dir = Directory.CreateTempSubdirectory();
        try
        {
            // 600 data rows after a header and a comment: line 3 is row 1.
            var path = Path.Combine(dir.FullName, "rows.csv");
            var text = new StringBuilder("# rows\ny,x1,x2\n");
            for (int i = 0; i < 600; i++)
                text.Append(CultureInfoInvariant(i)).Append(",1,2\n");
            File.WriteAllText(path, text.ToString());
            DataFileException Refused(long splitFrom, int maxRows) =>
                Assert.Throws<DataFileException>(() =>
                    NumericColumns.Read(path, ["y", "x1"], null, CancellationToken.None, null, splitFrom, maxRows)
                );

            // In one pass: the 501st row, line 503, is one too many.
            var one = Refused(long.MaxValue, 500);
            Assert.Equal(503, one.Line);
            Assert.Contains("more than 500 data rows", one.Message);
            // Split in two halves of about 300 rows, each under the limit: refused when they are
            // put together, without a line (no one line passed it).
            var halves = Refused(0, 500);
            Assert.Equal(0, halves.Line);
            Assert.Contains("more than 500 data rows", halves.Message);
            // At the limit exactly, the file is read.
            Assert.Equal(600, NumericColumns.Read(path, ["y"], null, CancellationToken.None, null, 0, 600).Rows);
            Assert.Equal(600, NumericColumns.Read(path, ["y"], null, CancellationToken.None, null, long.MaxValue, 600).Rows);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string CultureInfoInvariant(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Outcome(string path, long splitFrom)
    {
        try
        {
            var r = NumericColumns.Read(path, ["y", "x1", "x2"], null, CancellationToken.None, null, splitFrom);
            return $"rows {r.Rows}; ids {string.Join("|", r.RowIds)}; "
                + string.Join(
                    "; ",
                    r.Columns.Select(col =>
                        col.Name + ": " + string.Join(",", col.Values.ToArray().Select(v => BitConverter.DoubleToInt64Bits(v)))
                    )
                );
        }
        catch (DataFileException e)
        {
            return $"error at {e.Line}:{e.Column}: {e.Message}";
        }
    }
}
