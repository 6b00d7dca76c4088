using System.Globalization;
using System.Text.Json;

namespace ResilienceGrpc.Tests.Support;

/// <summary>
/// Loads the reference cases copied into <c>tests/reference/</c> (see its SOURCE.md:
/// R, statsmodels, exact arithmetic, NIST StRD, numpy). No expected number comes
/// from this project's code.
/// </summary>
public static partial class Reference
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "reference");

    public static JsonElement Json(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name + ".json"))).RootElement;

    /// <summary>Header and rows of a reference CSV (no quoting in these files; empty cell = NaN).</summary>
    public static (string[] Header, string[][] Rows) Csv(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Dir, file)).Where(l => l.Length > 0).ToArray();
        return (lines[0].Split(','), lines.Skip(1).Select(l => l.Split(',')).ToArray());
    }

    public static double Number(string cell) =>
        cell.Length == 0 ? double.NaN : double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static double[] Column(string file, string name)
    {
        var (h, rows) = Csv(file);
        int c = Array.IndexOf(h, name);
        if (c < 0)
            throw new ArgumentException($"{file} has no column {name}.", nameof(name));
        return rows.Select(r => Number(r[c])).ToArray();
    }
}
