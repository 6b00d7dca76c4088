using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Domain;

namespace ResilienceGrpc.Study;

/// <summary>One way of building the index: a weighting, and global or within-dimension scoring.</summary>
public sealed record IndexVariant(WeightingMethod Weighting, bool WithinDimension)
{
    public string Name => StudySpecs.Short(Weighting).ToLowerInvariant() + (WithinDimension ? "-within" : "");
}

/// <summary>One way of projecting exports: a growth method and a base window.</summary>
public sealed record ProjectionVariant(GrowthMethod Growth, int StartYear, int EndYear)
{
    public string Name => $"{MultiversePlan.Word(Growth)}-{StartYear}-{EndYear}";
}

/// <summary>One specification of the multiverse, before it is fitted.</summary>
public sealed record PlannedSpecification(
    string Id,
    bool Baseline,
    IndexVariant Index,
    ProjectionVariant Projection,
    CovarianceType Covariance,
    IReadOnlyList<string> Controls,
    string DroppedCity,
    ulong BootstrapSeed
);

/// <summary>
/// The specification curve's plan (docs/method.md §6): the Cartesian product of the
/// multiverse's choice lists, each list led by the study's own choice so that the paper's
/// specification is always one of them, in a fixed order, each with a stable id (a hash of
/// its choices) and its own bootstrap seed derived from the study's seed and that id. The
/// plan is refused before anything runs when it exceeds the <see cref="StudyLimits"/>.
/// </summary>
public static class MultiversePlan
{
    /// <summary>The term every specification estimates.</summary>
    public const string Term = "ln_rescity";

    /// <summary>The default multiverse: every weighting, both scorings, both growth methods, the robust covariances, every leave-one-out sample.</summary>
    public static MultiverseSpec Default() =>
        new()
        {
            Weightings = { WeightingMethod.Entropy, WeightingMethod.Equal, WeightingMethod.Critic },
            WithinDimension = { false, true },
            GrowthMethods = { GrowthMethod.Geometric, GrowthMethod.Arithmetic },
            CovarianceTypes = { CovarianceType.Hc0, CovarianceType.Hc1, CovarianceType.Hc2, CovarianceType.Hc3 },
            DropOneCity = true,
        };

