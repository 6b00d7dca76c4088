using ResilienceGrpc.Contracts.Study.V1;
using ScottPlot;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The report's figures as static SVG files beside report.html, drawn with ScottPlot for
/// papers and slides (report.html keeps the interactive versions): the weights by indicator,
/// the baseline scatter by tier with its fitted line, the main coefficient of every model
/// with its 95% interval, the specification curve, and every city's ratio of actual to
/// expected exports. Colours are Okabe–Ito, safe for colour-blind readers, as in report.html.
/// </summary>
public static class FigureFiles
{
    public static readonly string[] Names =
    [
        "fig-weights.svg",
        "fig-scatter.svg",
        "fig-coefficients.svg",
        "fig-curve.svg",
        "fig-ratios.svg",
    ];

    /// <summary>Okabe–Ito, in the order every figure uses it (report.html's script reads it from the page's data).</summary>
    public static readonly string[] PaletteHex =
    [
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#CC79A7",
        "#56B4E9",
        "#D55E00",
        "#F0E442",
        "#000000",
    ];

    private static readonly Color[] Palette = PaletteHex.Select(Color.FromHex).ToArray();

    /// <summary>The SVG text of each figure the report has data for, by file name.</summary>
    public static IReadOnlyDictionary<string, string> Render(StudyReport report)
    {
        // One study's figures at a time: a CI run of the tests in parallel once left a Chinese
        // city's name out of a scatter that places it when drawn alone, which points at state
        // shared between concurrent renders (the text measurement behind the axes' layout, on
        // which the labels' free spots depend). A figure set takes well under a second.
        lock (RenderLock)
            return RenderAll(report);
    }

    private static readonly Lock RenderLock = new();

    private static Dictionary<string, string> RenderAll(StudyReport report)
    {
        var files = new Dictionary<string, string>();
        void Add(string name, Plot? plot, int width, int height)
        {
            if (plot is not null)
                files[name] = plot.GetSvgXml(width, height);
        }
        Add(Names[0], Weights(report), 900, 640);
        Add(Names[1], Scatter(report, 900, 620), 900, 620);
        var (coefficients, rows) = Coefficients(report);
        Add(Names[2], coefficients, 900, Math.Max(360, 60 + 32 * rows));
        Add(Names[3], Curve(report), 900, 500);
        Add(Names[4], Ratios(report), 900, 500);
        return files;
    }

    /// <summary>The figures' font.</summary>
    private const string FontName = "DejaVu Serif";

    /// <summary>
    /// ScottPlot writes every text of an SVG in the plot's font, whatever a label's own, and
    /// leaves out each character that font lacks: a figure whose text DejaVu cannot set (Chinese
    /// city names, indicator labels or model labels) takes an installed font that has it all.
    /// </summary>
    private static void UseFontFor(Plot plot, IEnumerable<string> texts)
    {
        var font = LabelFonts.For(string.Concat(texts), FontName);
        if (font != FontName)
            plot.Font.Set(font);
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Font.Set(FontName);
        return plot;
    }

    private static Plot? Weights(StudyReport report)
    {
        var weights = report.Tables.FirstOrDefault(t => t.Id == "weights")?.Weights;
        if (weights is null || weights.Indicators.Count == 0)
            return null;
        var plot = NewPlot("Indicator weights by dimension", "weight", "");
        var labels = new List<string>();
        int position = 0;
        for (int d = 0; d < weights.Dimensions.Count; d++)
        {
            var dimension = weights.Dimensions[d].Dimension;
            var bars = weights
                .Indicators.Where(i => i.Dimension == dimension)
                .Select(i =>
                {
                    labels.Add(i.Label.Length > 0 ? i.Label : i.Id);
                    return new Bar
                    {
                        Position = position++,
                        Value = i.Weight,
                        FillColor = Palette[d % Palette.Length],
                        Orientation = Orientation.Horizontal,
                    };
                })
                .ToList();
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(
                new LegendItem { LabelText = dimension, FillColor = Palette[d % Palette.Length] }
            );
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray(),
            [.. labels]
        );
        plot.Axes.Margins(left: 0, bottom: 0.02, top: 0.02);
        plot.ShowLegend(Alignment.LowerRight);
        UseFontFor(plot, labels.Concat(weights.Dimensions.Select(d => d.Dimension)));
        return plot;
    }

