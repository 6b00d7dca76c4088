using System.Globalization;
using System.Text;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// Every fitted model of the report in broom's shapes, for modelsummary, esttab or a
/// spreadsheet: <c>coefficients.csv</c> (one row per term, as <c>broom::tidy</c>, with
/// <c>conf.int = TRUE</c>) and <c>models.csv</c> (one row per model, as <c>broom::glance</c>).
/// Numbers at full precision (shortest round-trip text); a model that failed keeps its row
/// in models.csv with its error.
/// </summary>
public static class TidyTables
{
    public const string CoefficientsFile = "coefficients.csv";
    public const string ModelsFile = "models.csv";

    private static string N(double v) => NumberText.Exact(v);

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Row(IEnumerable<string> cells) =>
        string.Join(",", cells.Select(MultiverseReport.Quote)) + "\n";

    public static string Coefficients(StudyReport report)
    {
        var sb = new StringBuilder(
            "table,model,dependent,term,estimate,std.error,statistic,p.value,conf.low,conf.high,bootstrap.p.value\n"
        );
        foreach (var t in report.Tables)
            foreach (var m in t.Models.Where(m => m.Fit is not null))
                foreach (var c in m.Fit.Coefficients)
                    sb.Append(
                        Row([
                            t.Id,
                    m.Spec.Label,
                    m.Fit.Model.Dependent,
                    c.Term,
                    N(c.Estimate),
                    N(c.StdError),
                    N(c.TValue),
                    N(c.PValue),
                    N(c.CiLow),
                    N(c.CiHigh),
                    c.HasBootstrapPValue ? N(c.BootstrapPValue) : "",
                        ])
                    );
        return sb.ToString();
    }

    public static string Models(StudyReport report)
    {
        var sb = new StringBuilder(
            "table,model,dependent,covariance,nobs,df,df.residual,r.squared,adj.r.squared,sigma,statistic,p.value,f.type,n.dropped,error\n"
        );
        foreach (var t in report.Tables)
            foreach (var m in t.Models)
            {
                if (m.Fit is not { Model: { } s })
                {
                    sb.Append(
                        Row([t.Id, m.Spec.Label, m.Spec.Dependent, "", "", "", "", "", "", "", "", "", "", "", m.Error])
                    );
                    continue;
                }
                sb.Append(
                    Row([
                        t.Id,
                    m.Spec.Label,
                    s.Dependent,
                    s.CovarianceType switch
                    {
                        CovarianceType.Classical => "classical",
                        CovarianceType.Hc0 => "HC0",
                        CovarianceType.Hc1 => "HC1",
                        CovarianceType.Hc2 => "HC2",
                        _ => "HC3",
                    },
                    I(s.NObs),
                    I(s.FDfNum),
                    I(s.DfResid),
                    N(s.RSquared),
                    N(s.AdjRSquared),
                    N(s.Rmse),
                    N(s.FStatistic),
                    N(s.FPValue),
                    s.FType == FTestType.Wald ? "wald" : "classical",
                    I(s.NDropped),
                    "",
                    ])
                );
            }
        return sb.ToString();
    }
}
