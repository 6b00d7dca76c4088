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
public sealed class InvalidInputException(string field, string message)
    : DomainInputException(field, message);

/// <summary>
/// Well-formed input the method cannot work with (a constant indicator, collinear
/// regressors, fewer rows than parameters). Maps to gRPC <c>FAILED_PRECONDITION</c>.
/// </summary>
public sealed class InfeasibleInputException(string field, string message)
    : DomainInputException(field, message);

/// <summary>
/// A request over a documented work limit (too many models, rows × parameters, bootstrap
/// draws), refused before the work starts. Maps to gRPC <c>RESOURCE_EXHAUSTED</c>; the
/// message names the limit.
/// </summary>
public sealed class WorkLimitException(string field, string message)
    : DomainInputException(field, message);
