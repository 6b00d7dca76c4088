using Grpc.Net.Client;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// The whole system as separate servers: indexing, projection, regression and the
/// orchestrator, each on its own Kestrel on a loopback port, talking gRPC over HTTP/2.
/// </summary>
public sealed class StudyStack : IAsyncLifetime
{
    public RunningService Indexing { get; private set; } = null!;
    public RunningService Projection { get; private set; } = null!;
    public RunningService Regression { get; private set; } = null!;
    public RunningService Study { get; private set; } = null!;
    public GrpcChannel StudyChannel { get; private set; } = null!;
    public StudyService.StudyServiceClient Client => new(StudyChannel);

    public async Task InitializeAsync()
    {
        Indexing = await ServiceHosting.StartAsync([IndexingGrpcService.Module], new HostOptions(Quiet: true));
        Projection = await ServiceHosting.StartAsync([ProjectionGrpcService.Module], new HostOptions(Quiet: true));
        Regression = await ServiceHosting.StartAsync([RegressionGrpcService.Module], new HostOptions(Quiet: true));
        Study = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(new StudyEndpoints(Indexing.Address, Projection.Address, Regression.Address))], new HostOptions(Quiet: true));
        StudyChannel = GrpcChannels.Create(Study.Address);
    }

    /// <summary>Runs a study and returns its progress events and report.</summary>
    public async Task<(List<StudyProgress> Progress, StudyReport Report)> RunAsync(RunStudyRequest request)
    {
        var progress = new List<StudyProgress>();
        StudyReport? report = null;
        using var call = Client.RunStudy(request, deadline: DateTime.UtcNow.AddMinutes(5));
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var e = call.ResponseStream.Current;
            Assert.Null(report); // the report is the last event
            if (e.EventCase == RunStudyResponse.EventOneofCase.Progress) progress.Add(e.Progress);
            else report = e.Report;
        }
        Assert.NotNull(report);
        return (progress, report!);
    }

    public async Task DisposeAsync()
    {
        StudyChannel.Dispose();
        await Study.DisposeAsync();
        await Regression.DisposeAsync();
        await Projection.DisposeAsync();
        await Indexing.DisposeAsync();
    }
}
