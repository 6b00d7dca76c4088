using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Study;

/// <summary>The fan-out's calls: each with its own deadline and the study's cancellation, and the preflight health checks.</summary>
public sealed partial class StudyFanOut
{
    /// <summary>
    /// One outbound call: its own deadline (never later than the study's) and the study's
    /// cancellation; a service that cannot be reached fails the study at once, named.
    /// </summary>
    private async Task<T> Call<T>(
        string service,
        string address,
        Func<CallOptions, Task<T>> call,
        DateTime? deadline,
        CancellationToken ct
    )
    {
        var own = DateTime.UtcNow + options.CallTimeout;
        var callOptions = new CallOptions(deadline: deadline is { } d && d < own ? d : own, cancellationToken: ct);
        try
        {
            return await call(callOptions);
        }
        catch (RpcException e)
            when (Unreachable.Is(e)
                || (e.Status.DebugException is not null && e.StatusCode is StatusCode.Internal or StatusCode.Unknown)
            )
        {
            // A failure on this side of the wire (no connection, no answer to a ping): a sentence naming the service, no .NET text.
            LogUnavailable(service, address);
            throw Unreachable.Named(e, service, address, "the study cannot run without it");
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            // The service refused the study's own token: a deployment fault, not the caller's credentials.
            throw new RpcException(
                new Status(
                    StatusCode.FailedPrecondition,
                    $"The {service} service at {address} refused the study server's token; give the study server the services' token (Auth:TokenFile)."
                )
            );
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new RpcException(
                new Status(
                    StatusCode.DeadlineExceeded,
                    $"The {service} service did not answer within the deadline; allow the study more time."
                )
            );
        }
    }

    /// <summary>
    /// Before any work, every service answers its health check within the preflight bound, so a
    /// service that is down, or a listener that accepts connections and never answers, fails the
    /// study in seconds with UNAVAILABLE naming it, instead of holding each call to its deadline.
    /// </summary>
    private async Task PreflightAsync(DateTime? deadline, CancellationToken ct)
    {
        var checks = clients
            .Health.Select(async h =>
            {
                var own = DateTime.UtcNow + options.Preflight;
                bool studyDeadline = deadline is { } d && d < own;
                try
                {
                    var reply = await h.Client.CheckAsync(
                        new HealthCheckRequest(),
                        deadline: studyDeadline ? deadline : own,
                        cancellationToken: ct
                    );
                    if (reply.Status != HealthCheckResponse.Types.ServingStatus.Serving)
                        throw new RpcException(
                            new Status(
                                StatusCode.Unavailable,
                                $"The {h.Service} service at {h.Address} is not serving ({reply.Status}); the study cannot run without it."
                            )
                        );
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
                {
                    // A server without the health service: nothing to check here; its calls are bounded by their deadlines.
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && !studyDeadline)
                {
                    LogUnavailable(h.Service, h.Address);
                    throw new RpcException(
                        new Status(
                            StatusCode.Unavailable,
                            $"The {h.Service} service at {h.Address} did not answer its health check within {options.Preflight.TotalSeconds:0.#} s; the study cannot run without it."
                        )
                    );
                }
                catch (RpcException e)
                    when (e.Status.DebugException is not null
                        && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown
                    )
                {
                    LogUnavailable(h.Service, h.Address);
                    throw Unreachable.Named(
                        new RpcException(new Status(StatusCode.Unavailable, e.Status.Detail, e.Status.DebugException)),
                        h.Service,
                        h.Address,
                        "the study cannot run without it"
                    );
                }
            })
            .ToList();
        try
        {
            await Task.WhenAll(checks);
        }
        catch
        {
            // The first service found down, in the order indexing, projection, regression.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(
                checks.First(t => t.IsFaulted).Exception!.InnerException!
            );
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Table} {Label} was not fitted: {Code}")]
    private partial void LogModelFailed(string table, string label, StatusCode code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Service} service at {Address} is unavailable")]
    private partial void LogUnavailable(string service, string address);
}
