using System.Security.Cryptography;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Data;

/// <summary>
/// A study's data folder (docs/method.md §1), the same for the bundled sample and for real data:
/// <list type="bullet">
/// <item><c>indicators.csv</c>: <c>city</c>, then one column per indicator (index year);</item>
/// <item><c>catalogue.csv</c>: <c>indicator,dimension,direction[,label]</c>;</item>
/// <item><c>exports.csv</c>: <c>city,period,exports</c>, monthly <c>YYYY-MM</c> (or annual <c>YYYY</c>),
/// or <c>exports_ytd.csv</c> in the same form with year-to-date cumulative values;</item>
/// <item><c>cities.csv</c>: <c>city,name,tier,density</c> and any other numeric attributes.</item>
/// </list>
/// A file whose first comment line starts with <c># SYNTHETIC</c> marks the data set as synthetic.
/// </summary>
public static class StudyDataFolder
{
    public static readonly string[] Required = ["indicators.csv", "catalogue.csv", "cities.csv"];

    /// <summary>Loads a folder on disk.</summary>
    public static StudyData Load(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DataFileException(
                dir,
                0,
                0,
                null,
                File.Exists(dir)
                    ? $"this is a file; --data takes the folder that holds {string.Join(", ", Required)} and exports.csv."
                    : $"the data folder does not exist (looked for {Path.GetFullPath(dir)}); it needs {string.Join(", ", Required)} and exports.csv."
            );
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in Required.Append("exports.csv").Append("exports_ytd.csv"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
                files[name] = File.ReadAllBytes(path);
        }
        return FromFiles(files, Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar)), dir);
    }

    /// <summary>Loads from file contents keyed by file name (the bundled sample comes this way).</summary>
    public static StudyData FromFiles(IReadOnlyDictionary<string, byte[]> files, string label, string location)
    {
        foreach (var name in Required)
            if (!files.ContainsKey(name))
                throw new DataFileException(
                    Path.Combine(location, name),
                    0,
                    0,
                    null,
                    $"the data folder has no {name}; see README.md, 'Using your own data'."
                );
        bool cumulative = !files.ContainsKey("exports.csv") && files.ContainsKey("exports_ytd.csv");
        string exportsName = cumulative ? "exports_ytd.csv" : "exports.csv";
        if (!files.ContainsKey(exportsName))
            throw new DataFileException(
                Path.Combine(location, "exports.csv"),
                0,
                0,
                null,
                "the data folder has no exports.csv (or exports_ytd.csv for year-to-date values)."
            );

        CsvTable Table(string name) =>
            CsvTable.Parse(System.Text.Encoding.UTF8.GetString(files[name]), Path.Combine(location, name));
        var indicatorsCsv = Table("indicators.csv");
        var catalogueCsv = Table("catalogue.csv");
        var exportsCsv = Table(exportsName);
        var citiesCsv = Table("cities.csv");

        if (indicatorsCsv.Header[0] != "city")
            throw new DataFileException(
                indicatorsCsv.File,
                1,
                1,
                indicatorsCsv.Header[0],
                "the first column must be 'city', the city id."
            );
        var (units, indicators) = Loaders.IndicatorTable(indicatorsCsv, catalogueCsv);
        var (series, kind) = Loaders.Exports(exportsCsv, cumulative);

        int cc = citiesCsv.Column("city", "the city id");
        int cn = citiesCsv.Has("name") ? citiesCsv.Column("name") : -1;
        int ct = citiesCsv.Column("tier", "first, new_first or other");
        citiesCsv.Column("density", "non-agricultural population density, persons per km²");
        var rowOf = new Dictionary<string, CsvRow>(StringComparer.Ordinal);
        foreach (var row in citiesCsv.Rows)
        {
            var id = citiesCsv.Text(row, cc);
            if (!rowOf.TryAdd(id, row))
                throw new DataFileException(citiesCsv.File, row.Line, cc + 1, "city", $"city '{id}' appears twice.");
            if (Array.IndexOf(units.ToArray(), id) < 0)
                throw new DataFileException(
                    citiesCsv.File,
                    row.Line,
                    cc + 1,
                    "city",
                    $"city '{id}' is not in indicators.csv."
                );
        }
        foreach (var id in units)
            if (!rowOf.ContainsKey(id))
                throw new DataFileException(
                    citiesCsv.File,
                    0,
                    0,
                    null,
                    $"city '{id}' of indicators.csv has no row; every city needs its name, tier and density."
                );
        var exportCities = series.Select(s => s.CityId).ToHashSet(StringComparer.Ordinal);
        foreach (var id in units)
            if (!exportCities.Contains(id))
                throw new DataFileException(
                    exportsCsv.File,
                    0,
                    0,
                    null,
                    $"city '{id}' of indicators.csv has no exports."
                );
        foreach (var s in series)
            if (!rowOf.ContainsKey(s.CityId))
                throw new DataFileException(
                    exportsCsv.File,
                    0,
                    0,
                    null,
                    $"city '{s.CityId}' has exports but is not in indicators.csv."
                );

        var data = new StudyData
        {
            CityIds = { units },
            CityNames = { units.Select(id => cn >= 0 && rowOf[id].Cells[cn].Length > 0 ? rowOf[id].Cells[cn] : id) },
            Tiers = { units.Select(id => citiesCsv.Text(rowOf[id], ct).ToLowerInvariant()) },
            Indicators = { indicators },
            Exports = { units.Select(id => series.First(s => s.CityId == id)) },
            ExportKind = kind,
        };
        for (int c = 0; c < citiesCsv.Header.Length; c++)
        {
            if (c == cc || c == cn || c == ct)
                continue;
            if (!citiesCsv.IsNumeric(c))
                throw new DataFileException(
                    citiesCsv.File,
                    1,
                    c + 1,
                    citiesCsv.Header[c],
                    "this attribute is not numeric; city attributes other than name and tier must be numbers."
                );
            var values = new NamedValues { Name = citiesCsv.Header[c] };
            values.Values.AddRange(units.Select(id => citiesCsv.Number(rowOf[id], c)));
            data.Attributes.Add(values);
        }

        var synthetic = new[] { indicatorsCsv, catalogueCsv, exportsCsv, citiesCsv }
            .Select(t => t.Comments.FirstOrDefault(c => c.StartsWith("SYNTHETIC", StringComparison.Ordinal)))
            .FirstOrDefault(c => c is not null);
        data.Synthetic = synthetic is not null;
        var seed = synthetic is null ? null : System.Text.RegularExpressions.Regex.Match(synthetic, @"--seed (\d+)");
        data.Label = seed is { Success: true } ? $"{label}, generated with seed {seed.Groups[1].Value}" : label;
        foreach (var (name, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            data.Inputs.Add(
                new InputDigest
                {
                    Name = name,
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                    SizeBytes = bytes.Length,
                }
            );
        return data;
    }
}
