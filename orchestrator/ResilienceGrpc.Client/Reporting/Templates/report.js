// report.html's figures (embedded into the page by HtmlReport, after `const DATA = ...`).
const config = { displaylogo: false, responsive: true };
const font = { family: 'Georgia, serif' };
// Okabe–Ito, distinguishable with every common colour-vision deficiency; the same list as the
// SVG figures (FigureFiles.PaletteHex), handed over in DATA.
const PALETTE = DATA.palette;
const colorway = PALETTE;
// Legends sit above the plot, clear of the axis titles.
const legendTop = { orientation: 'h', x: 0, y: 1.02, xanchor: 'left', yanchor: 'bottom' };
// 1. Weights by indicator, coloured by dimension.
Plotly.newPlot('fig-weights', DATA.dimensions.map(d => {
  const rows = DATA.weights.filter(w => w.dimension === d);
  return { type: 'bar', orientation: 'h', name: d, y: rows.map(r => r.id), x: rows.map(r => r.weight) };
}), { title: { text: 'Indicator weights by dimension', y: 0.98 }, font, colorway, margin: { l: 210, t: 90 }, xaxis: { title: { text: 'weight' } },
      yaxis: { automargin: true, categoryorder: 'trace' }, barmode: 'group', legend: legendTop }, config);
// 2. Baseline scatter with city labels and the fitted line: one trace (and legend entry) per tier.
const pts = DATA.cities.filter(c => c.lnResexport !== null);
const tiers = [...new Set(pts.map(c => c.tier))];
const traces = tiers.map((t, k) => {
  const mine = pts.filter(c => c.tier === t);
  return { type: 'scatter', mode: 'markers+text', name: 'tier: ' + t, x: mine.map(c => c.lnRescity), y: mine.map(c => c.lnResexport),
           text: mine.map(c => c.name), hovertext: mine.map(c => c.name), customdata: mine.map(c => c.name),
           textposition: 'top center', textfont: { size: 9 },
           marker: { size: 8, color: PALETTE[k % PALETTE.length], symbol: ['circle', 'square', 'diamond', 'triangle-up', 'cross'][k % 5] } };
});
if (DATA.fit) {
  const xs = pts.map(c => c.lnRescity), lo = Math.min(...xs), hi = Math.max(...xs);
  traces.push({ type: 'scatter', mode: 'lines', name: DATA.fit.label, x: [lo, hi], y: [DATA.fit.intercept + DATA.fit.slope * lo, DATA.fit.intercept + DATA.fit.slope * hi], line: { color: '#000' } });
}
Plotly.newPlot('fig-scatter', traces, { title: { text: 'Export resilience against urban resilience, by city tier', y: 0.98 }, font, margin: { t: 90 },
  xaxis: { title: { text: 'LnRescity' } }, yaxis: { title: { text: 'LnResexport' } }, showlegend: true, legend: legendTop }, config)
  .then(gd => { placeLabels(gd); gd.on('plotly_relayout', () => placeLabels(gd)); });
