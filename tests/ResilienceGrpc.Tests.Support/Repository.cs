using Grpc.Core;

namespace ResilienceGrpc.Tests.Support;

/// <summary>The repository the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding ResilienceGrpc.sln, above the test's build folder.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ResilienceGrpc.sln")))
                return d.FullName;
        throw new InvalidOperationException("The repository root (ResilienceGrpc.sln) was not found above the test's folder.");
    }
}

/// <summary>What a hostile client may get back: the clear refusals, never UNKNOWN, INTERNAL or a stack trace.</summary>
public static class ClearStatus
{
    public static readonly StatusCode[] Refusals =
    [
        StatusCode.InvalidArgument,
        StatusCode.FailedPrecondition,
        StatusCode.ResourceExhausted,
    ];

    /// <summary>A clear refusal: one of <see cref="Refusals"/>, with no .NET stack text.</summary>
    public static bool Is(RpcException e) =>
        Refusals.Contains(e.StatusCode) && !e.Status.Detail.Contains("   at ", StringComparison.Ordinal);
}
