using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study.Caching;

namespace ResilienceGrpc.Study;

/// <summary>What the fan-out brought back: every service answer the report is made of.</summary>
public sealed record StudyResults(
    IReadOnlyDictionary<IndexVariant, ComputeIndexResponse> Indices,
    IReadOnlyDictionary<ProjectionVariant, ProjectExportsResponse> Projections,
    IReadOnlyList<IReadOnlyList<RegressionModel>> Models,
    IReadOnlyList<Specification> Curve,
    IReadOnlyList<CacheEvent> CacheEvents
);

/// <summary>Progress of a running study: a step counter and the writer, one event at a time.</summary>
public sealed class StudyProgressReporter(Func<StudyProgress, ValueTask> write, int total, CancellationToken ct)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _done;

    /// <summary>Counts finished steps.</summary>
    public void Done(int steps = 1) => Interlocked.Add(ref _done, steps);

    public async Task Report(string stage, string message, double? eta = null)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var p = new StudyProgress
            {
                Stage = stage,
                Message = message,
                Completed = Volatile.Read(ref _done),
                Total = total,
            };
            if (eta is { } e)
                p.EtaSeconds = e;
            await write(p);
        }
        finally
        {
            _gate.Release();
        }
    }
}