// City names where they overlap no other name or marker: above the point, else below, right or
// left; a name with no free spot is left out (its point still names the city on hover). The same
// rule as the static figure (LabelPlacement.cs), on the drawn axes, again after every zoom.
function placeLabels(gd) {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, size = 9, gap = 6, radius = 5;
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = size + 'px ' + font.family;
  const items = [];
  gd.data.forEach((tr, ti) => {
    if (tr.mode !== 'markers+text') return;
    tr.customdata.forEach((name, i) => items.push({ ti, i, name, x: xa.l2p(tr.x[i]), y: ya.l2p(tr.y[i]),
      w: ctx.measureText(name).width + 2, h: 1.25 * size }));
  });
  const overlaps = (a, b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
  const inside = a => a.l >= 0 && a.t >= 0 && a.r <= xa._length && a.b <= ya._length;
  const spots = [['top center', (p) => ({ l: p.x - p.w / 2, t: p.y - gap - p.h, r: p.x + p.w / 2, b: p.y - gap })],
                 ['bottom center', (p) => ({ l: p.x - p.w / 2, t: p.y + gap, r: p.x + p.w / 2, b: p.y + gap + p.h })],
                 ['middle right', (p) => ({ l: p.x + gap, t: p.y - p.h / 2, r: p.x + gap + p.w, b: p.y + p.h / 2 })],
                 ['middle left', (p) => ({ l: p.x - gap - p.w, t: p.y - p.h / 2, r: p.x - gap, b: p.y + p.h / 2 })]];
  const markers = items.map(p => ({ l: p.x - radius, t: p.y - radius, r: p.x + radius, b: p.y + radius }));
  const placed = [];
  const text = gd.data.map(tr => tr.customdata ? tr.customdata.map(() => '') : null);
  const position = gd.data.map(tr => tr.customdata ? tr.customdata.map(() => 'top center') : null);
  items.forEach((p, k) => {
    for (const [where, at] of spots) {
      const box = at(p);
      if (!inside(box) || placed.some(b => overlaps(b, box)) || markers.some((m, j) => j !== k && overlaps(m, box))) continue;
      placed.push(box);
      text[p.ti][p.i] = p.name;
      position[p.ti][p.i] = where;
      break;
    }
  });
  const labelled = gd.data.map((tr, ti) => ti).filter(ti => gd.data[ti].customdata);
  if (labelled.length === 0) { gd.dataset.labelsPlaced = '0'; return; }
  Plotly.restyle(gd, { text: labelled.map(ti => text[ti]), textposition: labelled.map(ti => position[ti]) }, labelled)
    .then(() => { gd.dataset.labelsPlaced = String(placed.length); });
}
// 3. Coefficient plot with 95% intervals: one panel per dependent variable (their scales differ).
const groups = [...new Set(DATA.coefficients.map(c => c.dependent))];
const total = DATA.coefficients.length, gap = 0.08;
// Each panel's title is an annotation just above its own plotting area (an x-axis title
// would sit under the panel, where it reads as the next panel's title).
let yTop = 0.97, coTraces = [], coLayout = { font, margin: { l: 330, t: 40 }, height: Math.max(420, 34 * total + 120 * groups.length), showlegend: false, shapes: [], annotations: [] };
groups.forEach((g, k) => {
  const co = DATA.coefficients.filter(c => c.dependent === g).reverse();
  const h = (0.97 - gap * (groups.length - 1)) * co.length / total, bottom = Math.max(0, yTop - h);
  const ax = k === 0 ? '' : String(k + 1);
  coTraces.push({ type: 'scatter', mode: 'markers', xaxis: 'x' + ax, yaxis: 'y' + ax, x: co.map(c => c.estimate), y: co.map(c => c.label),
    error_x: { type: 'data', symmetric: false, array: co.map(c => c.high - c.estimate), arrayminus: co.map(c => c.estimate - c.low) },
    marker: { size: 9, color: PALETTE[0] } });
  coLayout['yaxis' + ax] = { domain: [bottom, yTop], anchor: 'x' + ax, automargin: true };
  coLayout['xaxis' + ax] = { anchor: 'y' + ax, zeroline: true, title: { text: 'estimate, 95% CI', standoff: 4 } };
  coLayout.annotations.push({ xref: 'paper', x: 0, xanchor: 'left', yref: 'paper', y: yTop, yanchor: 'bottom', showarrow: false,
    text: '<b>dependent: ' + g + '</b>', font: { size: 13 } });
  coLayout.shapes.push({ type: 'line', xref: 'x' + ax, yref: 'y' + ax + ' domain', x0: 0, x1: 0, y0: 0, y1: 1, line: { dash: 'dot', color: '#888' } });
  yTop = bottom - gap;
});
Plotly.newPlot('fig-coefficients', coTraces, coLayout, config);
// 4. The specification curve: sorted estimates with 95% bars above, the choice panel below.
if (DATA.curve) {
  const C = DATA.curve, n = C.estimate.length, ranks = [...Array(n).keys()];
  const colour = ranks.map(i => i === C.baseline ? PALETTE[5] : C.significant[i] ? PALETTE[0] : '#999999');
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
  if (c.dip) { shapes.push({ type: 'line', x0: c.dip, x1: c.dip, yref: 'paper', y0: 0, y1: 1, line: { color: PALETTE[5], dash: 'dash' } }); }
  if (c.recovery) { shapes.push({ type: 'line', x0: c.recovery, x1: c.recovery, yref: 'paper', y0: 0, y1: 1, line: { color: PALETTE[2], width: 2 } });
                    annotations.push({ x: c.recovery, yref: 'paper', y: 1, text: 'recovered after ' + c.months + ' months', showarrow: false, yanchor: 'bottom' }); }
  if (c.status === 'censored') annotations.push({ xref: 'paper', x: 1, yref: 'paper', y: 1, text: 'never recovers in the data (censored)', showarrow: false, xanchor: 'right', yanchor: 'bottom' });
  if (c.status === 'no dip') annotations.push({ xref: 'paper', x: 1, yref: 'paper', y: 1, text: 'never below expectation', showarrow: false, xanchor: 'right', yanchor: 'bottom' });
  Plotly.react('fig-monthly', [
    { type: 'scatter', mode: 'lines+markers', name: 'actual', x: c.periods, y: c.actual, line: { color: PALETTE[0] } },
    { type: 'scatter', mode: 'lines', name: 'expected', x: c.periods, y: c.expected, line: { color: '#555', dash: 'dot' } }],
    { title: { text: c.name + ': monthly exports, actual and expected', y: 0.98 }, font, shapes, annotations, margin: { t: 90 },
      xaxis: { title: { text: 'month' } }, yaxis: { title: { text: 'exports (' + DATA.exportsUnit + ' per month)' } }, legend: legendTop }, config);
}
select.addEventListener('change', e => drawCity(e.target.value));
if (select.options.length > 0) drawCity(select.options[0].value);
// 6. Every city's ratio path against 1.
Plotly.newPlot('fig-ratios', DATA.cities.filter(c => c.periods.length > 0).map(c => ({ type: 'scatter', mode: 'lines', name: c.name, x: c.periods, y: c.ratio,
  line: { width: 1, color: c.status === 'censored' ? PALETTE[5] : 'rgba(0,114,178,0.45)' } })),
  { title: { text: 'Actual / expected exports, every city (vermilion: never recovers)' }, font, showlegend: false, xaxis: { title: { text: 'month' } },
    shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 1, y1: 1, line: { color: '#000' } }], yaxis: { title: { text: 'ratio' } } }, config);
