using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian's) on a free loopback port, started and stopped by the
/// test. Missing redis-server skips the Redis tests, unless <c>REQUIRE_REDIS=1</c> (set by
/// .ci/run), which makes it a failure.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public static bool Required => Environment.GetEnvironmentVariable("REQUIRE_REDIS") == "1";

    public static string? Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/sbin")
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    /// <summary>Why the Redis tests skip (null when they run).</summary>
    public static string? SkipReason => Executable is null && !Required
        ? "redis-server is not installed (Debian package redis-server; .ci/run installs it and sets REQUIRE_REDIS=1)."
        : null;

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static async Task<RedisServer> StartAsync()
    {
        var exe = Executable ?? throw new InvalidOperationException("redis-server is required (REQUIRE_REDIS=1) but was not found; install Debian's redis-server.");
        int port = FreePort();
        var psi = new ProcessStartInfo(exe)
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        for (int i = 0; i < 100; i++)
        {
            try
            {
                if (await server.CommandAsync("PING") == "+PONG") return server;
            }
            catch (SocketException) { }
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server did not answer on port {port}.");
    }

    /// <summary>Sends one command in RESP and returns the first line of the reply.</summary>
    public async Task<string> CommandAsync(params string[] args)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var sb = new StringBuilder($"*{args.Length}\r\n");
        foreach (var a in args) sb.Append($"${Encoding.UTF8.GetByteCount(a)}\r\n{a}\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()));
        var buffer = new byte[4096];
        int n = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n).Split("\r\n")[0];
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A fact that needs redis-server: skipped when it is missing, unless REQUIRE_REDIS=1.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>Counts the calls a server handles.</summary>
public sealed class CallCounter
{
    private int _count, _retries, _models;
    public int Count => Volatile.Read(ref _count);

    /// <summary>Models received in FitBatch calls (the specification curve's fits).</summary>
    public int Models => Volatile.Read(ref _models);

    public void AddModels(int n) => Interlocked.Add(ref _models, n);

    /// <summary>Calls that were retries of an earlier attempt (the client sent grpc-previous-rpc-attempts).</summary>
    public int Retries => Volatile.Read(ref _retries);

    public void Add(bool retry)
    {
        Interlocked.Increment(ref _count);
        if (retry) Interlocked.Increment(ref _retries);
    }
}

/// <summary>Counts each call into the host's <see cref="CallCounter"/>.</summary>
public sealed class CountingInterceptor(CallCounter counter) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        counter.Add(context.RequestHeaders.Get("grpc-previous-rpc-attempts") is not null);
        if (request is Contracts.Regression.V1.FitBatchRequest batch) counter.AddModels(batch.Models.Count);
        return continuation(request, context);
    }
}

/// <summary>Hosts services for the tests, each on its own Kestrel on loopback.</summary>
public static class Hosts
{
    public static Task<RunningService> Start(ServiceModule module, CallCounter? counter = null, int port = 0)
        => ServiceHosting.StartAsync([module], new HostOptions(port, Quiet: true), b =>
        {
            if (counter is null) return;
            b.Services.AddSingleton(counter);
            b.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<CountingInterceptor>());
        });

    /// <summary>Waits until the server's health service answers SERVING (polling; a minute at most).</summary>
    public static async Task WaitUntilServingAsync(Uri address)
    {
        using var channel = GrpcChannels.Create(address);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        for (int i = 0; i < 600; i++)
        {
            try
            {
                var r = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (r.Status == Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving) return;
            }
            catch (RpcException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"{address} never answered SERVING.");
    }

    public static Task<RunningService> Study(StudyEndpoints endpoints, CacheSettings? cache = null)
        => ServiceHosting.StartAsync([StudyGrpcService.Module(endpoints, cache: cache)], new HostOptions(Quiet: true));

    /// <summary>Runs a study to its end and returns the report (and the progress events).</summary>
    public static Task<(StudyReport Report, List<StudyProgress> Progress)> RunAsync(RunningService study, RunStudyRequest request, Func<StudyProgress, Task>? onProgress = null)
        => RunAsync(study.Address, request, onProgress);

    /// <summary>Runs a study on the study server at <paramref name="address"/> to its end.</summary>
    public static async Task<(StudyReport Report, List<StudyProgress> Progress)> RunAsync(Uri address, RunStudyRequest request, Func<StudyProgress, Task>? onProgress = null)
    {
        using var channel = GrpcChannels.Create(address);
        using var call = new StudyService.StudyServiceClient(channel).RunStudy(request, deadline: DateTime.UtcNow.AddMinutes(5));
        var progress = new List<StudyProgress>();
        StudyReport? report = null;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var e = call.ResponseStream.Current;
            if (e.EventCase == RunStudyResponse.EventOneofCase.Progress)
            {
                progress.Add(e.Progress);
                if (onProgress is not null) await onProgress(e.Progress);
            }
            else report = e.Report;
        }
        Assert.NotNull(report);
        return (report!, progress);
    }
}

/// <summary>Indexing, projection and regression, each counting its calls.</summary>
public sealed class Backends : IAsyncLifetime
{
    public CallCounter IndexingCalls { get; } = new();
    public CallCounter ProjectionCalls { get; } = new();
    public CallCounter RegressionCalls { get; } = new();
    public RunningService Indexing { get; private set; } = null!;
    public RunningService Projection { get; private set; } = null!;
    public RunningService Regression { get; private set; } = null!;
    public StudyEndpoints Endpoints => new(Indexing.Address, Projection.Address, Regression.Address);

    public async Task InitializeAsync()
    {
        Indexing = await Hosts.Start(IndexingGrpcService.Module, IndexingCalls);
        Projection = await Hosts.Start(ProjectionGrpcService.Module, ProjectionCalls);
        Regression = await Hosts.Start(RegressionGrpcService.Module, RegressionCalls);
    }

    public async Task DisposeAsync()
    {
        await Indexing.DisposeAsync();
        await Projection.DisposeAsync();
        await Regression.DisposeAsync();
    }
}
