using System.CommandLine;
using System.Globalization;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Cli;

/// <summary>
/// <c>resilience study</c>'s table-style options: each sets one field of the spec's
/// <c>tableStyle</c> (README, "Publication tables"), over what a <c>--spec</c> file says.
/// The study server checks the values as it checks any spec.
/// </summary>
public static class TableStyleOptions
{
    public static readonly Option<string> Statistic = new("--table-statistic")
    {
        Description = "What goes in parentheses under each coefficient: se, t (default), p or ci.",
    };

    public static readonly Option<int?> Digits = new("--table-digits")
    {
        Description = "Decimals of coefficients and of the statistic beneath them (0 to 10).",
    };

    public static readonly Option<string> Stars = new("--table-stars")
    {
        Description = "Significance levels and their symbols, ascending, e.g. '0.01=***,0.05=**,0.1=*'.",
    };

    public static readonly Option<string[]> Labels = new("--table-label")
    {
        Description = "A row label for a term, e.g. --table-label ln_x='Density (log)'; repeat for more.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string> Order = new("--table-order")
    {
        Description = "Terms in the order to print them, comma separated; the rest follow.",
    };

    public static readonly Option<string> Fit = new("--table-fit")
    {
        Description = "Fit statistics at the foot, comma separated, from n, r2, adj_r2, f, rmse, bootstrap_p.",
    };

    public static readonly Option<bool> DependentHeader = new("--table-dependent-header")
    {
        Description = "Print each column's dependent variable above the coefficients.",
    };

    public static readonly Option<string[]> Notes = new("--table-note")
    {
        Description = "A note under every regression table; repeat for more.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static IEnumerable<Option> All => [Statistic, Digits, Stars, Labels, Order, Fit, DependentHeader, Notes];

    /// <summary>Sets the spec's table style from the options given; a spec without any is left as it is.</summary>
    public static StudySpec? Apply(ParseResult parse, StudySpec? spec)
    {
        bool any = All.Any(o => parse.GetResult(o) is { Implicit: false });
        if (!any)
            return spec;
        spec ??= new StudySpec();
        var style = spec.TableStyle ??= new TableStyle();
        if (parse.GetValue(Statistic) is { } s)
            style.Statistic = s.Trim().ToLowerInvariant() switch
            {
                "se" => TableStatistic.Se,
                "t" => TableStatistic.T,
                "p" => TableStatistic.P,
                "ci" => TableStatistic.Ci,
                _ => throw new CommandLineException($"--table-statistic must be se, t, p or ci; '{s}' was given."),
            };
        if (parse.GetValue(Digits) is { } d)
            style.Digits = d;
        if (parse.GetValue(Stars) is { } stars)
        {
            style.StarLevels.Clear();
            style.StarSymbols.Clear();
            foreach (var part in stars.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.IndexOf('=');
                if (
                    eq <= 0
                    || !double.TryParse(part[..eq], NumberStyles.Float, CultureInfo.InvariantCulture, out double level)
                )
                    throw new CommandLineException(
                        $"--table-stars takes level=symbol pairs such as '0.01=***,0.05=**,0.1=*'; '{part}' is not one."
                    );
                style.StarLevels.Add(level);
                style.StarSymbols.Add(part[(eq + 1)..]);
            }
        }
        foreach (var label in parse.GetValue(Labels) ?? [])
        {
            int eq = label.IndexOf('=');
            if (eq <= 0)
                throw new CommandLineException($"--table-label takes term=Label, such as ln_x='Density (log)'; '{label}' is not one.");
            style.Labels[label[..eq].Trim()] = label[(eq + 1)..];
        }
        if (parse.GetValue(Order) is { } order)
        {
            style.Order.Clear();
            style.Order.AddRange(order.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }
        if (parse.GetValue(Fit) is { } fit)
        {
            style.FitStatistics.Clear();
            foreach (var f in fit.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                style.FitStatistics.Add(
                    f.ToLowerInvariant() switch
                    {
                        "n" => FitStatistic.N,
                        "r2" => FitStatistic.R2,
                        "adj_r2" => FitStatistic.AdjR2,
                        "f" => FitStatistic.F,
                        "rmse" => FitStatistic.Rmse,
                        "bootstrap_p" => FitStatistic.BootstrapP,
                        _ => throw new CommandLineException(
                            $"--table-fit takes n, r2, adj_r2, f, rmse and bootstrap_p; '{f}' is not one."
                        ),
                    }
                );
        }
        if (parse.GetValue(DependentHeader))
            style.DependentHeader = true;
        style.Notes.AddRange(parse.GetValue(Notes) ?? []);
        return spec;
    }
}
