using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Regression.Domain;

/// <summary>
/// One named column of doubles; NaN marks a missing value. The values may be a slice of a
/// larger array (a reader keeps every column in one huge-page backed array).
/// </summary>
public sealed record NamedColumn(string Name, ReadOnlyMemory<double> Values);

/// <summary>A data set: named columns of equal length, with optional row ids.</summary>
public sealed record RegressionData(IReadOnlyList<NamedColumn> Columns, IReadOnlyList<string>? RowIds = null);

/// <summary>The model: y on the regressors, with an intercept unless <paramref name="NoIntercept"/> (R's <c>y ~ 0 + x</c>).</summary>
public sealed record ModelSpec(string Dependent, IReadOnlyList<string> Regressors, bool NoIntercept = false);

/// <summary>
/// The estimation sample: y and X (intercept first) on the complete rows, after
/// listwise deletion over the model's columns only.
/// </summary>
public sealed class DesignMatrix
{
    /// <summary>Name of the intercept term, as Stata and the reference cases print it.</summary>
    public const string InterceptTerm = "_cons";

    /// <summary>Dependent variable on the kept rows.</summary>
    public required double[] Y { get; init; }

    /// <summary>
    /// X on the kept rows, stored once, contiguous and column-major: column j is
    /// <c>Values[j·N .. (j+1)·N)</c>; the intercept (when the model has one) first, then
    /// the regressors in order.
    /// </summary>
    public required double[] Values { get; init; }

    /// <summary>Whether column 0 is the intercept.</summary>
    public bool HasIntercept { get; init; } = true;

    /// <summary>Column j of X.</summary>
    public ReadOnlySpan<double> Column(int j) => Values.AsSpan(j * N, N);

    /// <summary>Term names parallel to <see cref="X"/>: <c>_cons</c>, then the regressors.</summary>
    public required string[] Terms { get; init; }

    /// <summary>Ids of the kept rows.</summary>
    public required IReadOnlyList<string> RowIds { get; init; }

    /// <summary>Ids of the rows dropped for a missing value.</summary>
    public required string[] DroppedRowIds { get; init; }

    /// <summary>Name of the dependent variable.</summary>
    public required string Dependent { get; init; }

    /// <summary>Observations used.</summary>
    public int N => Y.Length;

    /// <summary>Parameters, intercept included.</summary>
    public int K => Terms.Length;

    /// <summary>Arrays laid out by <see cref="Layout"/>: the design's X (rows, intercept slot) or y (rows).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<double[], LaidOut> laidOut = new();

    private sealed record LaidOut(int Rows, int Offset, bool IsX);

    /// <summary>
    /// Memory for the named columns (of the given lengths), laid out as <paramref name="model"/>'s
    /// design will be, so that <see cref="Build"/> takes it as it is instead of copying X
    /// (docs/method.md, "Memory"): the regressors consecutive in one array after a slot for the
    /// intercept, the dependent variable in its own array, the other columns in one more array.
    /// Where the design could not use the memory as it is (columns of unequal length, a product
    /// term, a name that repeats or is missing) the columns are laid out as
    /// <see cref="LargeArrays.Columns"/> lays them, and Build copies as usual. The caller writes
    /// each column once and does not change it afterwards (the design may share it).
    /// </summary>
    public static Memory<double>[] Layout(IReadOnlyList<string> names, IReadOnlyList<int> lengths, ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(model);
        if (names.Count != lengths.Count || names.Count == 0)
            return LargeArrays.Columns(lengths);
        int rows = lengths[0],
            offset = model.NoIntercept ? 0 : 1,
            k = model.Regressors.Count + offset;
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < names.Count; c++)
            if (lengths[c] != rows || !position.TryAdd(names[c], c))
                return LargeArrays.Columns(lengths);
        var distinct = new HashSet<string>(model.Regressors, StringComparer.Ordinal);
        if (
            rows == 0
            || (long)rows * k > Array.MaxLength
            || distinct.Count != model.Regressors.Count
            || distinct.Contains(model.Dependent)
            || !position.ContainsKey(model.Dependent)
            || !model.Regressors.All(position.ContainsKey)
        )
            return LargeArrays.Columns(lengths);

