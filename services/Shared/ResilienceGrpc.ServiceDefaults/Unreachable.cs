using Grpc.Core;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// The one way a failed connection to a service becomes a sentence that names it. A status
/// the far side sent (it has no local <see cref="Status.DebugException"/>) passes through
/// unchanged, so an orchestrator that reports one of its own services down is not mistaken
/// for being down itself.
/// </summary>
public static class Unreachable
{
    /// <summary>Whether the call failed because this client could not reach the server.</summary>
    public static bool Is(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is not null;

    /// <summary><c>UNAVAILABLE</c>: "The {service} service at {address} is unavailable ({why}); {advice}."</summary>
    public static RpcException Named(RpcException e, string service, string address, string advice)
    {
        string why =
            e.Status.DebugException?.InnerException?.Message ?? e.Status.DebugException?.Message ?? e.Status.Detail;
        return new RpcException(
            new Status(
                StatusCode.Unavailable,
                $"The {service} service at {address} is unavailable ({why.TrimEnd('.')}); {advice}."
            )
        );
    }
}
