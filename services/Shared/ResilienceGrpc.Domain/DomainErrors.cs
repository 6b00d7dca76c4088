namespace ResilienceGrpc.Domain;

/// <summary>
/// A rejected input. <see cref="Field"/> is the path of the offending value in the
/// request's own words (for example <c>indicators[2].values[5]</c>), and the message
/// is one sentence a user can act on, naming the indicator, city, period or column.
/// </summary>
public abstract class DomainInputException(string field, string message) : Exception(message)
{
    /// <summary>Path of the offending input, e.g. <c>series[3].periods[14]</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Malformed input: a value that can never be valid (NaN, a duplicate id, an unknown
/// column, a period out of order). Maps to gRPC <c>INVALID_ARGUMENT</c>.
/// </summary>
public sealed class InvalidInputException(string field, string message) : DomainInputException(field, message);

/// <summary>
/// Well-formed input the method cannot work with (a constant indicator, collinear
/// regressors, fewer rows than parameters). Maps to gRPC <c>FAILED_PRECONDITION</c>.
/// </summary>
public sealed class InfeasibleInputException(string field, string message) : DomainInputException(field, message);

/// <summary>
/// A request over a documented work limit (too many models, rows × parameters, bootstrap
/// draws), refused before the work starts. Maps to gRPC <c>RESOURCE_EXHAUSTED</c>; the
/// message names the limit.
/// </summary>
public sealed class WorkLimitException(string field, string message) : DomainInputException(field, message);

/// <summary>Names (ids, columns, labels) are printable text: no control and no bidirectional-override characters.</summary>
public static class Names
{
    /// <summary>Whether a character may appear in a name.</summary>
    public static bool Allowed(char c) =>
        !char.IsControl(c)
        && c
            is not (>= '\u202A' and <= '\u202E')
                and not (>= '\u2066' and <= '\u2069')
                and not '\u200E'
                and not '\u200F'
                and not '\u061C';

    /// <summary>Throws <see cref="InvalidInputException"/> on <paramref name="field"/> when the name holds a forbidden character.</summary>
    public static void CheckPrintable(string name, string field, string what)
    {
        foreach (char c in name)
            if (!Allowed(c))
                throw new InvalidInputException(
                    field,
                    $"The {what} '{Shown(name)}' contains a control or bidirectional character (U+{(int)c:X4}); use printable text."
                );
    }

    /// <summary>The name for a message: forbidden characters as '?', shortened to 40 characters.</summary>
    public static string Shown(string name)
    {
        var s = new string(name.Select(c => Allowed(c) ? c : '?').ToArray());
        return s.Length <= 40 ? s : s[..40] + "…";
    }
}
