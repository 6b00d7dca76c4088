using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>The shared interceptor turns an unexpected exception into INTERNAL without leaking its text.</summary>
public class InternalErrorTests
{
    /// <summary>A service that fails the way a bug would.</summary>
    public sealed class BrokenIndexing : IndexingService.IndexingServiceBase
    {
        public override Task<ComputeIndexResponse> ComputeIndex(
            ComputeIndexRequest request,
            ServerCallContext context
        ) => throw new InvalidOperationException("secret connection string Server=db;Password=hunter2");
    }

    [Fact]
    public async Task AnUnexpectedExceptionBecomesInternalWithAnIncidentIdAndNoInternals()
    {
        var module = new ServiceModule(
            "indexing",
            IndexingService.Descriptor.FullName,
            _ => { },
            app => app.MapGrpcService<BrokenIndexing>()
        );
        await using var host = await ServiceHosting.StartAsync([module], new HostOptions(Quiet: true));
        using var channel = GrpcChannels.Create(host.Address);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            new IndexingService.IndexingServiceClient(channel)
                .ComputeIndexAsync(new ComputeIndexRequest())
                .ResponseAsync
        );
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("incident", e.Status.Detail);
        Assert.DoesNotContain("hunter2", e.Status.Detail);
        Assert.DoesNotContain("InvalidOperationException", e.Status.Detail);
    }
}