    private static Plot? Scatter(StudyReport report, int width, int height)
    {
        var cities = report.Cities.Where(c => c.Projection is { Ratio: > 0 } && c.Rescity > 0).ToList();
        if (cities.Count == 0)
            return null;
        var plot = NewPlot("Export resilience against urban resilience, by city tier", "LnRescity", "LnResexport");
        var tiers = cities.Select(c => c.Tier).Distinct().ToList();
        MarkerShape[] shapes =
        [
            MarkerShape.FilledCircle,
            MarkerShape.FilledSquare,
            MarkerShape.FilledDiamond,
            MarkerShape.FilledTriangleUp,
            MarkerShape.Cross,
        ];
        for (int t = 0; t < tiers.Count; t++)
        {
            var mine = cities.Where(c => c.Tier == tiers[t]).ToList();
            var points = plot.Add.ScatterPoints(
                mine.Select(c => Math.Log(c.Rescity)).ToArray(),
                mine.Select(c => Math.Log(c.Projection.Ratio)).ToArray()
            );
            points.LegendText = "tier: " + tiers[t];
            points.Color = Palette[t % Palette.Length];
            points.MarkerShape = shapes[t % shapes.Length];
            points.MarkerSize = 8;
        }
        var line = report
            .Tables.FirstOrDefault(t => t.Id == "baseline")
            ?.Models.FirstOrDefault(m => m.Fit?.Coefficients.Count == 2 && m.Spec.Regressors.Count == 1);
        if (line is not null)
        {
            double lo = cities.Min(c => Math.Log(c.Rescity)),
                hi = cities.Max(c => Math.Log(c.Rescity));
            double a = line.Fit.Coefficients[1].Estimate,
                b = line.Fit.Coefficients[0].Estimate;
            var fit = plot.Add.Line(lo, a + b * lo, hi, a + b * hi);
            fit.Color = Colors.Black;
            fit.LineWidth = 2;
            fit.LegendText = $"OLS fit, baseline {line.Spec.Label}";
        }
        plot.ShowLegend(Alignment.UpperLeft);
        AddCityLabels(
            plot,
            cities.Select(c => (c.Name, Math.Log(c.Rescity), Math.Log(c.Projection.Ratio))).ToList(),
            width,
            height
        );
        return plot;
    }

    /// <summary>
    /// Each city's name beside its marker where it overlaps no other name or marker
    /// (<see cref="LabelPlacement"/>); the plot is laid out once at its final size to learn
    /// where the points fall, and its axes are then kept as they are.
    /// </summary>
    private static void AddCityLabels(
        Plot plot,
        IReadOnlyList<(string Name, double X, double Y)> cities,
        int width,
        int height
    )
    {
        const float FontSize = 9,
            Gap = 6,
            MarkerRadius = 5;
        UseFontFor(plot, cities.Select(c => c.Name));
        plot.GetSvgXml(width, height);
        plot.Axes.SetLimits(plot.Axes.GetLimits());
        var data = plot.LastRender.DataRect;
        var labels = cities
            .Select(c =>
            {
                var pixel = plot.GetPixel(new Coordinates(c.X, c.Y));
                var (w, h) = LabelPlacement.Size(c.Name, FontSize);
                return (c, Label: (X: (double)pixel.X, Y: (double)pixel.Y, Width: w, Height: h));
            })
            .ToList();
        var spots = LabelPlacement.Place(
            labels.Select(l => l.Label).ToList(),
            new LabelPlacement.Box(data.Left, data.Top, data.Right, data.Bottom),
            MarkerRadius,
            Gap
        );
        for (int i = 0; i < labels.Count; i++)
        {
            if (spots[i] == LabelPlacement.Spot.None)
                continue;
            var (c, _) = labels[i];
            var text = plot.Add.Text(c.Name, c.X, c.Y);
            text.LabelFontSize = FontSize;
            (text.LabelAlignment, text.OffsetX, text.OffsetY) = spots[i] switch
            {
                LabelPlacement.Spot.Above => (Alignment.LowerCenter, 0f, -Gap),
                LabelPlacement.Spot.Below => (Alignment.UpperCenter, 0f, Gap),
                LabelPlacement.Spot.Right => (Alignment.MiddleLeft, Gap, 0f),
                _ => (Alignment.MiddleRight, -Gap, 0f),
            };
        }
    }

