using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ResilienceGrpc.Contracts.Study.V1;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// <c>report.html</c>: one self-contained page (no network) with the published tables
/// and figures drawn by plotly.js (embedded): the weights, the baseline scatter with its
/// fitted line and city labels, a coefficient plot over every specification with 95%
/// intervals, and monthly actual against expected exports with the dip and recovery marked.
/// </summary>
public static class HtmlReport
{
    /// <summary>The element ids of the figures, in page order (the browser test looks for them).</summary>
    public static readonly string[] FigureIds =
    [
        "fig-weights",
        "fig-scatter",
        "fig-coefficients",
        "fig-curve",
        "fig-monthly",
        "fig-ratios",
    ];

    public static string Render(StudyReport report)
    {
        var tables = PublishedTables.For(report);
        var sb = new StringBuilder();
        string title = WebUtility.HtmlEncode(report.Title);
        sb.Append(
            $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}}</title>
            <link rel="icon" href="data:,">
            <style>
            {{Template("report.css")}}
            </style>
            <script>{{PlotlyScript()}}</script>
            </head>
            <body>
            <h1>{{title}}</h1>

            """
        );
        if (report.Synthetic)
            sb.Append(
                $"<div class=\"synthetic\" id=\"synthetic-banner\">SYNTHETIC DATA ({WebUtility.HtmlEncode(report.Manifest?.DataLabel ?? "")}): these results come from generated numbers and say nothing about the cities named.</div>\n"
            );
        var m = report.Manifest;
        if (m is not null)
            sb.Append(
                $"<p class=\"meta\">Data: {WebUtility.HtmlEncode(m.DataLabel)} (SHA-256 {m.DataSha256[..16]}…) · ResilienceGrpc {WebUtility.HtmlEncode(m.SoftwareVersion)} · run {WebUtility.HtmlEncode(m.StartedAt)} in {m.ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s · {PublishedTables.SeWords(m.Spec.CovarianceType)} standard errors</p>\n"
            );
        sb.Append("<nav>")
            .Append(string.Join(" ", tables.Select(t => $"<a href=\"#{t.Id}\">{WebUtility.HtmlEncode(t.Id)}</a>")))
            .Append(" <a href=\"#coefficients\">coefficients</a>")
            .Append(report.Multiverse is null ? "" : " <a href=\"#multiverse\">specification curve</a>")
            .Append(
                " <a href=\"#monthly\">monthly</a> <a href=\"#cities\">cities</a> <a href=\"#manifest\">manifest</a></nav>\n"
            );
        if (report.Warnings.Count > 0)
            sb.Append("<ul class=\"warnings\">")
                .Append(string.Join("", report.Warnings.Select(w => $"<li>{WebUtility.HtmlEncode(w)}</li>")))
                .Append("</ul>\n");

        foreach (var t in tables)
        {
            sb.Append($"<section id=\"{t.Id}\">\n<h2>{WebUtility.HtmlEncode(t.Title)}</h2>\n").Append(Table(t));
            if (t.Id == "weights")
                sb.Append("<div class=\"figure\" id=\"fig-weights\"></div>\n");
            if (t.Id == "baseline")
                sb.Append("<div class=\"figure\" id=\"fig-scatter\"></div>\n");
            sb.Append("</section>\n");
        }
        sb.Append(
                "<section id=\"coefficients\"><h2>The main coefficient across specifications</h2><div class=\"figure\" id=\"fig-coefficients\"></div>"
            )
            .Append(
                "<p class=\"note\">Each point is a model's first regressor with its 95% confidence interval.</p></section>\n"
            );
        if (report.Multiverse is { } curve)
            sb.Append(
                    "<section id=\"multiverse\"><h2>Specification curve</h2><div class=\"figure\" id=\"fig-curve\"></div>"
                )
                .Append(
                    $"<p class=\"note\">Top: the estimate of {WebUtility.HtmlEncode(curve.Term)} in every specification, sorted, with its 95% confidence interval; "
                )
                .Append(
                    "blue where p &lt; 0.05, grey otherwise, the baseline (the paper's choices) in orange. Bottom: the choices each specification made, one row per choice; "
                )
                .Append("a mark in a column means the specification above it used that choice.</p>")
                .Append(Table(MultiverseReport.Summary(curve)))
                .Append("</section>\n");
        sb.Append("<section id=\"monthly\"><h2>Monthly exports: actual against expected</h2>")
            .Append(
                "<p><label for=\"city-select\">City: </label><select id=\"city-select\"></select></p><div class=\"figure\" id=\"fig-monthly\"></div>"
            )
            .Append(
                "<p class=\"note\">Expected: the same month of the last base year grown at the city's base rate. Dashed red: the first month below expectation; green: recovery (the first of three months above).</p>"
            )
            .Append("<div class=\"figure\" id=\"fig-ratios\"></div></section>\n");
        sb.Append("<section id=\"cities\"><h2>Intermediate data by city</h2>")
            .Append(Table(CityTable(report)))
            .Append("</section>\n");
        sb.Append("<section id=\"manifest\"><h2>Manifest</h2>").Append(Manifest(report)).Append("</section>\n");
        sb.Append("<script>\n{\nconst DATA = ")
            .Append(FigureData(report))
            .Append(";\n")
            .Append(Template("report.js"))
            .Append("\n}\n</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static string PlotlyScript() =>
        ReportTemplates
            .Resource("ResilienceGrpc.Client.Reporting.Assets.plotly-basic.min.js")
            .Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);

    /// <summary>A template file of <c>Reporting/Templates/</c> (the page's CSS and script), as embedded.</summary>
    public static string Template(string name) => ReportTemplates.Get(name);

    public static string Table(TextTable t)
    {
        var sb = new StringBuilder($"<div class=\"scroll\"><table class=\"pub\" id=\"table-{t.Id}\">\n<thead><tr>");
        foreach (var c in t.Columns)
            sb.Append("<th>").Append(WebUtility.HtmlEncode(c)).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in t.Rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row)
                sb.Append("<td>")
                    .Append(WebUtility.HtmlEncode(cell.Number is { } n ? NumberText.Human(n) : cell.Text ?? ""))
                    .Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table></div>\n");
        foreach (var n in t.Notes ?? [])
            sb.Append("<p class=\"note\">").Append(WebUtility.HtmlEncode(n)).Append("</p>\n");
        return sb.ToString();
    }

    /// <summary>Per-city intermediates: index, dimension scores, ratio, growth, recovery.</summary>
    public static TextTable CityTable(StudyReport report)
    {
        var dims = report.Cities.FirstOrDefault()?.DimensionScores.Select(d => d.Dimension).ToList() ?? [];
        var rows = report
            .Cities.Select(c =>
                (Cell[])
                    [
                        c.Name,
                        c.Tier,
                        c.Rescity,
                        .. c.DimensionScores.Select(d => (Cell)d.Score),
                        c.Projection.Ratio,
                        c.Projection.GrowthRate,
                        c.Projection.Recovery.HasMonths
                            ? c.Projection.Recovery.Months.ToString(CultureInfo.InvariantCulture)
                            : ResultTables.Words(c.Projection.Recovery.Status),
                    ]
            )
            .ToList();
        return new TextTable(
            "cities",
            "Intermediate data by city",
            ["City", "Tier", "Rescity", .. dims.Select(d => "Res " + d), "Resexport", "Growth", "Recovery (months)"],
            rows,
            [
                "Resexport = actual / projected exports of the shock year; Growth = its growth rate over the last base year.",
            ]
        );
    }

    private static string Manifest(StudyReport report)
    {
        var m = report.Manifest;
        if (m is null)
            return "";
        var sb = new StringBuilder("<table class=\"pub\"><tbody>");
        void Row(string k, string v) =>
            sb.Append(
                $"<tr><td>{WebUtility.HtmlEncode(k)}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(v)}</td></tr>"
            );
        Row("software version", m.SoftwareVersion);
        Row("data", m.DataLabel + (m.Synthetic ? " (SYNTHETIC)" : ""));
        Row("data SHA-256", m.DataSha256);
        foreach (var i in m.Inputs)
            Row(i.Name, $"{i.Sha256} ({i.SizeBytes:N0} bytes)");
        Row("started", m.StartedAt);
        sb.Append("</tbody></table><p class=\"note\">The full spec is in manifest.json and results.json.</p>");
        return sb.ToString();
    }

    private static string FigureData(StudyReport report)
    {
        var weights = report.Tables.First(t => t.Id == "weights").Weights;
        var baseline = report.Tables.FirstOrDefault(t => t.Id == "baseline");
        var line = baseline?.Models.FirstOrDefault(m => m.Fit?.Coefficients.Count == 2 && m.Spec.Regressors.Count == 1);
        var coefficients = report
            .Tables.Where(t => t.Id != "weights")
            .SelectMany(t =>
                t.Models.Where(m => m.Fit?.Coefficients.Count > 0)
                    .Select(m => new
                    {
                        dependent = m.Spec.Dependent,
                        label = $"{t.Id} {m.Spec.Label}: {m.Fit.Coefficients[0].Term}",
                        estimate = m.Fit.Coefficients[0].Estimate,
                        low = m.Fit.Coefficients[0].CiLow,
                        high = m.Fit.Coefficients[0].CiHigh,
                    })
            )
            .ToList();
        var payload = new
        {
            weights = weights.Indicators.Select(i => new
            {
                id = i.Label.Length > 0 ? i.Label : i.Id,
                dimension = i.Dimension,
                weight = i.Weight,
            }),
            dimensions = weights.Dimensions.Select(d => d.Dimension),
            cities = report.Cities.Select(c => new
            {
                id = c.CityId,
                name = c.Name,
                tier = c.Tier,
                lnRescity = Math.Log(c.Rescity),
                lnResexport = c.Projection.Ratio > 0 ? Math.Log(c.Projection.Ratio) : (double?)null,
                periods = c.Projection.Monthly.Select(p => p.Period),
                actual = c.Projection.Monthly.Select(p => p.Actual),
                expected = c.Projection.Monthly.Select(p => p.Expected),
                ratio = c.Projection.Monthly.Select(p => p.Ratio),
                dip = c.Projection.Recovery.DipPeriod,
                recovery = c.Projection.Recovery.RecoveryPeriod,
                months = c.Projection.Recovery.HasMonths ? c.Projection.Recovery.Months : (int?)null,
                status = ResultTables.Words(c.Projection.Recovery.Status),
            }),
            fit = line is null
                ? null
                : new
                {
                    intercept = line.Fit.Coefficients[1].Estimate,
                    slope = line.Fit.Coefficients[0].Estimate,
                    label = $"OLS fit, baseline {line.Spec.Label}",
                },
            coefficients,
            curve = report.Multiverse is null ? null : MultiverseReport.FigureData(report.Multiverse),
            // The sample's exports are in million USD; a user's are in whatever exports.csv holds.
            exportsUnit = report.Synthetic ? "million USD" : "units of exports.csv",
            palette = FigureFiles.PaletteHex,
        };
        return JsonSerializer.Serialize(payload).Replace("</", "<\\/");
    }
}
