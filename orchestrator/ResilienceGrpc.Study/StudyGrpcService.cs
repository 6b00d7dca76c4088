using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Study.Data;

namespace ResilienceGrpc.Study;

/// <summary><c>resilience.study.v1.StudyService</c>: resolves the data, runs the study, streams progress and then the report.</summary>
public sealed class StudyGrpcService(StudyRunner runner, StudyLimits limits) : StudyService.StudyServiceBase
{
    /// <summary>The module hosting the orchestrator against the given services.</summary>
    public static ServiceModule Module(
        StudyEndpoints endpoints,
        StudyRunnerOptions? options = null,
        CacheSettings? cache = null
    ) =>
        new(
            "study",
            StudyService.Descriptor.FullName,
            b =>
            {
                // The study forwards its own token (Auth:TokenFile) to the services, and trusts Tls:CaFile.
                StudyClients.Register(b.Services, endpoints, ChannelSecurity.From(b.Configuration));
                b.Services.AddSingleton(ServiceLimits.Bind<StudyLimits>(b.Configuration, StudyLimits.Service));
                b.Services.AddSingleton(options ?? StudyRunnerOptions.Default);
                b.Services.AddSingleton<StudyFanOut>();
                b.Services.AddSingleton<StudyRunner>();
                b.Services.AddIntermediateCache(cache ?? CacheSettings.InMemory);
            },
            app => app.MapGrpcService<StudyGrpcService>()
        );

    public override async Task RunStudy(
        RunStudyRequest request,
        IServerStreamWriter<RunStudyResponse> responseStream,
        ServerCallContext context
    )
    {
        var data = request.SourceCase switch
        {
            RunStudyRequest.SourceOneofCase.Data => request.Data,
            RunStudyRequest.SourceOneofCase.Dataset when request.Dataset == BundledData.SampleName =>
                BundledData.Sample(),
            RunStudyRequest.SourceOneofCase.Dataset => throw new InvalidInputException(
                "dataset",
                $"There is no bundled data set '{request.Dataset}'; the bundled one is '{BundledData.SampleName}', or send the data inline."
            ),
            _ => BundledData.Sample(),
        };
        if (request.SourceCase == RunStudyRequest.SourceOneofCase.Data)
            StudyDataCheck.Data(data);
        StudyDataCheck.Spec(request.Spec, limits);
        var report = await runner.RunAsync(
            data,
            request.Spec,
            p => new ValueTask(
                responseStream.WriteAsync(new RunStudyResponse { Progress = p }, context.CancellationToken)
            ),
            context.Deadline == DateTime.MaxValue ? null : context.Deadline,
            context.CancellationToken
        );
        await responseStream.WriteAsync(new RunStudyResponse { Report = report }, context.CancellationToken);
    }
}