        var columns = new Memory<double>[names.Count];
        var x = LargeArrays.Uninitialized(rows * k);
        var y = LargeArrays.Uninitialized(rows);
        laidOut.AddOrUpdate(x, new LaidOut(rows, offset, IsX: true));
        laidOut.AddOrUpdate(y, new LaidOut(rows, 0, IsX: false));
        for (int j = 0; j < model.Regressors.Count; j++)
            columns[position[model.Regressors[j]]] = x.AsMemory((j + offset) * rows, rows);
        columns[position[model.Dependent]] = y;
        var others = Enumerable.Range(0, names.Count).Where(c => columns[c].IsEmpty).ToArray();
        var rest = LargeArrays.Columns(others.Select(c => lengths[c]).ToArray());
        for (int i = 0; i < others.Length; i++)
            columns[others[i]] = rest[i];
        return columns;
    }

    /// <summary>
    /// X and y exactly as <see cref="Layout"/> laid them out for this model, when no row is
    /// dropped: the memory is the design's as it is, with the intercept slot filled.
    /// </summary>
    private static (double[] X, double[] Y)? Adopt(ReadOnlyMemory<double> y, ReadOnlyMemory<double>[] regressors, int offset)
    {
        if (
            !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(y, out var ys)
            || ys.Array is not { } yArray
            || !laidOut.TryGetValue(yArray, out var yLayout)
            || yLayout.IsX
            || ys.Offset != 0
            || ys.Count != yArray.Length
        )
            return null;
        int n = ys.Count;
        double[]? x = null;
        for (int j = 0; j < regressors.Length; j++)
        {
            if (
                !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(regressors[j], out var seg)
                || seg.Array is not { } array
                || (x is not null && !ReferenceEquals(array, x))
                || seg.Offset != (j + offset) * n
                || seg.Count != n
            )
                return null;
            x = array;
        }
        if (
            x is null
            || !laidOut.TryGetValue(x, out var xLayout)
            || !xLayout.IsX
            || xLayout.Rows != n
            || xLayout.Offset != offset
            || x.Length != (regressors.Length + offset) * n
        )
            return null;
        if (offset == 1)
            x.AsSpan(0, n).Fill(1.0);
        return (x, yArray);
    }

    /// <summary>
    /// Builds the estimation sample. A regressor named <c>a*b</c> that is not itself a
    /// column is the elementwise product of columns <c>a</c> and <c>b</c>.
    /// </summary>
    /// <exception cref="InvalidInputException">Unknown, duplicate or ragged columns, infinite values, bad row ids.</exception>
    public static DesignMatrix Build(RegressionData data, ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(model);
        if (data.Columns.Count == 0)
            throw new InvalidInputException(
                "columns",
                "The data has no columns; send at least the dependent variable and one regressor."
            );

        var byName = new Dictionary<string, (int Index, ReadOnlyMemory<double> Values)>(StringComparer.Ordinal);
        int rows = data.Columns[0].Values.Length;
        for (int c = 0; c < data.Columns.Count; c++)
        {
            var col = data.Columns[c];
            if (string.IsNullOrWhiteSpace(col.Name))
                throw new InvalidInputException(
                    $"columns[{c}].name",
                    $"Column {c + 1} has no name; every column needs one."
                );
            Names.CheckPrintable(col.Name, $"columns[{c}].name", "column name");
            if (!byName.TryAdd(col.Name, (c, col.Values)))
                throw new InvalidInputException(
                    $"columns[{c}].name",
                    $"Column '{col.Name}' appears twice; column names must be unique."
                );
            if (col.Values.Length != rows)
                throw new InvalidInputException(
                    $"columns[{c}].values",
                    $"Column '{col.Name}' has {col.Values.Length} values but column '{data.Columns[0].Name}' has {rows}; every column needs one value per row."
                );
        }
        if (rows == 0)
            throw new InvalidInputException("columns[0].values", "The data has no rows.");

        var ids = RowIdsOf(data, rows);

        if (string.IsNullOrWhiteSpace(model.Dependent))
            throw new InvalidInputException("dependent", "No dependent variable was given; name one of the columns.");
        if (model.Regressors.Count == 0)
            throw new InvalidInputException("regressors", "No regressors were given; name at least one column.");
        // X is one array (column-major), so rows × columns may not pass the largest .NET array;
        // refused before any column is read (rows dropped later for missing values still count).
        int columns = model.Regressors.Count + (model.NoIntercept ? 0 : 1);
        if ((long)rows * columns > Array.MaxLength)
            throw new WorkLimitException(
                "columns",
                $"The design would have {rows:N0} rows × {columns} columns = {(long)rows * columns:N0} values; one design holds at most {Array.MaxLength:N0} (the largest .NET array). Fit a sample, or fewer regressors."
            );

        var y = Resolve(model.Dependent, "dependent", byName, ids);
        var regressors = new ReadOnlyMemory<double>[model.Regressors.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int j = 0; j < model.Regressors.Count; j++)
        {
            var name = model.Regressors[j];
            if (name == model.Dependent)
                throw new InvalidInputException(
                    $"regressors[{j}]",
                    $"'{name}' is the dependent variable and cannot also be a regressor."
                );
            if (name == InterceptTerm)
                throw new InvalidInputException(
                    $"regressors[{j}]",
                    model.NoIntercept
                        ? $"'{InterceptTerm}' names the intercept, and this model has none (no_intercept is set); remove it from the regressors."
                        : $"'{InterceptTerm}' is the intercept, which is always included; remove it from the regressors."
                );
            if (!seen.Add(name))
                throw new InvalidInputException($"regressors[{j}]", $"Regressor '{name}' is listed twice.");
            regressors[j] = Resolve(name, $"regressors[{j}]", byName, ids);
        }

        // Listwise deletion, column by column: a row is kept when none of the model's columns
        // is missing (NaN) in it. Without a missing value the columns are copied whole.
        var missing = new bool[rows];
        MarkMissing(y.Span, missing);
        foreach (var r in regressors)
            MarkMissing(r.Span, missing);
        var dropped = new List<string>();
        int[]? keep = null;
        if (Array.IndexOf(missing, true) >= 0)
        {
            var kept = new List<int>(rows);
            for (int i = 0; i < rows; i++)
                if (missing[i])
                    dropped.Add(ids[i]);
                else
                    kept.Add(i);
            keep = kept.ToArray();
        }

        int offset = model.NoIntercept ? 0 : 1,
            n = keep?.Length ?? rows;
        // Columns laid out for this model (DesignMatrix.Layout) are X and y as they are: no copy.
        var adopted = keep is null ? Adopt(y, regressors, offset) : null;
        var x = adopted?.X ?? LargeArrays.Uninitialized(n * (regressors.Length + offset));
        var yKept = adopted?.Y ?? LargeArrays.Uninitialized(n);
        if (adopted is null)
        {
            if (offset == 1)
                x.AsSpan(0, n).Fill(1.0);
            for (int j = 0; j < regressors.Length; j++)
                Pick(regressors[j].Span, keep, x.AsSpan((j + offset) * n, n));
            Pick(y.Span, keep, yKept);
        }
        var terms = new string[regressors.Length + offset];
        if (offset == 1)
            terms[0] = InterceptTerm;
        for (int j = 0; j < regressors.Length; j++)
            terms[j + offset] = model.Regressors[j];
        CheckScale(yKept, model.Dependent, "dependent");
        for (int j = 0; j < regressors.Length; j++)
            CheckScale(x.AsSpan((j + offset) * n, n), model.Regressors[j], $"regressors[{j}]");

        return new DesignMatrix
        {
            Y = yKept,
            Values = x,
            HasIntercept = offset == 1,
            Terms = terms,
            RowIds = new RowNames(ids, keep),
            DroppedRowIds = dropped.ToArray(),
            Dependent = model.Dependent,
        };
    }

    /// <summary>Largest magnitude a column may have (its squares stay far from overflow).</summary>
    public const double MaxMagnitude = 1e150;

    /// <summary>Smallest largest-magnitude a non-zero column may have (its squares stay far from underflow).</summary>
    public const double MinMagnitude = 1e-150;

    /// <summary>A column whose values are all tiny or huge cannot be fitted accurately in double precision: say so, and how to fix it.</summary>
    private static void CheckScale(ReadOnlySpan<double> values, string name, string field)
    {
        double max = VectorKernels.MaxAbs(values);
        if (max > MaxMagnitude || (max > 0 && max < MinMagnitude))
            throw new InfeasibleInputException(
                field,
                string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"Column '{name}' has values of magnitude about {max:0e0}, too far from 1 to fit accurately in double precision (the limits are {MinMagnitude:0e0} to {MaxMagnitude:0e0}); rescale it, for example to thousands or millions."
                )
            );
    }

    private static IReadOnlyList<string> RowIdsOf(RegressionData data, int rows)
    {
        if (data.RowIds is null || data.RowIds.Count == 0)
            return new RowNames(null, null, rows);
        if (data.RowIds.Count != rows)
            throw new InvalidInputException(
                "row_ids",
                $"There are {data.RowIds.Count} row ids for {rows} rows; send one id per row or none."
            );
        var unique = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < rows; i++)
        {
            if (string.IsNullOrWhiteSpace(data.RowIds[i]))
                throw new InvalidInputException($"row_ids[{i}]", $"Row {i + 1} has an empty id.");
            Names.CheckPrintable(data.RowIds[i], $"row_ids[{i}]", "row id");
            if (!unique.Add(data.RowIds[i]))
                throw new InvalidInputException(
                    $"row_ids[{i}]",
                    $"Row id '{data.RowIds[i]}' appears twice; row ids must be unique."
                );
        }
        return data.RowIds;
    }

    private static ReadOnlyMemory<double> Resolve(
        string name,
        string field,
        Dictionary<string, (int Index, ReadOnlyMemory<double> Values)> byName,
        IReadOnlyList<string> ids
    )
    {
        if (byName.TryGetValue(name, out var col))
        {
            CheckFinite(col.Values.Span, name, $"columns[{col.Index}].values", ids);
            return col.Values;
        }
        var parts = name.Split('*');
        if (parts.Length >= 2 && parts.All(byName.ContainsKey))
        {
            var values = Enumerable.Repeat(1.0, ids.Count).ToArray();
            foreach (var part in parts)
            {
                var (index, v) = byName[part];
                var factor = v.Span;
                CheckFinite(factor, part, $"columns[{index}].values", ids);
                for (int i = 0; i < values.Length; i++)
                    values[i] *= factor[i];
            }
            return values;
        }
        var known = string.Join(", ", byName.Keys.Take(12).Select(k => $"'{k}'")) + (byName.Count > 12 ? ", ..." : "");
        var missing = parts.Length >= 2 ? parts.First(p => !byName.ContainsKey(p)) : name;
        throw new InvalidInputException(field, $"Column '{missing}' is not in the data (known columns: {known}).");
    }

    private static void CheckFinite(ReadOnlySpan<double> values, string name, string field, IReadOnlyList<string> ids)
    {
        for (int i = 0; i < values.Length; i++)
            if (double.IsInfinity(values[i]))
                throw new InvalidInputException(
                    $"{field}[{i}]",
                    $"Column '{name}' has an infinite value in row '{ids[i]}'; use a finite number, or leave the cell empty (NaN) to drop the row."
                );
    }

    private static void MarkMissing(ReadOnlySpan<double> values, bool[] missing)
    {
        for (int i = 0; i < values.Length; i++)
            missing[i] |= double.IsNaN(values[i]);
    }

    private static void Pick(ReadOnlySpan<double> values, int[]? rows, Span<double> into)
    {
        if (rows is null)
        {
            values.CopyTo(into);
            return;
        }
        for (int i = 0; i < into.Length; i++)
            into[i] = values[rows[i]];
    }
}

/// <summary>
/// Row names without a string per row: the given ids, or 1-based row numbers, seen
/// through the kept rows' indices when listwise deletion dropped some.
/// </summary>
internal sealed class RowNames(IReadOnlyList<string>? ids, int[]? kept, int count = -1) : IReadOnlyList<string>
{
    public int Count { get; } = kept?.Length ?? ids?.Count ?? count;

    public string this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            int row = kept is null ? index : kept[index];
            return ids is null ? (row + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : ids[row];
        }
    }

    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
            yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
