using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;
using Xunit;
using Xunit.Abstractions;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The memory of a streamed fit, read from a served regression process's /proc status: the peak
/// stays within three times the numeric payload above the process's baseline, and the memory
/// goes back to the system once the call is over.
/// </summary>
public class StreamMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AStreamedFitPeaksWithinThreeCopiesOfItsDataAndGivesTheMemoryBack()
    {
        await using var server = await ChildProcess.ServeAsync(new Dictionary<string, string>(), "regression");
        using var channel = GrpcChannels.Create(server.Address);
        var client = new RegressionService.RegressionServiceClient(channel);
        var rng = new Random(1);

        // Warm the process with a small fit, so the baseline includes the code paths.
        var small = new FitRequest
        {
            Dependent = "y",
            Regressors = { "x0" },
            CovarianceType = CovarianceType.Hc1,
        };
        small.Columns.Add(
            new Column { Name = "y", Values = { Enumerable.Range(0, 50).Select(_ => rng.NextDouble()) } }
        );
        small.Columns.Add(
            new Column { Name = "x0", Values = { Enumerable.Range(0, 50).Select(_ => rng.NextDouble()) } }
        );
        await client.FitAsync(small);
        long baseline = server.Memory("VmRSS");

        // 2,000,000 rows × (y and 5 regressors): 96 MB of doubles, streamed in chunks.
        int rows = 2_000_000,
            regressors = 5;
        var request = new FitRequest { Dependent = "y", CovarianceType = CovarianceType.Hc1 };
        var y = new double[rows];
        for (int j = 0; j < regressors; j++)
        {
            var x = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                x[i] = rng.NextDouble();
                y[i] += x[i] / (j + 1);
            }
            request.Columns.Add(new Column { Name = $"x{j}", Values = { x } });
            request.Regressors.Add($"x{j}");
        }
        for (int i = 0; i < rows; i++)
            y[i] += rng.NextDouble();
        request.Columns.Insert(0, new Column { Name = "y", Values = { y } });
        long payload = (long)rows * (regressors + 1) * sizeof(double);

        var fit = await Cli.Verbs.Stream(client, request, null, DateTime.UtcNow.AddMinutes(2), CancellationToken.None);
        Assert.Equal(rows, fit.Model.NObs);
        long peak = server.Memory("VmHWM");

        // The memory is given back just after the call; poll (a hang guard, not a timing).
        long after = server.Memory("VmRSS");
        for (int t = 0; t < 80 && after - baseline > payload / 2; t++)
        {
            await Task.Delay(250);
            after = server.Memory("VmRSS");
        }
        output.WriteLine(
            $"payload {payload / 1e6:0} MB; baseline {baseline / 1e6:0} MB; peak {peak / 1e6:0} MB ({(peak - baseline) / (double)payload:0.00}× payload above baseline); after {after / 1e6:0} MB"
        );
        Assert.True(peak - baseline <= 3 * payload, $"peak {(peak - baseline) / (double)payload:0.00}× the payload");
        Assert.True(after - baseline <= payload / 2, $"{(after - baseline) / 1e6:0} MB still held after the call");
    }
}