    private static (Plot? Plot, int Rows) Coefficients(StudyReport report)
    {
        // One scale: the models of the study's outcome (report.html has a panel per dependent variable).
        var all = report
            .Tables.Where(t => t.Id != "weights")
            .SelectMany(t => t.Models.Where(m => m.Fit?.Coefficients.Count > 0).Select(m => (t, m)))
            .ToList();
        string? outcome = report.Manifest?.Spec?.Outcome is { Length: > 0 } o
            ? o
            : all.GroupBy(x => x.m.Spec.Dependent).MaxBy(g => g.Count())?.Key;
        var models = all.Where(x => x.m.Spec.Dependent == outcome).ToList();
        if (models.Count == 0)
            return (null, 0);
        var plot = NewPlot(
            $"Main coefficient of every {outcome} model (95% CI)",
            "estimate",
            ""
        );
        var dependents = models.Select(x => x.m.Spec.Dependent).Distinct().ToList();
        int n = models.Count;
        for (int i = 0; i < n; i++)
        {
            var (t, m) = models[i];
            var c = m.Fit.Coefficients[0];
            double y = n - 1 - i;
            var colour = Palette[dependents.IndexOf(m.Spec.Dependent) % Palette.Length];
            var bar = plot.Add.Line(c.CiLow, y, c.CiHigh, y);
            bar.Color = colour;
            bar.LineWidth = 2;
            var point = plot.Add.Marker(c.Estimate, y);
            point.Color = colour;
            point.Size = 9;
        }
        var zero = plot.Add.VerticalLine(0);
        zero.Color = Colors.Gray;
        zero.LinePattern = LinePattern.Dotted;
        var rowLabels = models.Select(x => $"{x.t.Id} {x.m.Spec.Label}: {x.m.Fit.Coefficients[0].Term}").ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(),
            rowLabels
        );
        UseFontFor(plot, rowLabels);
        plot.Axes.Margins(left: 0.05, right: 0.05, bottom: 0.03, top: 0.03);
        return (plot, n);
    }

    private static Plot? Curve(StudyReport report)
    {
        if (report.Multiverse is not { Specifications.Count: > 0 } m)
            return null;
        var fitted = m
            .Specifications.Where(s => s.Error.Length == 0)
            .OrderBy(s => s.Estimate)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .ToList();
        if (fitted.Count == 0)
            return null;
        var plot = NewPlot(
            $"Specification curve: {m.Term} across {fitted.Count:N0} specifications (dependent: {m.Dependent})",
            "specifications, sorted by estimate",
            $"estimate of {m.Term} (95% CI)"
        );
        var xs = Enumerable.Range(0, fitted.Count).Select(i => (double)i).ToArray();
        var band = plot.Add.FillY(xs, fitted.Select(s => s.CiLow).ToArray(), fitted.Select(s => s.CiHigh).ToArray());
        band.FillColor = Palette[4].WithAlpha(0.35);
        band.LineWidth = 0;
        band.LegendText = "95% CI";
        var line = plot.Add.ScatterLine(xs, fitted.Select(s => s.Estimate).ToArray());
        line.Color = Palette[0];
        line.LineWidth = 2;
        line.LegendText = "estimate";
        int baseline = fitted.FindIndex(s => s.Baseline);
        if (baseline >= 0)
        {
            var marker = plot.Add.Marker(baseline, fitted[baseline].Estimate, MarkerShape.FilledDiamond, 12);
            marker.Color = Palette[5];
            marker.LegendText = "the paper's specification";
        }
        var zero = plot.Add.HorizontalLine(0);
        zero.Color = Colors.Gray;
        zero.LinePattern = LinePattern.Dotted;
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot? Ratios(StudyReport report)
    {
        var cities = report.Cities.Where(c => c.Projection?.Monthly.Count > 0).ToList();
        if (cities.Count == 0)
            return null;
        var periods = cities[0].Projection.Monthly.Select(p => p.Period).ToList();
        var plot = NewPlot(
            "Actual / expected exports, every city (vermilion: never recovers)",
            "month",
            "ratio"
        );
        foreach (var c in cities)
        {
            var ys = c.Projection.Monthly.Select(p => p.Ratio).ToArray();
            var line = plot.Add.ScatterLine(Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), ys);
            bool censored = c.Projection.Recovery.Status == Contracts.Projection.V1.RecoveryStatus.Censored;
            line.Color = censored ? Palette[5] : Palette[0].WithAlpha(0.45);
            line.LineWidth = censored ? 2 : 1;
        }
        var one = plot.Add.HorizontalLine(1);
        one.Color = Colors.Black;
        int step = Math.Max(1, periods.Count / 8);
        var ticks = Enumerable.Range(0, periods.Count).Where(i => i % step == 0).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(i => (double)i).ToArray(),
            ticks.Select(i => periods[i]).ToArray()
        );
        return plot;
    }
}

