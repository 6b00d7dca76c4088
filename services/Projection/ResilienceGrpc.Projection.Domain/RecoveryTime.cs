namespace ResilienceGrpc.Projection.Domain;

/// <summary>What the monthly ratio path did after the shock.</summary>
public enum RecoveryStatus
{
    /// <summary>Dipped below 1, then stayed above 1 for three months.</summary>
    Recovered = 1,

    /// <summary>Never fell below 1; N = 0.</summary>
    NoDip = 2,

    /// <summary>Dipped and never recovered inside the data.</summary>
    Censored = 3,

    /// <summary>No monthly data.</summary>
    Unavailable = 4,
}

/// <summary>A city's recovery time.</summary>
/// <param name="Status">What the path did.</param>
/// <param name="Months">N, or null when censored or unavailable.</param>
/// <param name="DipIndex">0-based index of month M in the path, or null without a dip.</param>
/// <param name="RecoveryIndex">0-based index of month M + N, or null unless recovered.</param>
/// <param name="Reason">Why N is missing, as a sentence.</param>
public sealed record RecoveryTime(RecoveryStatus Status, int? Months, int? DipIndex, int? RecoveryIndex, string? Reason)
{
    /// <summary>
    /// The rule of docs/method.md §3 on a ratio path r (r[0] is the shock year's January):
    /// M is the first month with r &lt; 1 (exactly 1 is not a dip); N is the smallest
    /// N ≥ 1 with r &gt; 1 in months M+N, M+N+1 and M+N+2, all inside the data. No dip
    /// gives N = 0; a dip without such a run is censored.
    /// </summary>
    public static RecoveryTime FromRatios(
        IReadOnlyList<double> ratios,
        Func<int, string>? periodName = null,
        string city = "the city"
    )
    {
        periodName ??= i => $"month {i + 1}";
        int dip = -1;
        for (int t = 0; t < ratios.Count; t++)
            if (ratios[t] < 1.0)
            {
                dip = t;
                break;
            }
        if (dip < 0)
            return new RecoveryTime(RecoveryStatus.NoDip, 0, null, null, null);
        for (int start = dip + 1; start + 2 < ratios.Count; start++)
            if (ratios[start] > 1.0 && ratios[start + 1] > 1.0 && ratios[start + 2] > 1.0)
                return new RecoveryTime(RecoveryStatus.Recovered, start - dip, dip, start, null);
        string last = ratios.Count > 0 ? periodName(ratios.Count - 1) : "the end of the data";
        return new RecoveryTime(
            RecoveryStatus.Censored,
            null,
            dip,
            null,
            $"{city} dipped in {periodName(dip)} and did not stay above its expected exports for three consecutive months through {last} (censored)."
        );
    }
}
