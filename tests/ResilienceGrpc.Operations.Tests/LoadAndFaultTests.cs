using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The bounded load and fault suite, on loopback: small fits, large streamed fits and whole
/// studies run side by side against two regression replicas (separate processes) and Redis,
/// while Redis is killed and restarted, one replica is killed, and a second study server
/// points at a black hole. Not one call of the load may fail, the black-hole study fails at
/// once naming the service, and the surviving replica's memory goes back near its baseline.
/// Progress is measured in calls made, not in time.
/// </summary>
public class LoadAndFaultTests(ServiceStack backends, ITestOutputHelper output) : IClassFixture<ServiceStack>
{
    private static FitRequest Fit(int rows, int regressors, int seed)
    {
        var rng = new Random(seed);
        var request = new FitRequest { Dependent = "y", CovarianceType = CovarianceType.Hc1 };
        var y = new double[rows];
        for (int j = 0; j < regressors; j++)
        {
            var x = new double[rows];
            for (int i = 0; i < rows; i++)
            {
                x[i] = rng.NextDouble();
                y[i] += x[i] * (j + 1) + rng.NextDouble();
            }
            request.Columns.Add(new Column { Name = $"x{j}", Values = { x } });
            request.Regressors.Add($"x{j}");
        }
        request.Columns.Insert(0, new Column { Name = "y", Values = { y } });
        return request;
    }

    private static RunStudyRequest Quick(double shift) =>
        new()
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new BootstrapOptions { Replications = 0 },
                Shift = shift,
                Multiverse = new MultiverseSpec { Disabled = true },
            },
        };

    /// <summary>Waits until the condition holds; the bound is a guard against a hang, not a timing.</summary>
    private static async Task Until(Func<bool> condition, string what)
    {
        for (int i = 0; i < 1200 && !condition(); i++)
            await Task.Delay(50);
        Assert.True(condition(), $"the load never got to: {what}");
    }

    [RedisFact]
    public async Task UnderLoadRedisAReplicaAndABlackHoleFailNoCallAndTheMemoryComesBack()
    {
        await using var a = await ChildProcess.ServeAsync(new Dictionary<string, string>(), "regression");
        var b = await ChildProcess.ServeAsync(new Dictionary<string, string>(), "regression");
        var redis = await RedisServer.StartAsync();
        int redisPort = redis.Port;
        string replicas = $"{a.Address},{b.Address}";
        await using var study = await Hosts.Study(
            new StudyEndpoints(backends.Indexing.Address.ToString(), backends.Projection.Address.ToString(), replicas),
            new CacheSettings(redis.Address, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2))
        );
        using var channel = GrpcChannels.Create(replicas);
        var client = new RegressionService.RegressionServiceClient(channel);
        var small = Fit(38, 3, 1);
        var large = Fit(1_000_000, 4, 2); // 40 MB: streamed in chunks

        await client.FitAsync(small);
        long baseline = a.Memory("VmRSS");

        var failures = new ConcurrentQueue<string>();
        int smallFits = 0,
            largeFits = 0,
            studies = 0;
        long shift = 0;
        using var stop = new CancellationTokenSource();
        Task Loop(Func<Task> call, Action done) =>
            Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await call();
                        done();
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"{e.GetType().Name}: {e.Message}");
                    }
                }
            });
        DateTime Guard() => DateTime.UtcNow.AddMinutes(2);
        var load = new List<Task>();
        for (int i = 0; i < 3; i++)
            load.Add(
                Loop(
                    () => client.FitAsync(small, deadline: Guard()).ResponseAsync,
                    () => Interlocked.Increment(ref smallFits)
                )
            );
        load.Add(
            Loop(
                () => Cli.Verbs.Stream(client, large, null, Guard(), CancellationToken.None),
                () => Interlocked.Increment(ref largeFits)
            )
        );
        load.Add(
            Loop(
                () => Hosts.RunAsync(study, Quick(0.01 + Interlocked.Increment(ref shift) * 1e-4)),
                () => Interlocked.Increment(ref studies)
            )
        );

        // Redis killed under load, and back on its port.
        await Until(() => studies >= 2 && largeFits >= 1, "two studies and a large fit");
        redis.Kill();
        int atKill = studies;
        await Until(() => studies >= atKill + 2, "two studies without Redis");
        await using var back = await RedisServer.StartAsync(redisPort);
        int atBack = studies;
        await Until(() => studies >= atBack + 2, "two studies after Redis came back");

        // A replica killed (SIGKILL) mid-load: its calls are retried on the other.
        int smallAtKill = smallFits,
            largeAtKill = largeFits;
        await b.DisposeAsync();
        await Until(
            () => smallFits >= smallAtKill + 100 && largeFits >= largeAtKill + 2 && studies >= atBack + 4,
            "a hundred small fits, two large ones and two studies on one replica"
        );

        // A study server whose indexing address is a black hole fails at once, naming it,
        // while the load goes on.
        using var hole = new TcpListener(IPAddress.Loopback, 0);
        hole.Start();
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                    held.Add(await hole.AcceptSocketAsync(stop.Token));
            }
            catch (OperationCanceledException) { }
        });
        await using var blind = await Hosts.Study(
            new StudyEndpoints(
                $"http://127.0.0.1:{((IPEndPoint)hole.LocalEndpoint).Port}",
                backends.Projection.Address.ToString(),
                a.Address.ToString()
            )
        );
        var e = await Assert.ThrowsAsync<RpcException>(() => Hosts.RunAsync(blind, Quick(0.02)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("indexing", e.Status.Detail);

        stop.Cancel();
        await Task.WhenAll(load);
        await accepting;
        foreach (var s in held)
            s.Dispose();
        output.WriteLine(
            $"{smallFits} small fits, {largeFits} large streamed fits, {studies} studies, {failures.Count} failures"
        );
        Assert.Empty(failures);

        // The surviving replica gives back the memory of the large fits (poll: a hang guard).
        long after = a.Memory("VmRSS");
        for (int i = 0; i < 80 && after > baseline + (64L << 20); i++)
        {
            await Task.Delay(250);
            after = a.Memory("VmRSS");
        }
        output.WriteLine($"replica memory: baseline {baseline >> 20} MiB, after {after >> 20} MiB");
        Assert.True(
            after <= baseline + (64L << 20),
            $"the replica holds {(after - baseline) >> 20} MiB above its baseline"
        );
        await redis.DisposeAsync();
    }
}