/// <summary>
/// The font for a figure's text: the figures' own when it has every glyph, else the first
/// installed family that has them all (a CJK font for Chinese city names, such as the Arphic
/// fonts of Debian's fonts-arphic-*). ScottPlot leaves out each character its font lacks, and
/// SkiaSharp's own fallback (<c>Fonts.Detect</c>) finds no font for Han characters here, so a
/// Chinese name used to vanish from fig-scatter.svg.
/// </summary>
internal static class LabelFonts
{
    /// <summary>Families tried first, plain text faces before the rest (the Arphic Kai face is calligraphic).</summary>
    private static readonly string[] Preferred =
    [
        "Noto Serif CJK SC",
        "Noto Sans CJK SC",
        "Source Han Serif SC",
        "Source Han Sans SC",
        "AR PL UMing CN",
        "AR PL SungtiL GB",
        "WenQuanYi Micro Hei",
        "Droid Sans Fallback",
    ];

    private static readonly Lazy<SkiaSharp.SKTypeface[]> Installed = new(() =>
        SkiaSharp
            .SKFontManager.Default.FontFamilies.OrderBy(f => Array.IndexOf(Preferred, f) is var i and >= 0 ? i : Preferred.Length)
            .ThenBy(f => f, StringComparer.Ordinal)
            .Select(f => SkiaSharp.SKTypeface.FromFamilyName(f))
            .Where(t => t is not null && !string.IsNullOrEmpty(t.FamilyName))
            .ToArray()
    );

    /// <summary>
    /// <paramref name="preferred"/> when it can set <paramref name="text"/>; else an installed family that can; else
    /// <paramref name="preferred"/>. Not cached by text: a study service sees every client's names, and a check
    /// costs a few milliseconds per figure.
    /// </summary>
    public static string For(string text, string preferred)
    {
        using var own = SkiaSharp.SKTypeface.FromFamilyName(preferred);
        if (own is not null && own.FamilyName == preferred && own.ContainsGlyphs(text))
            return preferred;
        return Installed.Value.FirstOrDefault(t => t.ContainsGlyphs(text))?.FamilyName ?? preferred;
    }
}
