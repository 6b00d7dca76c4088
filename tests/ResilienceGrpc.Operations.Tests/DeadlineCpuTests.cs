using Grpc.Core;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// Work stops at the deadline. Each test runs a service as its own process with its budget
/// raised far enough to accept a request of about 20 s of CPU, sends it with a short deadline,
/// and reads the process's CPU time: it must have been working up to the deadline, and the CPU
/// it uses after the deadline, until its CPU time stops advancing, must stay under one second
/// (a request that ignored the deadline would use many). Only CPU time is asserted; the
/// sampling loop's bound is a hang guard.
/// </summary>
public class DeadlineCpuTests
{
    private static readonly TimeSpan MaxAfterDeadline = TimeSpan.FromSeconds(1);

    private static async Task AssertWorkStopsAtTheDeadline(ChildProcess server, Func<DateTime, Task> call)
    {
        var before = server.CpuTime;
        var e = await Assert.ThrowsAsync<RpcException>(() => call(DateTime.UtcNow.AddSeconds(3)));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        var atDeadline = server.CpuTime;
        Assert.True(
            atDeadline - before > TimeSpan.FromSeconds(0.5),
            $"the request should have been working until its deadline; it used {(atDeadline - before).TotalSeconds:0.00} s of CPU"
        );

        // Sample until two readings in a row agree to within a scheduler tick (the process idles),
        // or the CPU after the deadline passes the bound (it does not stop).
        var last = atDeadline;
        bool idle = false;
        for (int i = 0; i < 400 && !idle && last - atDeadline <= MaxAfterDeadline; i++)
        {
            await Task.Delay(100);
            var now = server.CpuTime;
            idle = now - last < TimeSpan.FromMilliseconds(20);
            last = now;
        }
        Assert.True(
            idle && last - atDeadline <= MaxAfterDeadline,
            $"the service used {(last - atDeadline).TotalSeconds:0.00} s of CPU after the deadline (the bound is {MaxAfterDeadline.TotalSeconds} s)"
        );
    }

    [Fact]
    public async Task AWideFitStopsUsingTheCpuAtItsDeadline()
    {
        await using var server = await ChildProcess.ServeAsync(
            new Dictionary<string, string>
            {
                ["Limits__Regression__MaxParameters"] = "100000",
                ["Limits__Regression__MaxDesignValues"] = "1000000000",
                ["Limits__Regression__MaxFitWork"] = "1000000000000000",
            },
            "regression"
        );
        using var channel = GrpcChannels.Create(server.Address);
        var client = new RegressionService.RegressionServiceClient(channel);

        // 4,400 rows, 66 columns and every product of two: 2,212 parameters in one row block of the
        // QR, about 4e10 flops, so only a check inside the block can stop it in time.
        var rng = new Random(11);
        var request = new FitRequest { Dependent = "y", CovarianceType = CovarianceType.Hc1 };
        request.Columns.Add(
            new Column { Name = "y", Values = { Enumerable.Range(0, 4400).Select(_ => rng.NextDouble()) } }
        );
        for (int c = 0; c < 66; c++)
        {
            request.Columns.Add(
                new Column { Name = $"c{c}", Values = { Enumerable.Range(0, 4400).Select(_ => rng.NextDouble()) } }
            );
            request.Regressors.Add($"c{c}");
            for (int d = 0; d < c; d++)
                request.Regressors.Add($"c{d}*c{c}");
        }

        await AssertWorkStopsAtTheDeadline(
            server,
            deadline => client.FitAsync(request, deadline: deadline).ResponseAsync
        );
    }

    [Fact]
    public async Task CriticWeightingStopsUsingTheCpuAtItsDeadline()
    {
        await using var server = await ChildProcess.ServeAsync(
            new Dictionary<string, string> { ["Limits__Indexing__MaxIndicators"] = "100000" },
            "indexing"
        );
        using var channel = GrpcChannels.Create(server.Address);
        var client = new IndexingService.IndexingServiceClient(channel);

        // 3,000 indicators of 150 units: CRITIC correlates 9 million pairs.
        var rng = new Random(12);
        var request = new ComputeIndexRequest { Method = WeightingMethod.Critic };
        request.UnitIds.AddRange(Enumerable.Range(0, 150).Select(i => $"u{i}"));
        for (int j = 0; j < 3000; j++)
            request.Indicators.Add(
                new Indicator
                {
                    Id = $"i{j}",
                    Dimension = "d",
                    Direction = Direction.Positive,
                    Values = { Enumerable.Range(0, 150).Select(_ => rng.NextDouble()) },
                }
            );

        await AssertWorkStopsAtTheDeadline(
            server,
            deadline => client.ComputeIndexAsync(request, deadline: deadline).ResponseAsync
        );
    }
}
