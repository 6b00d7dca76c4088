using Microsoft.Playwright;
using ResilienceGrpc.Client.Reporting;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// report.html opened in a real browser (Debian's headless Chromium, driven by Playwright):
/// no console errors, no page errors, every figure drawn and visible. A screenshot is kept
/// in the test output folder (report.png).
/// </summary>
public class ReportBrowserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resilience-html-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    public static string Chromium => Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    [Fact]
    public async Task TheReportOpensInChromiumWithoutErrorsAndShowsEveryFigure()
    {
        Assert.True(
            File.Exists(Chromium),
            $"Chromium is needed at {Chromium} (Debian package 'chromium'; .ci/run installs it)."
        );
        var (exit, _, err) = await StudyCliTests.Run("study", "--out", _dir);
        Assert.True(exit == 0, err);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(
            new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args =
                [
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            }
        );
        var page = await browser.NewPageAsync(
            new BrowserNewPageOptions
            {
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            }
        );
        var problems = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
                problems.Add($"console {m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => problems.Add("page error: " + e);
        page.RequestFailed += (_, r) => problems.Add("request failed: " + r.Url);

        await page.GotoAsync(
            new Uri(Path.Combine(_dir, "report.html")).AbsoluteUri,
            new PageGotoOptions { WaitUntil = WaitUntilState.Load }
        );
        foreach (var id in HtmlReport.FigureIds)
        {
            var svg = page.Locator($"#{id} svg.main-svg").First;
            await svg.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 15000 });
            var box = await page.Locator($"#{id}").BoundingBoxAsync();
            Assert.True(
                box is { Width: > 300, Height: > 200 },
                $"{id} is not visibly drawn ({box?.Width}×{box?.Height})"
            );
            int marks = await page.EvaluateAsync<int>(
                $"Array.from(document.querySelectorAll('#{id} .trace path')).filter(p => (p.getAttribute('d') || '').length > 10).length"
            );
            Assert.True(marks > 0, $"{id} has no marks");
            // Each figure as its own image beside the test binaries, for a person to look at.
            await page.Locator($"#{id}")
                .ScreenshotAsync(
                    new LocatorScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, $"{id}.png") }
                );
        }
        Assert.True(await page.Locator("#synthetic-banner").IsVisibleAsync());

        // The figures' reported faults, checked on the drawn page:
        // the weights legend clears the x-axis title;
        Assert.True(
            await page.EvaluateAsync<bool>(
                """
                (() => {
                  const a = document.querySelector('#fig-weights .legend').getBoundingClientRect();
                  const b = document.querySelector('#fig-weights .g-xtitle').getBoundingClientRect();
                  return a.bottom <= b.top || b.bottom <= a.top || a.right <= b.left || b.right <= a.left;
                })()
                """
            ),
            "the weights legend overlaps the x-axis title"
        );
        // no two city names overlap on the scatter, and most cities are named;
        await page.WaitForSelectorAsync("#fig-scatter[data-labels-placed]");
        var names = await page.EvaluateAsync<double[][]>(
            "[...document.querySelectorAll('#fig-scatter .textpoint text')].filter(t => t.textContent.trim().length > 0).map(t => { const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
        );
        int cities = System
            .Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "results.json")))
            .RootElement.GetProperty("cities")
            .GetArrayLength();
        Assert.True(names.Length >= cities * 3 / 4, $"{names.Length} of {cities} cities named");
        for (int i = 0; i < names.Length; i++)
            for (int j = i + 1; j < names.Length; j++)
                Assert.False(
                    names[i][0] < names[j][2] - 0.5
                        && names[j][0] < names[i][2] - 0.5
                        && names[i][1] < names[j][3] - 0.5
                        && names[j][1] < names[i][3] - 0.5,
                    $"two city names overlap on the scatter: {string.Join(",", names[i])} and {string.Join(",", names[j])}"
                );
        // the scatter has one legend entry and one colour per tier;
        var tierColours = await page.EvaluateAsync<string[]>(
            "document.getElementById('fig-scatter').data.filter(t => t.name.startsWith('tier: ')).map(t => t.marker.color)"
        );
        int tiers = System
            .Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "results.json")))
            .RootElement.GetProperty("cities")
            .EnumerateArray()
            .Select(c => c.GetProperty("tier").GetString())
            .Distinct()
            .Count();
        Assert.True(tiers >= 3, $"{tiers} tiers");
        Assert.Equal(tiers, tierColours.Distinct().Count());
        Assert.True(
            await page.Locator("#fig-scatter .legend .traces").CountAsync() >= tiers,
            "a legend entry per tier"
        );
        // each coefficient panel's title sits between the panel above's tick labels and its own;
        Assert.True(
            await page.EvaluateAsync<bool>(
                """
                (() => {
                  const gd = document.getElementById('fig-coefficients');
                  const titles = [...gd.querySelectorAll('.annotation')].map(a => a.getBoundingClientRect());
                  const n = titles.length;
                  if (n < 2) return false;
                  for (let k = 0; k < n; k++) {
                    const ax = k === 0 ? 'y' : 'y' + (k + 1);
                    const ticks = [...gd.querySelectorAll('.' + ax + 'tick')].map(t => t.getBoundingClientRect());
                    if (ticks.length === 0) return false;
                    const top = Math.min(...ticks.map(t => t.top));
                    if (titles[k].bottom > top + 1) return false;
                    if (k > 0) {
                      const prev = 'y' + (k === 1 ? '' : k);
                      const above = [...gd.querySelectorAll('.' + prev + 'tick')].map(t => t.getBoundingClientRect());
                      if (titles[k].top < Math.max(...above.map(t => t.bottom)) - 1) return false;
                    }
                  }
                  return true;
                })()
                """
            ),
            "a coefficient panel's title is not just above its own panel"
        );
        // and the monthly chart says its unit.
        Assert.Contains(
            "million USD",
            await page.EvaluateAsync<string>("document.querySelector('#fig-monthly .g-ytitle').textContent")
        );
        // 9 paper tables + weighting robustness, the descriptive statistics, the specification-curve
        // summary, and the city table.
        Assert.Equal(12, await page.Locator("table.pub[id^=table-]").CountAsync() - 1);

        // The specification curve draws one bar (first trace) and one point (second) per fitted specification, the baseline among them.
        var results = System
            .Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "results.json")))
            .RootElement;
        var specifications = results.GetProperty("multiverse").GetProperty("specifications").EnumerateArray().ToList();
        int points = await page.EvaluateAsync<int>(
            "document.querySelectorAll('#fig-curve .trace.scatter')[1].querySelectorAll('.points path').length"
        );
        Assert.Equal(specifications.Count(s => s.GetProperty("error").GetString() == ""), points);
        int bars = await page.EvaluateAsync<int>(
            "document.querySelectorAll('#fig-curve .trace.scatter')[0].querySelectorAll('.errorbar').length"
        );
        Assert.Equal(points, bars);
        Assert.Single(specifications, s => s.GetProperty("baseline").GetBoolean());

        // Choosing another city redraws the monthly figure.
        var second = await page.Locator("#city-select option").Nth(1).GetAttributeAsync("value");
        await page.SelectOptionAsync("#city-select", second!);
        await page.WaitForFunctionAsync($"document.querySelector('#fig-monthly .gtitle').textContent.length > 0");

        await page.ScreenshotAsync(
            new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "report.png"), FullPage = true }
        );
        Assert.Empty(problems);
    }
}