    /// <summary>
    /// Fills the multiverse block of a completed spec: absent means <see cref="Default"/>; each
    /// list gets the study's own choice first (added when missing), duplicates are removed,
    /// and every value is checked. Throws with a <c>spec.multiverse.</c> field path.
    /// </summary>
    public static void Complete(
        StudySpec spec,
        StudyData data,
        IReadOnlySet<string> variables,
        StudyLimits? limits = null
    )
    {
        limits ??= StudyLimits.Default;
        var m = spec.Multiverse ?? Default();
        if (m.Disabled)
        {
            spec.Multiverse = new MultiverseSpec { Disabled = true };
            return;
        }
        for (int i = 0; i < m.Weightings.Count; i++)
            if (m.Weightings[i] is not (WeightingMethod.Entropy or WeightingMethod.Equal or WeightingMethod.Critic))
                throw Bad(
                    $"spec.multiverse.weightings[{i}]",
                    $"Weighting {m.Weightings[i]} is not one to cross; use WEIGHTING_METHOD_ENTROPY, WEIGHTING_METHOD_EQUAL or WEIGHTING_METHOD_CRITIC."
                );
        for (int i = 0; i < m.GrowthMethods.Count; i++)
            if (m.GrowthMethods[i] is not (GrowthMethod.Geometric or GrowthMethod.Arithmetic))
                throw Bad(
                    $"spec.multiverse.growth_methods[{i}]",
                    $"Growth method {m.GrowthMethods[i]} is not one to cross; use GROWTH_METHOD_GEOMETRIC or GROWTH_METHOD_ARITHMETIC."
                );
        for (int i = 0; i < m.BaseWindows.Count; i++)
        {
            var w = m.BaseWindows[i];
            if (w.StartYear < 1000 || w.EndYear <= w.StartYear || w.EndYear > 9999)
                throw Bad(
                    $"spec.multiverse.base_windows[{i}]",
                    $"The base window {w.StartYear}-{w.EndYear} is not valid; give a first year before the last, for example 2015-2019."
                );
        }
        for (int i = 0; i < m.CovarianceTypes.Count; i++)
            if (
                m.CovarianceTypes[i]
                is not (
                    CovarianceType.Classical
                    or CovarianceType.Hc0
                    or CovarianceType.Hc1
                    or CovarianceType.Hc2
                    or CovarianceType.Hc3
                )
            )
                throw Bad(
                    $"spec.multiverse.covariance_types[{i}]",
                    $"Covariance type {m.CovarianceTypes[i]} is not known; use COVARIANCE_TYPE_CLASSICAL or COVARIANCE_TYPE_HC0 to _HC3."
                );
        for (int i = 0; i < m.ControlSets.Count; i++)
            for (int j = 0; j < m.ControlSets[i].Variables.Count; j++)
            {
                string v = m.ControlSets[i].Variables[j],
                    field = $"spec.multiverse.control_sets[{i}].variables[{j}]";
                if (v.Contains('*'))
                    throw Bad(
                        field,
                        $"Control '{Names.Shown(v)}' is a product; the curve's controls are plain study variables."
                    );
                if (m.ControlSets[i].Variables.Take(j).Contains(v))
                    throw Bad(field, $"Control '{Names.Shown(v)}' is listed twice in control set {i + 1}.");
                if (!variables.Contains(v))
                    throw Bad(
                        field,
                        $"Unknown control '{Names.Shown(v)}'; the study's variables are {string.Join(", ", variables.Order(StringComparer.Ordinal))}."
                    );
                if (v == Term || v == spec.Outcome)
                    throw Bad(field, $"'{v}' cannot be a control: it is the main regressor or the outcome.");
            }
        if (m.Bootstrap is < 0 or > 1_000_000)
            throw Bad(
                "spec.multiverse.bootstrap",
                $"Bootstrap replications per specification must be between 0 (off) and 1,000,000; {m.Bootstrap} was given."
            );

        var done = new MultiverseSpec
        {
            Weightings = { Led(spec.Weighting, m.Weightings) },
            WithinDimension = { Led(false, m.WithinDimension) },
            GrowthMethods = { Led(spec.GrowthMethod, m.GrowthMethods) },
            BaseWindows = { Led(spec.BaseWindow, m.BaseWindows) },
            CovarianceTypes = { Led(spec.CovarianceType, m.CovarianceTypes) },
            ControlSets = { Led(new ControlSet { Variables = { spec.Controls } }, m.ControlSets) },
            DropOneCity = !m.HasDropOneCity || m.DropOneCity,
            Bootstrap = m.Bootstrap,
        };
        long count = Count(done, data.CityIds.Count);
        if (count > limits.MaxSpecifications)
            throw new WorkLimitException(
                "spec.multiverse",
                $"The multiverse has {count:N0} specifications ({Product(done, data.CityIds.Count)}); the limit is {limits.MaxSpecifications:N0} ({StudyLimits.Key(nameof(StudyLimits.MaxSpecifications))}). Cross fewer choices."
            );
        long perControlSet = count / done.ControlSets.Count;
        long work = done.ControlSets.Sum(c =>
            perControlSet * BootstrapWork(done.Bootstrap, data.CityIds.Count, c.Variables.Count)
        );
        if (work > limits.MaxCurveBootstrapWork)
            throw new WorkLimitException(
                "spec.multiverse.bootstrap",
                $"The curve's bootstrap ({count:N0} specifications × {done.Bootstrap:N0} replications × {data.CityIds.Count} cities × their parameters) is {work:N0} units of work; the limit is {limits.MaxCurveBootstrapWork:N0} ({StudyLimits.Key(nameof(StudyLimits.MaxCurveBootstrapWork))}). Ask for fewer replications or specifications."
            );
        int widest = done.ControlSets.Max(c => c.Variables.Count);
        long heaviest = Math.Max(
            BootstrapWork(done.Bootstrap, data.CityIds.Count, widest),
            FitWork(data.CityIds.Count, widest)
        );
        if (count > 0 && heaviest > limits.BatchWork)
            throw new WorkLimitException(
                "spec.multiverse.bootstrap",
                $"One specification of the curve is {heaviest:N0} units of work ({done.Bootstrap:N0} replications × {data.CityIds.Count} cities × its parameters); one call to the regression service takes at most {limits.BatchWork:N0} ({StudyLimits.Key(nameof(StudyLimits.BatchWork))}). Ask for fewer replications."
            );
        // The windows' years against the data, once the size is known to be within the limits.
        var years = StudySpecs.ExportYears(data);
        for (int i = 0; i < m.BaseWindows.Count; i++)
            StudySpecs.RequireWindowInData(m.BaseWindows[i], years, $"spec.multiverse.base_windows[{i}]");
        spec.Multiverse = done;
    }

    /// <summary>Bootstrap work of one specification: replications × rows × (parameters + 1), with ln_rescity, the controls and the intercept as parameters.</summary>
    public static long BootstrapWork(int replications, int rows, int controls) =>
        (long)replications * rows * (controls + 3);

    /// <summary>Fitting work of one specification: rows × (parameters + 1)².</summary>
    public static long FitWork(int rows, int controls) => (long)rows * (controls + 3) * (controls + 3);

    /// <summary>How many specifications a completed multiverse has.</summary>
    public static long Count(MultiverseSpec m, int cities) =>
        m.Disabled
            ? 0
            : (long)m.Weightings.Count
                * m.WithinDimension.Count
                * m.GrowthMethods.Count
                * m.BaseWindows.Count
                * m.CovarianceTypes.Count
                * m.ControlSets.Count
                * (m.DropOneCity ? cities + 1 : 1);

