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
    public static readonly string[] FigureIds = ["fig-weights", "fig-scatter", "fig-coefficients", "fig-curve", "fig-monthly", "fig-ratios"];

    public static string Render(StudyReport report)
    {
        var tables = PublishedTables.For(report);
        var sb = new StringBuilder();
        string title = WebUtility.HtmlEncode(report.Title);
        sb.Append($$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}}</title>
            <link rel="icon" href="data:,">
            <style>
            body { font-family: Georgia, 'Times New Roman', serif; margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #222; }
            h1 { font-size: 1.7rem; margin-bottom: .3rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
            .synthetic { background: #fff3cd; border: 2px solid #d39e00; padding: .6rem 1rem; font-family: sans-serif; font-weight: bold; margin: 1rem 0; }
            .meta { font-family: sans-serif; font-size: .85rem; color: #555; }
            table.pub { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; }
            table.pub caption { text-align: left; font-weight: bold; padding-bottom: .4rem; }
            table.pub thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; padding: .25rem .8rem; }
            table.pub tbody tr:last-child td { border-bottom: 2px solid #222; }
            table.pub td { padding: .1rem .8rem; text-align: center; } table.pub td:first-child { text-align: left; white-space: pre; }
            p.note { font-size: .82rem; color: #444; margin: .1rem 0; max-width: 900px; }
            .figure { width: 100%; height: 460px; margin: 1rem 0; }
            .warnings li { font-family: sans-serif; font-size: .9rem; }
            nav { display: flex; flex-wrap: wrap; gap: .3rem .9rem; } nav a { font-family: sans-serif; font-size: .9rem; }
            #fig-coefficients, #fig-curve { height: auto; min-height: 420px; }
            .scroll { overflow-x: auto; }
            select { font-size: 1rem; }
            </style>
            <script>{{PlotlyScript()}}</script>
            </head>
            <body>
            <h1>{{title}}</h1>

            """);
        if (report.Synthetic)
            sb.Append($"<div class=\"synthetic\" id=\"synthetic-banner\">SYNTHETIC DATA ({WebUtility.HtmlEncode(report.Manifest?.DataLabel ?? "")}): these results come from generated numbers and say nothing about the cities named.</div>\n");
        var m = report.Manifest;
        if (m is not null)
            sb.Append($"<p class=\"meta\">Data: {WebUtility.HtmlEncode(m.DataLabel)} (SHA-256 {m.DataSha256[..16]}…) · ResilienceGrpc {WebUtility.HtmlEncode(m.SoftwareVersion)} · run {WebUtility.HtmlEncode(m.StartedAt)} in {m.ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s · {PublishedTables.SeWords(m.Spec.CovarianceType)} standard errors</p>\n");
        sb.Append("<nav>").Append(string.Join(" ", tables.Select(t => $"<a href=\"#{t.Id}\">{WebUtility.HtmlEncode(t.Id)}</a>")))
          .Append(" <a href=\"#coefficients\">coefficients</a>").Append(report.Multiverse is null ? "" : " <a href=\"#multiverse\">specification curve</a>").Append(" <a href=\"#monthly\">monthly</a> <a href=\"#cities\">cities</a> <a href=\"#manifest\">manifest</a></nav>\n");
        if (report.Warnings.Count > 0)
            sb.Append("<ul class=\"warnings\">").Append(string.Join("", report.Warnings.Select(w => $"<li>{WebUtility.HtmlEncode(w)}</li>"))).Append("</ul>\n");

        foreach (var t in tables)
        {
            sb.Append($"<section id=\"{t.Id}\">\n<h2>{WebUtility.HtmlEncode(t.Title)}</h2>\n").Append(Table(t));
            if (t.Id == "weights") sb.Append("<div class=\"figure\" id=\"fig-weights\"></div>\n");
            if (t.Id == "baseline") sb.Append("<div class=\"figure\" id=\"fig-scatter\"></div>\n");
            sb.Append("</section>\n");
        }
        sb.Append("<section id=\"coefficients\"><h2>The main coefficient across specifications</h2><div class=\"figure\" id=\"fig-coefficients\"></div>")
          .Append("<p class=\"note\">Each point is a model's first regressor with its 95% confidence interval.</p></section>\n");
        if (report.Multiverse is { } curve)
            sb.Append("<section id=\"multiverse\"><h2>Specification curve</h2><div class=\"figure\" id=\"fig-curve\"></div>")
              .Append($"<p class=\"note\">Top: the estimate of {WebUtility.HtmlEncode(curve.Term)} in every specification, sorted, with its 95% confidence interval; ")
              .Append("blue where p &lt; 0.05, grey otherwise, the baseline (the paper's choices) in orange. Bottom: the choices each specification made, one row per choice; ")
              .Append("a mark in a column means the specification above it used that choice.</p>")
              .Append(Table(MultiverseReport.Summary(curve))).Append("</section>\n");
        sb.Append("<section id=\"monthly\"><h2>Monthly exports: actual against expected</h2>")
          .Append("<p><label for=\"city-select\">City: </label><select id=\"city-select\"></select></p><div class=\"figure\" id=\"fig-monthly\"></div>")
          .Append("<p class=\"note\">Expected: the same month of the last base year grown at the city's base rate. Dashed red: the first month below expectation; green: recovery (the first of three months above).</p>")
          .Append("<div class=\"figure\" id=\"fig-ratios\"></div></section>\n");
        sb.Append("<section id=\"cities\"><h2>Intermediate data by city</h2>").Append(Table(CityTable(report))).Append("</section>\n");
        sb.Append("<section id=\"manifest\"><h2>Manifest</h2>").Append(Manifest(report)).Append("</section>\n");
        sb.Append("<script>\n{\nconst DATA = ").Append(FigureData(report)).Append(";\n").Append(Script).Append("\n}\n</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static string PlotlyScript()
    {
        using var s = typeof(HtmlReport).Assembly.GetManifestResourceStream("ResilienceGrpc.Client.Reporting.Assets.plotly-basic.min.js")!;
        using var r = new StreamReader(s);
        return r.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    }

    public static string Table(TextTable t)
    {
        var sb = new StringBuilder($"<div class=\"scroll\"><table class=\"pub\" id=\"table-{t.Id}\">\n<thead><tr>");
        foreach (var c in t.Columns) sb.Append("<th>").Append(WebUtility.HtmlEncode(c)).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in t.Rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row)
                sb.Append("<td>").Append(WebUtility.HtmlEncode(cell.Number is { } n ? NumberText.Human(n) : cell.Text ?? "")).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table></div>\n");
        foreach (var n in t.Notes ?? []) sb.Append("<p class=\"note\">").Append(WebUtility.HtmlEncode(n)).Append("</p>\n");
        return sb.ToString();
    }

    /// <summary>Per-city intermediates: index, dimension scores, ratio, growth, recovery.</summary>
    public static TextTable CityTable(StudyReport report)
    {
        var dims = report.Cities.FirstOrDefault()?.DimensionScores.Select(d => d.Dimension).ToList() ?? [];
        var rows = report.Cities.Select(c => (Cell[])
        [
            c.Name, c.Tier, c.Rescity, .. c.DimensionScores.Select(d => (Cell)d.Score),
            c.Projection.Ratio, c.Projection.GrowthRate,
            c.Projection.Recovery.HasMonths ? c.Projection.Recovery.Months.ToString(CultureInfo.InvariantCulture) : ResultTables.Words(c.Projection.Recovery.Status),
        ]).ToList();
        return new TextTable("cities", "Intermediate data by city", ["City", "Tier", "Rescity", .. dims.Select(d => "Res " + d), "Resexport", "Growth", "Recovery (months)"], rows,
            ["Resexport = actual / projected exports of the shock year; Growth = its growth rate over the last base year."]);
    }

    private static string Manifest(StudyReport report)
    {
        var m = report.Manifest;
        if (m is null) return "";
        var sb = new StringBuilder("<table class=\"pub\"><tbody>");
        void Row(string k, string v) => sb.Append($"<tr><td>{WebUtility.HtmlEncode(k)}</td><td style=\"text-align:left\">{WebUtility.HtmlEncode(v)}</td></tr>");
        Row("software version", m.SoftwareVersion);
        Row("data", m.DataLabel + (m.Synthetic ? " (SYNTHETIC)" : ""));
        Row("data SHA-256", m.DataSha256);
        foreach (var i in m.Inputs) Row(i.Name, $"{i.Sha256} ({i.SizeBytes:N0} bytes)");
        Row("started", m.StartedAt);
        sb.Append("</tbody></table><p class=\"note\">The full spec is in manifest.json and results.json.</p>");
        return sb.ToString();
    }

    private static string FigureData(StudyReport report)
    {
        var weights = report.Tables.First(t => t.Id == "weights").Weights;
        var baseline = report.Tables.FirstOrDefault(t => t.Id == "baseline");
        var line = baseline?.Models.FirstOrDefault(m => m.Fit?.Coefficients.Count == 2 && m.Spec.Regressors.Count == 1);
        var coefficients = report.Tables.Where(t => t.Id != "weights").SelectMany(t => t.Models.Where(m => m.Fit?.Coefficients.Count > 0)
            .Select(m => new
            {
                dependent = m.Spec.Dependent,
                label = $"{t.Id} {m.Spec.Label}: {m.Fit.Coefficients[0].Term}",
                estimate = m.Fit.Coefficients[0].Estimate,
                low = m.Fit.Coefficients[0].CiLow,
                high = m.Fit.Coefficients[0].CiHigh,
            })).ToList();
        var payload = new
        {
            weights = weights.Indicators.Select(i => new { id = i.Label.Length > 0 ? i.Label : i.Id, dimension = i.Dimension, weight = i.Weight }),
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
            fit = line is null ? null : new { intercept = line.Fit.Coefficients[1].Estimate, slope = line.Fit.Coefficients[0].Estimate, label = $"OLS fit, baseline {line.Spec.Label}" },
            coefficients,
            curve = report.Multiverse is null ? null : MultiverseReport.FigureData(report.Multiverse),
        };
        return JsonSerializer.Serialize(payload).Replace("</", "<\\/");
    }

    private const string Script = """
        const config = { displaylogo: false, responsive: true };
        const font = { family: 'Georgia, serif' };
        // 1. Weights by indicator, coloured by dimension.
        Plotly.newPlot('fig-weights', DATA.dimensions.map(d => {
          const rows = DATA.weights.filter(w => w.dimension === d);
          return { type: 'bar', orientation: 'h', name: d, y: rows.map(r => r.id), x: rows.map(r => r.weight) };
        }), { title: { text: 'Indicator weights by dimension' }, font, margin: { l: 210 }, xaxis: { title: { text: 'weight' } },
              yaxis: { automargin: true, categoryorder: 'trace' }, barmode: 'group', legend: { orientation: 'h' } }, config);
        // 2. Baseline scatter with city labels and the fitted line.
        const pts = DATA.cities.filter(c => c.lnResexport !== null);
        const traces = [{ type: 'scatter', mode: 'markers+text', name: 'cities', x: pts.map(c => c.lnRescity), y: pts.map(c => c.lnResexport),
                          text: pts.map(c => c.name), textposition: 'top center', textfont: { size: 9 },
                          marker: { size: 8, color: pts.map(c => c.tier === 'first' ? '#c0392b' : c.tier === 'new_first' ? '#2471a3' : '#7f8c8d') } }];
        if (DATA.fit) {
          const xs = pts.map(c => c.lnRescity), lo = Math.min(...xs), hi = Math.max(...xs);
          traces.push({ type: 'scatter', mode: 'lines', name: DATA.fit.label, x: [lo, hi], y: [DATA.fit.intercept + DATA.fit.slope * lo, DATA.fit.intercept + DATA.fit.slope * hi], line: { color: '#000' } });
        }
        Plotly.newPlot('fig-scatter', traces, { title: { text: 'Export resilience against urban resilience (red: first tier, blue: new first tier)' }, font,
          xaxis: { title: { text: 'LnRescity' } }, yaxis: { title: { text: 'LnResexport' } }, showlegend: true, legend: { orientation: 'h' } }, config);
        // 3. Coefficient plot with 95% intervals: one panel per dependent variable (their scales differ).
        const groups = [...new Set(DATA.coefficients.map(c => c.dependent))];
        const total = DATA.coefficients.length, gap = 0.08;
        let yTop = 1, coTraces = [], coLayout = { font, margin: { l: 330 }, height: Math.max(420, 34 * total + 110 * groups.length), showlegend: false, shapes: [] };
        groups.forEach((g, k) => {
          const co = DATA.coefficients.filter(c => c.dependent === g).reverse();
          const h = (1 - gap * (groups.length - 1)) * co.length / total, bottom = Math.max(0, yTop - h);
          const ax = k === 0 ? '' : String(k + 1);
          coTraces.push({ type: 'scatter', mode: 'markers', xaxis: 'x' + ax, yaxis: 'y' + ax, x: co.map(c => c.estimate), y: co.map(c => c.label),
            error_x: { type: 'data', symmetric: false, array: co.map(c => c.high - c.estimate), arrayminus: co.map(c => c.estimate - c.low) },
            marker: { size: 9, color: '#2471a3' } });
          coLayout['yaxis' + ax] = { domain: [bottom, yTop], anchor: 'x' + ax, automargin: true };
          coLayout['xaxis' + ax] = { anchor: 'y' + ax, zeroline: true, title: { text: 'dependent: ' + g + ' (estimate, 95% CI)' } };
          coLayout.shapes.push({ type: 'line', xref: 'x' + ax, yref: 'y' + ax + ' domain', x0: 0, x1: 0, y0: 0, y1: 1, line: { dash: 'dot', color: '#888' } });
          yTop = bottom - gap;
        });
        Plotly.newPlot('fig-coefficients', coTraces, coLayout, config);
        // 4. The specification curve: sorted estimates with 95% bars above, the choice panel below.
        if (DATA.curve) {
          const C = DATA.curve, n = C.estimate.length, ranks = [...Array(n).keys()];
          const colour = ranks.map(i => i === C.baseline ? '#D55E00' : C.significant[i] ? '#0072B2' : '#999999');
          const curveTraces = [
            { type: 'scatter', mode: 'markers', name: '95% CI', x: ranks, y: C.estimate, hoverinfo: 'skip', marker: { size: 1, color: 'rgba(0,0,0,0)' },
              error_y: { type: 'data', symmetric: false, array: C.high.map((h, i) => h - C.estimate[i]), arrayminus: C.low.map((l, i) => C.estimate[i] - l), thickness: 1, width: 0, color: 'rgba(86,180,233,0.35)' } },
            { type: 'scatter', mode: 'markers', name: 'estimate', x: ranks, y: C.estimate, text: C.id,
              hovertemplate: 'spec %{text}<br>estimate %{y:.4f}<extra></extra>',
              marker: { size: ranks.map(i => i === C.baseline ? 13 : 4), color: colour, symbol: ranks.map(i => i === C.baseline ? 'diamond' : 'circle'),
                        line: { width: ranks.map(i => i === C.baseline ? 1.5 : 0), color: '#000' } } }];
          C.rows.forEach((r, k) => curveTraces.push({ type: 'scatter', mode: 'markers', name: r, xaxis: 'x', yaxis: 'y2', x: C.used[k], y: C.used[k].map(() => r),
            marker: { symbol: 'line-ns-open', size: 7, color: C.used[k].map(i => i === C.baseline ? '#D55E00' : '#444444') }, hoverinfo: 'skip' }));
          const panel = Math.min(0.5, 0.045 * C.rows.length + 0.05);
          Plotly.newPlot('fig-curve', curveTraces, { font, showlegend: false, height: 460 + 18 * C.rows.length, margin: { l: 230 },
            title: { text: 'Specification curve: ' + C.term + ' across ' + n + ' specifications (dependent: ' + C.dependent + ')' },
            xaxis: { title: { text: 'specifications, sorted by estimate' }, anchor: 'y2', range: [-0.01 * n, 1.01 * n] },
            yaxis: { domain: [panel + 0.06, 1], title: { text: 'estimate of ' + C.term + ' (95% CI)' }, zeroline: true },
            yaxis2: { domain: [0, panel], type: 'category', automargin: true, categoryorder: 'array', categoryarray: C.rows.slice().reverse() },
            shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: 0, y1: 0, line: { dash: 'dot', color: '#888' } }] }, config);
        }
        // 5. Monthly actual and expected for the chosen city, dip and recovery marked.
        const select = document.getElementById('city-select');
        DATA.cities.filter(c => c.periods.length > 0).forEach(c => { const o = document.createElement('option'); o.value = c.id; o.textContent = c.name; select.appendChild(o); });
        function drawCity(id) {
          const c = DATA.cities.find(x => x.id === id);
          if (!c) return;
          const shapes = [], annotations = [];
          if (c.dip) { shapes.push({ type: 'line', x0: c.dip, x1: c.dip, yref: 'paper', y0: 0, y1: 1, line: { color: '#c0392b', dash: 'dash' } }); }
          if (c.recovery) { shapes.push({ type: 'line', x0: c.recovery, x1: c.recovery, yref: 'paper', y0: 0, y1: 1, line: { color: '#1e8449', width: 2 } });
                            annotations.push({ x: c.recovery, yref: 'paper', y: 1, text: 'recovered after ' + c.months + ' months', showarrow: false, yanchor: 'bottom' }); }
          if (c.status === 'censored') annotations.push({ xref: 'paper', x: 1, yref: 'paper', y: 1, text: 'never recovers in the data (censored)', showarrow: false, xanchor: 'right', yanchor: 'bottom' });
          if (c.status === 'no dip') annotations.push({ xref: 'paper', x: 1, yref: 'paper', y: 1, text: 'never below expectation', showarrow: false, xanchor: 'right', yanchor: 'bottom' });
          Plotly.react('fig-monthly', [
            { type: 'scatter', mode: 'lines+markers', name: 'actual', x: c.periods, y: c.actual, line: { color: '#2471a3' } },
            { type: 'scatter', mode: 'lines', name: 'expected', x: c.periods, y: c.expected, line: { color: '#888', dash: 'dot' } }],
            { title: { text: c.name + ': monthly exports, actual and expected' }, font, shapes, annotations, yaxis: { title: { text: 'exports' } }, legend: { orientation: 'h' } }, config);
        }
        select.addEventListener('change', e => drawCity(e.target.value));
        if (select.options.length > 0) drawCity(select.options[0].value);
        // 6. Every city's ratio path against 1.
        Plotly.newPlot('fig-ratios', DATA.cities.filter(c => c.periods.length > 0).map(c => ({ type: 'scatter', mode: 'lines', name: c.name, x: c.periods, y: c.ratio,
          line: { width: 1, color: c.status === 'censored' ? '#c0392b' : 'rgba(36,113,163,0.45)' } })),
          { title: { text: 'Actual / expected exports, every city (red: never recovers)' }, font, showlegend: false,
            shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 1, y1: 1, line: { color: '#000' } }], yaxis: { title: { text: 'ratio' } } }, config);
        """;
}
