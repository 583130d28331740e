// flowlm ui's page: the runs table, the selected runs' charts overlaid (one per metric key; specs from
// chart-spec.ts, served with its types stripped), a smoothing slider, and live updates: every second the
// runs are listed again and a running run's new points fetched (/api/metrics?after=its last step).
// Plain JavaScript, no build step. window.__flowlmViews maps each key to its vega View (the tests read it).
import { DATASET, DEFAULT_SMOOTHING, chartRows, chartSpec, orderKeys } from '/chart-spec.js';

const POLL_MS = 1000;
const $ = (sel) => document.querySelector(sel);
const state = {
  runs: [],
  selected: new Set(),
  /** run id -> { key -> [[step, value], ...] } */
  points: new Map(),
  /** run id -> the status when its points were last fetched */
  fetchedStatus: new Map(),
  smoothing: DEFAULT_SMOOTHING,
  /** key -> { div, view } */
  charts: new Map(),
  firstLoad: true,
};
window.__flowlmViews = {};

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `${url}: HTTP ${res.status}`);
  return body;
}

const fmtTime = (ms) => new Date(ms).toLocaleString();
function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
const fmtNum = (v) => (v === null || v === undefined ? '–' : Number(v).toPrecision(5));
const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/** The params that tell runs of one command apart: differing values, or given to some runs only
 * (all of them when a command has one run). */
function varyingParams(runs) {
  const out = new Set();
  for (const command of new Set(runs.map((r) => r.command))) {
    const same = runs.filter((r) => r.command === command);
    for (const k of new Set(same.flatMap((r) => Object.keys(r.params))))
      if (same.length < 2 || new Set(same.map((r) => JSON.stringify(r.params[k]))).size > 1)
        out.add(`${command}\0${k}`);
  }
  return out;
}

function renderTable() {
  const body = $('#runs tbody');
  const varying = varyingParams(state.runs);
  body.replaceChildren(
    ...state.runs.map((r) => {
      const box = el('input', {
        type: 'checkbox',
        'aria-label': `compare ${r.label}`,
        onchange: (ev) => {
          if (ev.target.checked) state.selected.add(r.id);
          else state.selected.delete(r.id);
          void update({ relayout: true });
        },
      });
      box.checked = state.selected.has(r.id);
      // the params that tell the runs apart are shown; every param is in the cell's tooltip
      const all = Object.entries(r.params).map(([k, v]) => `${k}=${text(v)}`);
      const params = Object.entries(r.params)
        .filter(([k]) => varying.has(`${r.command}\0${k}`))
        .map(([k, v]) => `${k}=${text(v)}`)
        .join(' ');
      const finals = Object.entries(r.final)
        .map(([k, v]) => `${k} ${fmtNum(v)}`)
        .join(', ');
      return el(
        'tr',
        { 'data-run': r.id, class: state.selected.has(r.id) ? 'selected' : '' },
        el('td', {}, box),
        el(
          'td',
          {},
          el('a', { href: '#', title: 'details', onclick: (ev) => (ev.preventDefault(), void showRun(r.id)) }, r.name),
        ),
        el('td', { class: 'muted' }, r.id.slice(0, 8)),
        el('td', { class: `status-${r.status}`, title: r.error ?? '' }, r.status),
        el('td', {}, fmtTime(r.startedAt)),
        el('td', { class: 'num' }, fmtDuration(r.durationMs)),
        el('td', { class: 'params', title: all.join('\n') }, params.length > 240 ? `${params.slice(0, 240)}…` : params),
        el('td', { class: 'num' }, finals),
      );
    }),
  );
  $('#empty').hidden = state.runs.length > 0;
}

/** The run's details (/api/runs/:id): command line, config, environment, artifacts. */
async function showRun(id) {
  const run = await getJson(`/api/runs/${encodeURIComponent(id)}`);
  const artifacts = run.artifacts.map((a) => `${a.kind}\t${a.path}${a.bytes === null ? '' : `  (${a.bytes} bytes)`}`);
  $('#details-title').textContent = `${run.label}: ${run.status}${run.error ? ` (${run.error})` : ''}`;
  $('#details-body').textContent = [
    `flowlm ${run.command} ${run.argv.join(' ')}`,
    `host ${run.host}, pid ${run.pid}, git ${run.git.commit ?? '-'}${run.git.dirty ? ' (dirty)' : ''}`,
    `run directory ${run.runDir ?? '-'}`,
    '',
    'artifacts:',
    ...(artifacts.length ? artifacts : ['  (none)']),
    '',
    'environment:',
    JSON.stringify(run.env, null, 2),
    '',
    'config:',
    JSON.stringify(run.config, null, 2),
  ].join('\n');
  $('#details').hidden = false;
}
$('#details-close').addEventListener('click', () => {
  $('#details').hidden = true;
});