    private static string Product(MultiverseSpec m, int cities) =>
        $"{m.Weightings.Count} weightings × {m.WithinDimension.Count} scorings × {m.GrowthMethods.Count} growth methods × {m.BaseWindows.Count} base windows × "
        + $"{m.CovarianceTypes.Count} covariance types × {m.ControlSets.Count} control sets × {(m.DropOneCity ? cities + 1 : 1)} samples";

    /// <summary>Every specification of a completed spec, in the fixed order.</summary>
    public static IReadOnlyList<PlannedSpecification> Specifications(StudySpec spec, StudyData data)
    {
        var m = spec.Multiverse;
        if (m is null || m.Disabled)
            return [];
        var samples = new List<string> { "" };
        if (m.DropOneCity)
            samples.AddRange(data.CityIds);
        var list = new List<PlannedSpecification>();
        foreach (var w in m.Weightings)
            foreach (var within in m.WithinDimension)
                foreach (var g in m.GrowthMethods)
                    foreach (var b in m.BaseWindows)
                        foreach (var c in m.CovarianceTypes)
                            foreach (var controls in m.ControlSets)
                                foreach (var dropped in samples)
                                {
                                    var index = new IndexVariant(w, within);
                                    var projection = new ProjectionVariant(g, b.StartYear, b.EndYear);
                                    string id = Id(index, projection, c, controls.Variables, dropped);
                                    bool baseline =
                                        w == spec.Weighting
                                        && !within
                                        && g == spec.GrowthMethod
                                        && b.Equals(spec.BaseWindow)
                                        && c == spec.CovarianceType
                                        && controls.Variables.SequenceEqual(spec.Controls)
                                        && dropped.Length == 0;
                                    list.Add(
                                        new PlannedSpecification(
                                            id,
                                            baseline,
                                            index,
                                            projection,
                                            c,
                                            controls.Variables.ToArray(),
                                            dropped,
                                            m.Bootstrap > 0 ? Seed(spec.Bootstrap.Seed, id) : 0
                                        )
                                    );
                                }
        return list;
    }

    /// <summary>
    /// The id: the first 12 hex digits of the SHA-256 of the choices written out
    /// (<c>index=…;projection=…;covariance=…;controls=…;dropped=…</c>), so the same choices
    /// always get the same id, whatever else the multiverse crosses.
    /// </summary>
    public static string Id(
        IndexVariant index,
        ProjectionVariant projection,
        CovarianceType covariance,
        IEnumerable<string> controls,
        string dropped
    )
    {
        string canonical =
            $"index={index.Name};projection={projection.Name};covariance={covariance.ToString().ToLowerInvariant()};controls={string.Join(",", controls)};dropped={dropped}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..12];
    }

    /// <summary>The specification's bootstrap seed: the first 8 bytes (little-endian) of SHA-256(study seed ‖ id).</summary>
    public static ulong Seed(ulong studySeed, string id)
    {
        var bytes = new byte[8 + id.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, studySeed);
        Encoding.ASCII.GetBytes(id, bytes.AsSpan(8));
        return BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(bytes));
    }

    public static string Word(GrowthMethod g) => g == GrowthMethod.Arithmetic ? "arithmetic" : "geometric";

    /// <summary>The summary over the fitted specifications.</summary>
    public static MultiverseSummary Summarise(IReadOnlyList<Specification> specifications)
    {
        var fitted = specifications.Where(s => s.Error.Length == 0).ToList();
        var summary = new MultiverseSummary { Specifications = specifications.Count, Fitted = fitted.Count };
        if (specifications.FirstOrDefault(s => s.Baseline) is { Error.Length: 0 } b)
            summary.BaselineEstimate = b.Estimate;
        if (fitted.Count == 0)
            return summary;
        var estimates = fitted.Select(s => s.Estimate).Order().ToArray();
        int n = estimates.Length;
        summary.MedianEstimate = Median(estimates);
        summary.MinEstimate = estimates[0];
        summary.MaxEstimate = estimates[^1];
        summary.SharePaperSign = (double)fitted.Count(s => s.Estimate > 0) / n;
        summary.ShareSignificant = (double)fitted.Count(s => s.PValue < 0.05) / n;
        if (fitted.All(s => s.HasBootstrapPValue))
            summary.ShareBootstrapSignificant = (double)fitted.Count(s => s.BootstrapPValue < 0.05) / n;
        return summary;
    }

    /// <summary>The median of sorted values: the middle one, or the mean of the two middle ones.</summary>
    public static double Median(IReadOnlyList<double> sorted)
    {
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static IEnumerable<T> Led<T>(T own, IEnumerable<T> choices) => choices.Prepend(own).Distinct();

    private static InvalidInputException Bad(string field, string message) => new(field, message);
}
