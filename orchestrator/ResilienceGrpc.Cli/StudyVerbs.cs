using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Cli;

public static partial class Verbs
{
    /// <summary>Extra options of <c>serve</c> for the study service.</summary>
    private static readonly Option[] StudyServeOptions = [];

    private static IEnumerable<Command> StudyVerbs(VerbContext io) => [];

    private static Task<(IReadOnlyList<ServiceModule> Modules, Action<WebApplicationBuilder>? Configure)> ServeModules(string name, ParseResult parse, CancellationToken ct)
    {
        IReadOnlyList<ServiceModule> modules = name switch
        {
            "indexing" => [IndexingGrpcService.Module],
            "projection" => [ProjectionGrpcService.Module],
            "regression" => [RegressionGrpcService.Module],
            _ => throw new CommandLineException("The study service arrives with the orchestrator; serve indexing, projection or regression for now."),
        };
        return Task.FromResult<(IReadOnlyList<ServiceModule>, Action<WebApplicationBuilder>?)>((modules, null));
    }
}
