using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Study;

/// <summary>A group of specifications sharing one index and one projection, sent as one <c>FitBatch</c> call.</summary>
/// <param name="Members">Positions of the specifications in the plan.</param>
public sealed record MultiverseBatch(IndexVariant Index, ProjectionVariant Projection, int[] Members);

/// <summary>
/// How the specification curve travels to the regression service: specifications that
/// share a data variant (index × projection) go together, in batches of at most
/// <see cref="StudyLimits.BatchModels"/> models, so thousands of tiny fits pay a few dozen round trips,
/// and there are still enough batches to spread over the replicas. Each batch carries the
/// variant's outcome, main regressor and controls once, and each model names the city it
/// leaves out. Results are written back by plan position, so the order of arrival (and
/// the replica that fitted them) does not matter.
/// </summary>
public static class MultiverseBatches
{
    public static IReadOnlyList<MultiverseBatch> Plan(
        IReadOnlyList<PlannedSpecification> plan,
        StudySpec spec,
        int rows,
        StudyLimits? limits = null
    )
    {
        limits ??= StudyLimits.Default;
        var batches = new List<MultiverseBatch>();
        foreach (var group in Enumerable.Range(0, plan.Count).GroupBy(i => (plan[i].Index, plan[i].Projection)))
        {
            var members = group.ToArray();
            long Work(int i) =>
                Math.Max(
                    MultiversePlan.BootstrapWork(spec.Multiverse.Bootstrap, rows, plan[i].Controls.Count),
                    MultiversePlan.FitWork(rows, plan[i].Controls.Count)
                );
            // Even batches of at most BatchModels models, then split further wherever the work would pass BatchWork.
            int parts = (members.Length + limits.BatchModels - 1) / limits.BatchModels;
            int size = (members.Length + parts - 1) / parts;
            foreach (var chunk in members.Chunk(size))
            {
                var current = new List<int>();
                long work = 0;
                foreach (int i in chunk)
                {
                    if (current.Count > 0 && work + Work(i) > limits.BatchWork)
                    {
                        batches.Add(new MultiverseBatch(group.Key.Index, group.Key.Projection, [.. current]));
                        current.Clear();
                        work = 0;
                    }
                    current.Add(i);
                    work += Work(i);
                }
                batches.Add(new MultiverseBatch(group.Key.Index, group.Key.Projection, [.. current]));
            }
        }
        return batches;
    }

    public static FitBatchRequest Request(
        MultiverseBatch batch,
        IReadOnlyList<PlannedSpecification> plan,
        StudySpec spec,
        StudyData data,
        IReadOnlyDictionary<string, double[]> variables
    )
    {
        var request = new FitBatchRequest { RowIds = { data.CityIds } };
        var names = batch
            .Members.SelectMany(i => plan[i].Controls)
            .Prepend(MultiversePlan.Term)
            .Prepend(spec.Outcome)
            .Distinct(StringComparer.Ordinal);
        foreach (var name in names)
            request.Columns.Add(new Column { Name = name, Values = { variables[name] } });
        foreach (int i in batch.Members)
        {
            var s = plan[i];
            var model = new BatchModel
            {
                Dependent = spec.Outcome,
                Regressors = { s.Controls.Prepend(MultiversePlan.Term) },
                CovarianceType = s.Covariance,
            };
            if (s.DroppedCity.Length > 0)
                model.ExcludedRowIds.Add(s.DroppedCity);
            if (spec.Multiverse.Bootstrap > 0)
                model.Bootstrap = new BootstrapOptions
                {
                    Replications = spec.Multiverse.Bootstrap,
                    Seed = s.BootstrapSeed,
                };
            request.Models.Add(model);
        }
        return request;
    }

    /// <summary>Writes each result into its specification's slot.</summary>
    public static void Read(
        MultiverseBatch batch,
        IReadOnlyList<PlannedSpecification> plan,
        FitBatchResponse response,
        Specification[] into
    )
    {
        if (response.Results.Count != batch.Members.Length)
            throw new InvalidOperationException(
                $"The regression service returned {response.Results.Count} results for {batch.Members.Length} models."
            );
        for (int r = 0; r < batch.Members.Length; r++)
        {
            var p = plan[batch.Members[r]];
            var s = new Specification
            {
                Id = p.Id,
                Baseline = p.Baseline,
                Weighting = p.Index.Weighting,
                WithinDimension = p.Index.WithinDimension,
                GrowthMethod = p.Projection.Growth,
                BaseWindow = new Contracts.Projection.V1.BaseWindow
                {
                    StartYear = p.Projection.StartYear,
                    EndYear = p.Projection.EndYear,
                },
                CovarianceType = p.Covariance,
                Controls = { p.Controls },
                DroppedCity = p.DroppedCity,
            };
            var result = response.Results[r];
            if (result.OutcomeCase == BatchResult.OutcomeOneofCase.Fit)
            {
                var c = result.Fit.Coefficients.First(x => x.Term == MultiversePlan.Term);
                s.Estimate = c.Estimate;
                s.StdError = c.StdError;
                s.CiLow = c.CiLow;
                s.CiHigh = c.CiHigh;
                s.PValue = c.PValue;
                s.NObs = result.Fit.Model.NObs;
                if (c.HasBootstrapPValue)
                {
                    s.BootstrapPValue = c.BootstrapPValue;
                    s.BootstrapSeed = p.BootstrapSeed;
                }
            }
            else
            {
                s.Error = result.Error?.Message is { Length: > 0 } m
                    ? m
                    : "The regression service gave no fit for this specification.";
            }
            into[batch.Members[r]] = s;
        }
    }
}
