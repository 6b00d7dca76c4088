using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The three services, each on its own real Kestrel server on a free loopback port,
/// reached over HTTP/2 (h2c) by ordinary gRPC channels. Shared by the tests of a class.
/// </summary>
public sealed class Services : IAsyncLifetime
{
    public RunningService Indexing { get; private set; } = null!;
    public RunningService Projection { get; private set; } = null!;
    public RunningService Regression { get; private set; } = null!;
    public GrpcChannel IndexingChannel { get; private set; } = null!;
    public GrpcChannel ProjectionChannel { get; private set; } = null!;
    public GrpcChannel RegressionChannel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Indexing = await ServiceHosting.StartAsync([IndexingGrpcService.Module], new HostOptions(Quiet: true));
        Projection = await ServiceHosting.StartAsync([ProjectionGrpcService.Module], new HostOptions(Quiet: true));
        Regression = await ServiceHosting.StartAsync([RegressionGrpcService.Module], new HostOptions(Quiet: true));
        IndexingChannel = GrpcChannels.Create(Indexing.Address);
        ProjectionChannel = GrpcChannels.Create(Projection.Address);
        RegressionChannel = GrpcChannels.Create(Regression.Address);
    }

    public async Task DisposeAsync()
    {
        IndexingChannel.Dispose();
        ProjectionChannel.Dispose();
        RegressionChannel.Dispose();
        await Indexing.DisposeAsync();
        await Projection.DisposeAsync();
        await Regression.DisposeAsync();
    }
}

/// <summary>Assertions on rich error statuses.</summary>
public static class Rejection
{
    /// <summary>Runs the call, asserts the status code and a field violation on <paramref name="field"/>, and returns the message.</summary>
    public static async Task<string> Expect(StatusCode code, string field, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.NotEqual(StatusCode.Unknown, e.StatusCode);
        Assert.True(code == e.StatusCode, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        var status = e.GetRpcStatus();
        Assert.NotNull(status);
        var bad = status!.GetDetail<BadRequest>();
        Assert.NotNull(bad);
        Assert.Contains(bad!.FieldViolations, v => v.Field == field);
        Assert.DoesNotContain("   at ", e.Status.Detail);
        Assert.EndsWith(".", e.Status.Detail.TrimEnd());
        return e.Status.Detail;
    }
}
