using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using Xunit;

namespace ResilienceGrpc.Tests.Support;

/// <summary>Counts the calls a server handles.</summary>
public sealed class CallCounter
{
    private int _count,
        _retries,
        _models;
    public int Count => Volatile.Read(ref _count);

    /// <summary>Models received in FitBatch calls (the specification curve's fits).</summary>
    public int Models => Volatile.Read(ref _models);

    public void AddModels(int n) => Interlocked.Add(ref _models, n);

    /// <summary>Calls that were retries of an earlier attempt (the client sent grpc-previous-rpc-attempts).</summary>
    public int Retries => Volatile.Read(ref _retries);

    public void Add(bool retry)
    {
        Interlocked.Increment(ref _count);
        if (retry)
            Interlocked.Increment(ref _retries);
    }
}

/// <summary>Counts each call of the service's API (not health checks) into the host's <see cref="CallCounter"/>.</summary>
public sealed class CountingInterceptor(CallCounter counter) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation
    )
    {
        // The work only: the study's preflight health checks are not calls of the service's API.
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
            return continuation(request, context);
        counter.Add(context.RequestHeaders.Get("grpc-previous-rpc-attempts") is not null);
        if (request is Contracts.Regression.V1.FitBatchRequest batch)
            counter.AddModels(batch.Models.Count);
        return continuation(request, context);
    }
}

/// <summary>Hosts services for the tests, each on its own Kestrel on loopback.</summary>
public static class Hosts
{
    public static Task<RunningService> Start(
        ServiceModule module,
        CallCounter? counter = null,
        int port = 0,
        IReadOnlyDictionary<string, string?>? settings = null,
        int? httpPort = null
    ) =>
        ServiceHosting.StartAsync(
            [module],
            new HostOptions(port, Quiet: true, Settings: settings, HttpPort: httpPort),
            b =>
            {
                if (counter is null)
                    return;
                b.Services.AddSingleton(counter);
                b.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<CountingInterceptor>());
            }
        );

    /// <summary>Waits until the server's health service answers SERVING (polling; a minute at most).</summary>
    public static async Task WaitUntilServingAsync(Uri address)
    {
        using var channel = GrpcChannels.Create(address);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        for (int i = 0; i < 600; i++)
        {
            try
            {
                var r = await health.CheckAsync(
                    new Grpc.Health.V1.HealthCheckRequest(),
                    deadline: DateTime.UtcNow.AddSeconds(2)
                );
                if (r.Status == Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving)
                    return;
            }
            catch (RpcException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"{address} never answered SERVING.");
    }

    public static Task<RunningService> Study(StudyEndpoints endpoints, CacheSettings? cache = null) =>
        ServiceHosting.StartAsync([StudyGrpcService.Module(endpoints, cache: cache)], new HostOptions(Quiet: true));

    /// <summary>Runs a study to its end and returns the report (and the progress events).</summary>
    public static Task<(StudyReport Report, List<StudyProgress> Progress)> RunAsync(
        RunningService study,
        RunStudyRequest request,
        Func<StudyProgress, Task>? onProgress = null
    ) => RunAsync(study.Address, request, onProgress);

    /// <summary>Runs a study on the study server at <paramref name="address"/> to its end.</summary>
    public static async Task<(StudyReport Report, List<StudyProgress> Progress)> RunAsync(
        Uri address,
        RunStudyRequest request,
        Func<StudyProgress, Task>? onProgress = null
    )
    {
        using var channel = GrpcChannels.Create(address);
        return await StudyStream.RunAsync(channel, request, onProgress);
    }
}

/// <summary>
/// The one fixture that starts the three services, each on its own real Kestrel on a loopback
/// port, counting its calls, with a channel to each: what every test project shares.
/// </summary>
public class ServiceStack : IAsyncLifetime
{
    public CallCounter IndexingCalls { get; } = new();
    public CallCounter ProjectionCalls { get; } = new();
    public CallCounter RegressionCalls { get; } = new();
    public RunningService Indexing { get; private set; } = null!;
    public RunningService Projection { get; private set; } = null!;
    public RunningService Regression { get; private set; } = null!;
    public GrpcChannel IndexingChannel { get; private set; } = null!;
    public GrpcChannel ProjectionChannel { get; private set; } = null!;
    public GrpcChannel RegressionChannel { get; private set; } = null!;
    public StudyEndpoints Endpoints => new(Indexing.Address, Projection.Address, Regression.Address);

    public virtual async Task InitializeAsync()
    {
        Indexing = await Hosts.Start(IndexingGrpcService.Module, IndexingCalls);
        Projection = await Hosts.Start(ProjectionGrpcService.Module, ProjectionCalls);
        Regression = await Hosts.Start(RegressionGrpcService.Module, RegressionCalls);
        IndexingChannel = GrpcChannels.Create(Indexing.Address);
        ProjectionChannel = GrpcChannels.Create(Projection.Address);
        RegressionChannel = GrpcChannels.Create(Regression.Address);
    }

    public virtual async Task DisposeAsync()
    {
        IndexingChannel.Dispose();
        ProjectionChannel.Dispose();
        RegressionChannel.Dispose();
        await Indexing.DisposeAsync();
        await Projection.DisposeAsync();
        await Regression.DisposeAsync();
    }
}

/// <summary>The three services and a study server over them: the whole system as separate servers.</summary>
public sealed class StudyStack : ServiceStack
{
    public RunningService Study { get; private set; } = null!;
    public GrpcChannel StudyChannel { get; private set; } = null!;
    public StudyService.StudyServiceClient Client => new(StudyChannel);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Study = await Hosts.Study(Endpoints);
        StudyChannel = GrpcChannels.Create(Study.Address);
    }

    /// <summary>Runs a study and returns its progress events and report.</summary>
    public async Task<(List<StudyProgress> Progress, StudyReport Report)> RunAsync(RunStudyRequest request)
    {
        var (report, progress) = await StudyStream.RunAsync(StudyChannel, request);
        return (progress, report);
    }

    public override async Task DisposeAsync()
    {
        StudyChannel.Dispose();
        await Study.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>The one loop that drains a study's stream: progress events, then exactly one report, last.</summary>
public static class StudyStream
{
    public static async Task<(StudyReport Report, List<StudyProgress> Progress)> RunAsync(
        GrpcChannel channel,
        RunStudyRequest request,
        Func<StudyProgress, Task>? onProgress = null,
        TimeSpan? timeout = null
    )
    {
        using var call = new StudyService.StudyServiceClient(channel).RunStudy(
            request,
            deadline: DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(5))
        );
        var progress = new List<StudyProgress>();
        StudyReport? report = null;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var e = call.ResponseStream.Current;
            Assert.Null(report); // the report is the last event
            if (e.EventCase == RunStudyResponse.EventOneofCase.Progress)
            {
                progress.Add(e.Progress);
                if (onProgress is not null)
                    await onProgress(e.Progress);
            }
            else
                report = e.Report;
        }
        Assert.NotNull(report);
        return (report!, progress);
    }
}