/** Fetches what is missing of the selected runs' points; true when anything new arrived. */
async function fetchPoints() {
  let changed = false;
  for (const run of state.runs) {
    if (!state.selected.has(run.id)) continue;
    const have = state.points.get(run.id);
    const seen = state.fetchedStatus.get(run.id);
    // a run that ended since the last fetch is fetched whole once: nothing written late is missed
    const whole = !have || (seen === 'running' && run.status !== 'running');
    if (!whole && run.status !== 'running') continue;
    let last = -1;
    if (!whole) for (const pts of Object.values(have)) last = Math.max(last, pts.at(-1)?.[0] ?? -1);
    // the last step again: another key (val/loss) may be written at that step after this one was read
    const after = whole ? -1 : last - 1;
    const { runs } = await getJson(`/api/metrics?runs=${encodeURIComponent(run.id)}&after=${after}`);
    const fresh = runs[run.id] ?? {};
    state.fetchedStatus.set(run.id, run.status);
    if (whole) {
      state.points.set(run.id, fresh);
      changed = true;
      continue;
    }
    for (const [key, pts] of Object.entries(fresh)) {
      const old = have[key] ?? [];
      const byStep = new Map(old.map((p) => [p[0], p]));
      let grew = false;
      for (const p of pts) {
        const o = byStep.get(p[0]);
        if (!o || o[1] !== p[1]) grew = true;
        byStep.set(p[0], p);
      }
      if (grew) {
        have[key] = [...byStep.values()].sort((a, b) => a[0] - b[0]);
        changed = true;
      }
    }
  }
  return changed;
}

async function renderCharts(relayout) {
  const runs = state.runs.filter((r) => state.selected.has(r.id) && state.points.has(r.id));
  const keys = orderKeys(runs.flatMap((r) => Object.keys(state.points.get(r.id))));
  const labels = runs.map((r) => r.label);
  const container = $('#charts');
  for (const [key, chart] of state.charts)
    if (relayout || !keys.includes(key)) {
      chart.view.finalize();
      chart.div.remove();
      state.charts.delete(key);
      delete window.__flowlmViews[key];
    }
  for (const key of keys) {
    const series = runs.flatMap((r) => {
      const points = state.points.get(r.id)[key];
      return points ? [{ runId: r.id, label: r.label, points }] : [];
    });
    const rows = chartRows(series, state.smoothing);
    const chart = state.charts.get(key);
    if (chart) {
      await chart.view.data(DATASET, rows).runAsync();
      continue;
    }
    const div = el('div', { class: 'chart', 'data-key': key });
    container.append(div);
    const spec = chartSpec(key, rows, { smoothing: state.smoothing, labels });
    const { view } = await vegaEmbed(div, spec, { renderer: 'svg', actions: false });
    state.charts.set(key, { div, view });
    window.__flowlmViews[key] = view;
  }
  // keep the charts in key order when a new key appeared among existing ones
  for (const key of keys) container.append(state.charts.get(key).div);
}

let busy = false;
let pending = false;
async function update({ relayout = false } = {}) {
  if (busy) {
    pending ||= relayout;
    return;
  }
  busy = true;
  try {
    const { store, runs } = await getJson('/api/runs');
    $('#store').textContent = store;
    state.runs = runs;
    // on load, the newest run with metrics (a prep or eval run may have none)
    const first = runs.find((r) => r.keys.length > 0) ?? runs[0];
    if (state.firstLoad && first) state.selected.add(first.id);
    state.firstLoad = false;
    for (const id of state.selected) if (!runs.some((r) => r.id === id)) state.selected.delete(id);
    renderTable();
    const changed = await fetchPoints();
    if (changed || relayout) await renderCharts(relayout);
    const live = runs.filter((r) => r.status === 'running').length;
    $('#live').textContent = live ? `${live} running, updating every ${POLL_MS / 1000} s` : '';
    $('#error').hidden = true;
    document.body.dataset.updated = String(Date.now());
  } catch (err) {
    $('#error').textContent = `cannot update: ${err.message} (is flowlm ui still running?)`;
    $('#error').hidden = false;
  } finally {
    busy = false;
  }
  if (pending) {
    pending = false;
    await update({ relayout: true });
  }
}

const slider = $('#smoothing');
slider.value = String(state.smoothing);
slider.addEventListener('input', () => {
  state.smoothing = Number(slider.value);
  $('#smoothing-value').textContent = state.smoothing.toFixed(2);
  void update({ relayout: true });
});

async function poll() {
  await update();
  setTimeout(poll, POLL_MS);
}
void poll();
