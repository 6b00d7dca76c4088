using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// The one place exceptions become statuses. Rejected input becomes
/// <c>INVALID_ARGUMENT</c> (malformed) or <c>FAILED_PRECONDITION</c> (impossible), both
/// with <c>google.rpc.BadRequest</c> field violations; cancellation becomes
/// <c>CANCELLED</c> or <c>DEADLINE_EXCEEDED</c>; anything else becomes <c>INTERNAL</c>
/// with an incident id and no internals. Statuses thrown by a service pass through.
/// </summary>
public sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation
    )
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Translate(e, context);
        }
    }

    private RpcException Translate(Exception e, ServerCallContext context)
    {
        switch (e)
        {
            case InvalidInputException invalid:
                LogRejected(context.Method, "INVALID_ARGUMENT", invalid.Field);
                return Statuses.InvalidArgument(invalid.Message, (invalid.Field, invalid.Message));
            case InfeasibleInputException infeasible:
                LogRejected(context.Method, "FAILED_PRECONDITION", infeasible.Field);
                return Statuses.FailedPrecondition(infeasible.Message, infeasible.Field);
            case WorkLimitException limit:
                LogRejected(context.Method, "RESOURCE_EXHAUSTED", limit.Field);
                return Statuses.ResourceExhausted(limit.Message, limit.Field);
            case OperationCanceledException when context.Deadline <= DateTime.UtcNow:
                return new RpcException(
                    new Grpc.Core.Status(
                        StatusCode.DeadlineExceeded,
                        "The call's deadline passed before the computation finished; allow more time or send less work."
                    )
                );
            case OperationCanceledException:
                return new RpcException(
                    new Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled by the client.")
                );
            default:
                var incident = Guid.NewGuid().ToString("N")[..12];
                LogUnexpected(e, context.Method, incident);
                return new RpcException(
                    new Grpc.Core.Status(
                        StatusCode.Internal,
                        $"The service failed unexpectedly (incident {incident}); the request was not processed. Report the incident id to the operators."
                    )
                );
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} with {Code} at {Field}")]
    private partial void LogRejected(string method, string code, string field);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method}, incident {Incident}")]
    private partial void LogUnexpected(Exception exception, string method, string incident);
}

/// <summary>Builders for the rich statuses (<c>google.rpc.Status</c> with details) services return.</summary>
public static class Statuses
{
    /// <summary><c>INVALID_ARGUMENT</c> with one field violation per (field, description).</summary>
    public static RpcException InvalidArgument(string message, params (string Field, string Description)[] violations) =>
        InvalidArgumentStatus(message, violations).ToRpcException();

    /// <summary>The <c>google.rpc.Status</c> of <see cref="InvalidArgument"/> (for an answer written outside gRPC).</summary>
    public static Google.Rpc.Status InvalidArgumentStatus(
        string message,
        params (string Field, string Description)[] violations
    )
    {
        var bad = new BadRequest();
        foreach (var (field, description) in violations)
            bad.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        return new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Any.Pack(bad) },
        };
    }

    /// <summary><c>RESOURCE_EXHAUSTED</c> with a quota failure and the field whose size is over the limit.</summary>
    public static RpcException ResourceExhausted(string message, string field) =>
        ResourceExhaustedStatus(message, field).ToRpcException();

    /// <summary>The <c>google.rpc.Status</c> of <see cref="ResourceExhausted"/> (for an answer written outside gRPC).</summary>
    public static Google.Rpc.Status ResourceExhaustedStatus(string message, string field)
    {
        var quota = new QuotaFailure
        {
            Violations =
            {
                new QuotaFailure.Types.Violation { Subject = field, Description = message },
            },
        };
        var bad = new BadRequest
        {
            FieldViolations =
            {
                new BadRequest.Types.FieldViolation { Field = field, Description = message },
            },
        };
        return new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = message,
            Details = { Any.Pack(quota), Any.Pack(bad) },
        };
    }

    /// <summary><c>FAILED_PRECONDITION</c> with a precondition failure and the field at fault.</summary>
    public static RpcException FailedPrecondition(string message, string field)
    {
        var failure = new PreconditionFailure
        {
            Violations =
            {
                new PreconditionFailure.Types.Violation
                {
                    Type = "INPUT",
                    Subject = field,
                    Description = message,
                },
            },
        };
        var bad = new BadRequest
        {
            FieldViolations =
            {
                new BadRequest.Types.FieldViolation { Field = field, Description = message },
            },
        };
        return new Google.Rpc.Status
        {
            Code = (int)Code.FailedPrecondition,
            Message = message,
            Details = { Any.Pack(failure), Any.Pack(bad) },
        }.ToRpcException();
    }
}
