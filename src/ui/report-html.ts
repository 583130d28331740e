// The report's one HTML file: the summary table rendered here, the charts drawn in the page by the
// inlined vega builds and chart-spec.ts from the inlined data (so the smoothing slider works offline).
import type { RunSummary } from './run-summary.ts';

export interface ReportPage {
  runs: readonly RunSummary[];
  keys: readonly string[];
  pairs: Record<string, Record<string, [number, number | null][]>>;
  smoothing: number;
  /** key -> the base name of its .svg and .png next to the page */
  files: Record<string, string>;
  storePath: string;
  /** classic scripts inlined in order: vega, vega-lite, vega-embed, chart-spec (global flowlmCharts) */
  scripts: readonly string[];
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
// text inside <script> must not close it or open a comment the parser honours
const inlineScript = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const inlineJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toPrecision(5));
const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${(s / 3600).toFixed(1)} h`;
}

function summaryTable(runs: readonly RunSummary[]): string {
  const rows = runs.map((r) => {
    const params = Object.entries(r.params)
      .map(([k, v]) => `${k}=${text(v)}`)
      .join(' ');
    const finals = Object.entries(r.final)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(', ');
    return `<tr data-run="${esc(r.id)}"><td>${esc(r.name)}</td><td class="muted">${esc(r.id)}</td>
<td class="status-${esc(r.status)}"${r.error ? ` title="${esc(r.error)}"` : ''}>${esc(r.status)}</td>
<td>${esc(new Date(r.startedAt).toISOString())}</td><td>${duration(r.durationMs)}</td>
<td class="params">${esc(params)}</td><td>${esc(finals)}</td><td>${r.lastStep < 0 ? '–' : r.lastStep}</td></tr>`;
  });
  return `<table id="runs"><thead><tr><th>name</th><th>id</th><th>status</th><th>started (UTC)</th><th>duration</th>
<th>params</th><th>final losses</th><th>last step</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

const CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
.muted { color: #777; } table { border-collapse: collapse; margin: 1em 0; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #fafafa; } td.params { font-family: ui-monospace, monospace; font-size: 12px; max-width: 36em; }
.status-finished { color: #080; } .status-failed, .status-killed { color: #b00; } .status-running { color: #06c; }
#charts { display: flex; flex-wrap: wrap; gap: 1em; } .chart { border: 1px solid #eee; padding: 0.5em; }
.files { font-size: 12px; }`;

// runs in the page: draws every chart (again when the slider moves); window.__flowlmViews: key -> View
const PAGE_JS = `(function () {
  var D = JSON.parse(document.getElementById('flowlm-data').textContent);
  var C = window.flowlmCharts;
  var labels = D.runs.map(function (r) { return r.label; });
  window.__flowlmViews = {};
  async function render(w) {
    for (var key of D.keys) {
      var series = D.runs.filter(function (r) { return D.pairs[r.id][key]; })
        .map(function (r) { return { runId: r.id, label: r.label, points: D.pairs[r.id][key] }; });
      var spec = C.chartSpec(key, C.chartRows(series, w), { smoothing: w, labels: labels });
      var old = window.__flowlmViews[key];
      if (old) old.finalize();
      var div = document.querySelector('.chart[data-key="' + CSS.escape(key) + '"] .plot');
      var res = await vegaEmbed(div, spec, { renderer: 'svg', actions: false });
      window.__flowlmViews[key] = res.view;
    }
    document.body.dataset.rendered = String(w);
  }
  var slider = document.getElementById('smoothing');
  slider.addEventListener('input', function () {
    document.getElementById('smoothing-value').textContent = Number(slider.value).toFixed(2);
    render(Number(slider.value));
  });
  render(D.smoothing);
})();`;

export function reportHtml(p: ReportPage): string {
  const title = p.runs.length === 1 ? `flowlm report: ${p.runs[0]!.label}` : `flowlm report: ${p.runs.length} runs`;
  const charts = p.keys
    .map((k) => {
      const f = encodeURIComponent(p.files[k]!);
      return `<div class="chart" data-key="${esc(k)}"><div class="plot"></div>
<div class="files"><a href="${f}.svg">${esc(p.files[k]!)}.svg</a> · <a href="${f}.png">${esc(p.files[k]!)}.png</a></div></div>`;
    })
    .join('\n');
  const data = { runs: p.runs, keys: p.keys, pairs: p.pairs, smoothing: p.smoothing };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${CSS}</style>
${p.scripts.map((s) => `<script>${inlineScript(s)}</script>`).join('\n')}
</head><body>
<h1>${esc(title)}</h1>
<p class="muted">from the run store ${esc(p.storePath)}, written ${esc(new Date().toISOString())}</p>
${summaryTable(p.runs)}
<p><label>smoothing <input id="smoothing" type="range" min="0" max="0.99" step="0.01" value="${p.smoothing}">
<output id="smoothing-value">${p.smoothing.toFixed(2)}</output></label></p>
<section id="charts">
${charts || '<p class="muted">No metrics were recorded for these runs.</p>'}
</section>
<script type="application/json" id="flowlm-data">${inlineJson(data)}</script>
<script>${inlineScript(PAGE_JS)}</script>
</body></html>
`;
}
