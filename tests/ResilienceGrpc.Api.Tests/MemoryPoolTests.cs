using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The services' Kestrel reads sockets into 64 KiB blocks (<see cref="LargeBlockMemoryPool"/>)
/// rather than its own 4 KiB ones. The pool hands out blocks at least as large as asked,
/// reuses a returned block, gives a larger request an array of its own, and survives a
/// double return; a served connection really uses it.
/// </summary>
public class MemoryPoolTests
{
    [Fact]
    public void BlocksAreLargeReusedAndSafeToReturnTwice()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        var first = pool.Rent(100);
        Assert.Equal(pool.MaxBufferSize, first.Memory.Length);
        var block = first.Memory;
        block.Span.Fill(7);
        first.Dispose();
        first.Dispose(); // a second return must not put the block in the pool twice
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
        using var again = pool.Rent();
        Assert.True(again.Memory.Span.Overlaps(block.Span)); // the returned block, reused
        using var other = pool.Rent(4096);
        Assert.False(other.Memory.Span.Overlaps(block.Span)); // not handed out twice
        using var large = pool.Rent(pool.MaxBufferSize + 1);
        Assert.True(large.Memory.Length > pool.MaxBufferSize);
    }

    [Fact]
    public async Task AServedConnectionReadsIntoTheLargeBlocks()
    {
        var module = new ServiceModule(
            "probe",
            "probe.v1.Probe",
            _ => { },
            app =>
                app.MapGet(
                    "/pool",
                    (HttpContext context) =>
                        context.Features.Get<IMemoryPoolFeature>()?.MemoryPool.MaxBufferSize ?? -1
                )
        );
        await using var host = await ServiceHosting.StartAsync([module], new HostOptions(Quiet: true));
        Assert.IsType<LargeBlockMemoryPoolFactory>(
            host.Services.GetService(typeof(IMemoryPoolFactory<byte>))
        );
        using var http = new HttpClient
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var size = await http.GetStringAsync(new Uri(host.Address, "/pool"));
        Assert.Equal((64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), size);
    }
}
