// labelscope live dashboard: plain ES module, no build step. Polls the aggregator's REST API and updates the
// page in place (no reload). Every number a test reads carries data-testid and, in data-value, the raw value.

import { groupByTaskModel, renderVersions, versionQuery, versionLabel, runOfShownVersion } from './versions.js';

const POLL_MS = 1500;
const Chart = window.Chart;

const METHOD_COLORS = {
  max_over_generations: '#4f9cf9',
  compare_to_none: '#f59e0b',
  hard_predictions: '#ef4444',
  first_step: '#a78bfa',
  unary_breakdown: '#ec4899',
  binary_breakdown: '#14b8a6',
  binary_outcome: '#0ea5e9',
};
const FALLBACK = ['#22c55e', '#eab308', '#06b6d4', '#f97316', '#8b5cf6', '#84cc16'];
const METHOD_NAMES = {
  max_over_generations: 'max over generations',
  compare_to_none: 'compare to none',
  hard_predictions: 'hard predictions',
  first_step: 'first-step softmax',
  unary_breakdown: 'unary breakdown',
  binary_breakdown: 'binary breakdown (Bradley–Terry)',
  binary_outcome: 'binary outcome (0/1 wins)',
};
const HUMAN_COLOR = '#10b981';
const INTERMEDIATE_COLOR = '#4f9cf9';
const LAST_COLOR = '#f59e0b';
const STEP_COLORS = ['#64748b', '#94a3b8', '#475569', '#cbd5e1', '#334155', '#a1a1aa'];

const $ = (id) => document.getElementById(id);
const state = { pair: null, pairs: [], version: null, shown: null, doc: null, run: null, refreshes: 0, charts: {}, hist: {} };

// ---- formatting ---------------------------------------------------------------------------------------------
const fmt = (v, d = 4) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const pct = (v) => (v === null || v === undefined ? '–' : (100 * v).toFixed(1) + '%');
const rate = (v) => (v === null || v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const int = (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const methodName = (m) => METHOD_NAMES[m] || m.replaceAll('_', ' ');
const methodColor = (m, i) => METHOD_COLORS[m] || FALLBACK[i % FALLBACK.length];
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortTime = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const slug = (s) => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');

function setNumber(el, text, raw) {
  el.textContent = text;
  el.dataset.value = raw === null || raw === undefined ? '' : String(raw);
}

function cell(tr, text, { testid, raw, cls = 'num', html } = {}) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  if (html !== undefined) td.innerHTML = html; else td.textContent = text;
  if (testid) td.dataset.testid = testid;
  if (raw !== undefined) td.dataset.value = raw === null ? '' : String(raw);
  tr.appendChild(td);
  return td;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const swatch = (color) => `<span class="swatch" style="background:${color}"></span>`;

async function fetchJson(url) {
  const r = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

// ---- theme --------------------------------------------------------------------------------------------------
function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const css = getComputedStyle(document.documentElement);
  Chart.defaults.color = css.getPropertyValue('--muted').trim();
  Chart.defaults.borderColor = css.getPropertyValue('--grid').trim();
  Object.values(state.charts).concat(Object.values(state.hist)).forEach((c) => {
    for (const axis of Object.values(c.options.scales || {})) {
      axis.grid = { ...(axis.grid || {}), color: Chart.defaults.borderColor };
      axis.ticks = { ...(axis.ticks || {}), color: Chart.defaults.color };
    }
    c.options.plugins.legend.labels.color = Chart.defaults.color;
    c.update('none');
  });
}
const savedTheme = localStorage.getItem('labelscope-theme');
const preferDark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.font.size = 11;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 10;
Chart.defaults.plugins.legend.labels.boxHeight = 10;
applyTheme(savedTheme || (preferDark ? 'dark' : 'light'));
$('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('labelscope-theme', next);
  applyTheme(next);
});

// ---- charts -------------------------------------------------------------------------------------------------
function lineChart(id, { min, max } = {}) {
  return new Chart($(id), {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      interaction: { mode: 'index', intersect: false },
      spanGaps: true,
      elements: { point: { radius: 2.5 }, line: { borderWidth: 2, tension: 0.25 } },
      scales: { y: { min, max, ticks: { maxTicksLimit: 5 } }, x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } } },
      plugins: { legend: { position: 'bottom', labels: {} }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y)}` } } },
    },
  });
}

function barChart(canvas, { yMax, yTitle, stacked = false, legend = true, tooltip } = {}) {
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: { min: 0, max: yMax, stacked, title: { display: !!yTitle, text: yTitle }, ticks: { maxTicksLimit: 5 } },
        x: { stacked, ticks: { maxRotation: 0, autoSkip: false } },
      },
      plugins: { legend: { display: legend, position: 'bottom', labels: {} }, tooltip: tooltip || {} },
    },
  });
}

state.charts.nll = lineChart('c-nll', { min: 0 });
state.charts.l1 = lineChart('c-l1', { min: 0 });
state.charts.f1 = lineChart('c-f1', { min: 0, max: 1 });
state.charts.entropy = barChart($('c-entropy'), { yTitle: 'bits' });
state.charts.rank = barChart($('c-rank'), { yMax: 100, yTitle: '%' });
state.charts.doc = barChart($('c-doc'), {
  yMax: 1, yTitle: 'probability',
  tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y === null ? '–' : fmt(c.parsed.y, 3)}` } },
});

/** Replace a chart's data in place, keeping dataset objects (and their hidden state) where labels match. */
function setData(chart, labels, datasets) {
  chart.data.labels = labels;
  const old = new Map(chart.data.datasets.map((d) => [d.label, d]));
  chart.data.datasets = datasets.map((d) => {
    const o = old.get(d.label);
    if (o) { Object.assign(o, d); return o; }
    return d;
  });
  chart.update('none');
}

// ---- task/model selection -----------------------------------------------------------------------------------
const pairKey = (p) => `${p.task}\u001f${p.model}`;
function readHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { task: h.get('task'), model: h.get('model'), version: h.get('version'), doc: h.get('doc') };
}
function writeHash() {
  const h = new URLSearchParams();
  if (state.pair) { h.set('task', state.pair.task); h.set('model', state.pair.model); }
  if (state.pair && state.version) h.set('version', state.version);
  if (state.doc) h.set('doc', state.doc);
  history.replaceState(null, '', '#' + h.toString());
}

function renderPairs(pairs) {
  const select = $('pair');
  const keys = pairs.map(pairKey);
  if (keys.join('\n') !== state.pairs.map(pairKey).join('\n')) {
    select.innerHTML = '';
    if (!pairs.length) select.innerHTML = '<option value="">waiting for data…</option>';
    for (const p of pairs) {
      const o = document.createElement('option');
      o.value = pairKey(p);
      select.appendChild(o);
    }
  }
  pairs.forEach((p, i) => { select.options[i].textContent = `${p.task} · ${p.model} — ${int(p.documents)} docs`; });
  state.pairs = pairs;
  if (!state.pair && pairs.length) {
    const wanted = readHash();
    state.version = wanted.version;
    state.pair = pairs.find((p) => p.task === wanted.task && p.model === wanted.model)
      || [...pairs].sort((a, b) => String(b.last_update).localeCompare(String(a.last_update)))[0];
    writeHash();
  }
  if (state.pair) select.value = pairKey(state.pair);
}
$('pair').addEventListener('change', (e) => {
  state.pair = state.pairs.find((p) => pairKey(p) === e.target.value) || null;
  state.version = null;
  writeHash();
  refreshNow();
});
$('version').addEventListener('change', (e) => {
  state.version = e.target.value || null;
  writeHash();
  refreshNow();
});

// ---- overview -----------------------------------------------------------------------------------------------
function renderOverview(ov) {
  const t = ov.throughput || {};
  setNumber($('kpi-dps'), rate(t.distributions_per_second), t.distributions_per_second);
  setNumber($('kpi-sps'), rate(t.step_events_per_second), t.step_events_per_second);
  setNumber($('kpi-lag'), int(t.records_lag), t.records_lag);
  setNumber($('kpi-aligned'), int(ov.counts.documents_aligned), ov.counts.documents_aligned);
  setNumber($('kpi-docs'), int(ov.counts.documents_with_distribution), ov.counts.documents_with_distribution);
  setNumber($('kpi-pending'), int(ov.counts.pending_runs), ov.counts.pending_runs);
  setNumber($('kpi-dead'), int(ov.counts.dead_letters ?? 0), ov.counts.dead_letters ?? 0);
  const st = $('state');
  st.textContent = ov.streams_state.toLowerCase();
  st.className = 'pill ' + (ov.streams_state === 'RUNNING' ? 'ok' : 'bad');
  renderPairs(groupByTaskModel(ov.pairs || []));
  // The selected task/model's own newest documents (the server keeps them per pair, so a quiet pair's list is
  // not crowded out by a busy one); all pairs' while nothing is selected yet.
  const selected = state.shown = renderVersions(state.pair && state.pairs.find((p) => pairKey(p) === pairKey(state.pair)), state.version);
  $('recent-hint').textContent = (selected ? `${selected.task} · ${selected.model} · ${versionLabel(selected.version)}` : 'all tasks and models')
    + ' · predicted = max over generations ≥ 0.5 · click to inspect';
  renderRecent(selected ? selected.recent_documents || [] : ov.recent_documents || []);
  renderDeadLetters(ov.dead_letters || {});
}

// Counted by the aggregator from the dead-letters topic, whoever rejected the record.
function renderDeadLetters(byType) {
  const types = Object.keys(byType).sort((a, b) => byType[b].count - byType[a].count || a.localeCompare(b));
  $('dead-empty').classList.toggle('hidden', types.length > 0);
  $('dead-table').classList.toggle('hidden', types.length === 0);
  const body = $('dead-table').tBodies[0];
  body.innerHTML = '';
  for (const type of types) {
    const t = byType[type];
    const tr = document.createElement('tr');
    cell(tr, type, { cls: 'mono', testid: `dead-${slug(type)}-type` });
    cell(tr, int(t.count), { testid: `dead-${slug(type)}-count`, raw: t.count });
    cell(tr, t.latest_reason, { cls: 'reason', testid: `dead-${slug(type)}-reason` });
    cell(tr, t.latest_source_topic, { cls: 'mono', testid: `dead-${slug(type)}-source` });
    cell(tr, t.latest_rejected_by, { cls: '' });
    cell(tr, time(t.latest_failed_at), { cls: 'hint' });
    body.appendChild(tr);
  }
}

function renderRecent(rows) {
  $('recent-empty').classList.toggle('hidden', rows.length > 0);
  $('recent-table').classList.toggle('hidden', rows.length === 0);
  const body = $('recent-table').tBodies[0];
  body.innerHTML = '';
  for (const r of rows) {
    const tr = document.createElement('tr');
    tr.className = 'clickable' + (r.document_id === state.doc ? ' selected' : '');
    tr.dataset.testid = `recent-${slug(r.document_id)}`;
    tr.addEventListener('click', () => openDocument(r.document_id));
    cell(tr, r.document_id, { cls: 'mono' });
    cell(tr, r.model, { cls: '' });
    cell(tr, r.annotators, { cls: 'num' });
    cell(tr, '', { cls: '', html: r.predicted.length ? r.predicted.map((l) => `<span class="tag">${escapeHtml(l)}</span>`).join('') : '<span class="hint">none</span>' });
    cell(tr, fmt(r.example_f1, 2), { raw: r.example_f1 });
    cell(tr, time(r.updated_at), { cls: 'hint' });
    body.appendChild(tr);
  }
}

// ---- alignment ----------------------------------------------------------------------------------------------
function pickWindow(windows) {
  const labels = [...new Set(windows.map((w) => w.window))];
  return labels.find((l) => /^PT1M\b/.test(l)) || labels.find((l) => l.includes('tumbling')) || labels[0];
}

function renderAlignment(al) {
  const allTime = (al && al.all_time) || {};
  const methods = Object.keys(allTime);
  const windows = (al && al.windows) || [];
  const label = pickWindow(windows);
  const ws = windows.filter((w) => w.window === label).sort((a, b) => a.window_start.localeCompare(b.window_start));
  $('align-window').textContent = label ? `per window (${label}) of generation time · all-time table below` : 'per window of generation time';
  const hasData = methods.some((m) => allTime[m].documents > 0);
  $('align-empty').classList.toggle('hidden', hasData);
  $('align-empty').textContent = methods.length ? 'waiting for annotations… (alignment needs annotators)' : 'waiting for data…';

  const x = ws.map((w) => shortTime(w.window_start));
  for (const [chart, field] of [[state.charts.nll, 'mean_nll'], [state.charts.l1, 'mean_l1'], [state.charts.f1, 'mean_example_f1']]) {
    setData(chart, x, methods.map((m, i) => ({
      label: methodName(m),
      data: ws.map((w) => (w.values[m] ? w.values[m][field] : null)),
      borderColor: methodColor(m, i), backgroundColor: methodColor(m, i),
    })));
  }

  const body = $('align-table').tBodies[0];
  body.innerHTML = '';
  for (const [i, m] of methods.entries()) {
    const v = allTime[m];
    const tr = document.createElement('tr');
    cell(tr, '', { cls: '', html: swatch(methodColor(m, i)) + escapeHtml(methodName(m)) });
    cell(tr, int(v.documents), { testid: `align-${m}-documents`, raw: v.documents });
    cell(tr, fmt(v.mean_nll), { testid: `align-${m}-nll`, raw: v.mean_nll });
    cell(tr, fmt(v.mean_l1), { testid: `align-${m}-l1`, raw: v.mean_l1 });
    cell(tr, fmt(v.mean_example_f1), { testid: `align-${m}-f1`, raw: v.mean_example_f1 });
    body.appendChild(tr);
  }
}

// ---- spikiness ----------------------------------------------------------------------------------------------
function stepCells(allTime) {
  const cells = [];
  for (const [key, v] of Object.entries(allTime || {})) {
    const m = /^(intermediate|last)\/(\d+)$/.exec(key);
    if (m) cells.push({ key, position: m[1], step: Number(m[2]), v });
  }
  return cells.sort((a, b) => a.step - b.step || a.position.localeCompare(b.position));
}

const BIN_LABELS = Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}`);

function histogramChart(step) {
  if (state.hist[step]) return state.hist[step];
  const fig = document.createElement('figure');
  fig.dataset.testid = `hist-step-${step}`;
  fig.innerHTML = `<figcaption>step r = ${step} <small id="hist-cap-${step}"></small></figcaption><div class="chart"><canvas></canvas></div>`;
  const grid = $('hist-grid');
  const after = [...grid.children].find((c) => Number(c.dataset.step) > step);
  fig.dataset.step = step;
  grid.insertBefore(fig, after || null);
  const chart = barChart(fig.querySelector('canvas'), {
    yMax: 100, yTitle: '% of steps',
    tooltip: { callbacks: { title: (items) => `top-1 in ${items[0].label}%`, label: (c) => `${c.dataset.label}: ${c.parsed.y.toFixed(1)}% (${c.dataset.counts[c.dataIndex]})` } },
  });
  chart.options.scales.x.title = { display: true, text: 'top-1 probability (%)' };
  chart.options.scales.x.ticks.autoSkip = true;
  state.hist[step] = chart;
  return chart;
}

function renderSpikiness(sp) {
  const allTime = (sp && sp.all_time) || {};
  const cells = stepCells(allTime);
  $('spik-empty').classList.toggle('hidden', cells.length > 0);
  const steps = [...new Set(cells.map((c) => c.step))];
  for (const s of Object.keys(state.hist)) {
    if (!steps.includes(Number(s))) {
      state.hist[s].canvas.closest('figure').remove();
      state.hist[s].destroy();
      delete state.hist[s];
    }
  }
  for (const step of steps) {
    const chart = histogramChart(step);
    const datasets = [];
    const caption = [];
    for (const [position, color] of [['intermediate', INTERMEDIATE_COLOR], ['last', LAST_COLOR]]) {
      const c = cells.find((x) => x.step === step && x.position === position);
      if (!c) continue;
      const h = c.v.top1_histogram || [];
      const n = h.reduce((a, b) => a + b, 0);
      caption.push(`${n} ${position}`);
      datasets.push({ label: position, data: h.map((k) => (n ? (100 * k) / n : 0)), counts: h, backgroundColor: color, borderRadius: 3 });
    }
    $(`hist-cap-${step}`).textContent = caption.join(' · ');
    setData(chart, BIN_LABELS, datasets);
  }

  setData(state.charts.entropy, steps.map((s) => `r = ${s}`), [['intermediate', INTERMEDIATE_COLOR], ['last', LAST_COLOR]].map(([position, color]) => ({
    label: position, backgroundColor: color, borderRadius: 3,
    data: steps.map((s) => { const c = cells.find((x) => x.step === s && x.position === position); return c ? c.v.entropy_bits.mean : null; }),
  })));

  const body = $('spik-table').tBodies[0];
  body.innerHTML = '';
  for (const c of cells) {
    const tr = document.createElement('tr');
    const id = `spik-${c.position}-${c.step}`;
    cell(tr, '', { cls: '', html: swatch(c.position === 'last' ? LAST_COLOR : INTERMEDIATE_COLOR) + `${c.step} · ${c.position}` });
    cell(tr, int(c.v.top1.n), { testid: `${id}-n`, raw: c.v.top1.n });
    cell(tr, fmt(c.v.top1.mean), { testid: `${id}-top1`, raw: c.v.top1.mean });
    cell(tr, fmt(c.v.top2.mean), { testid: `${id}-top2`, raw: c.v.top2.mean });
    cell(tr, fmt(c.v.entropy_bits.mean), { testid: `${id}-entropy`, raw: c.v.entropy_bits.mean });
    body.appendChild(tr);
  }
  renderRanking(cells, allTime.answer);
}

// ---- ranking statistics -------------------------------------------------------------------------------------
function renderRanking(cells, answer) {
  const ranked = cells.filter((c) => c.position === 'intermediate' && c.v.second_predicted_next_rate !== undefined);
  $('rank-empty').classList.toggle('hidden', ranked.length > 0);
  setData(state.charts.rank, ranked.map((c) => `r = ${c.step}`), [
    { label: '2nd predicted next', backgroundColor: INTERMEDIATE_COLOR, borderRadius: 3, data: ranked.map((c) => (c.v.second_predicted_next_rate === null ? null : 100 * c.v.second_predicted_next_rate)) },
    { label: 'never predicted (when not next)', backgroundColor: '#ef4444', borderRadius: 3, data: ranked.map((c) => (c.v.second_never_predicted_rate === null ? null : 100 * c.v.second_never_predicted_rate)) },
  ]);
  const body = $('rank-table').tBodies[0];
  body.innerHTML = '';
  for (const c of ranked) {
    const tr = document.createElement('tr');
    const id = `rank-${c.step}`;
    cell(tr, String(c.step), { cls: '' });
    cell(tr, int(c.v.intermediate_at_r1.n), { testid: `${id}-cases`, raw: c.v.intermediate_at_r1.n });
    cell(tr, pct(c.v.second_predicted_next_rate), { testid: `${id}-second-next`, raw: c.v.second_predicted_next_rate });
    cell(tr, pct(c.v.second_never_predicted_rate), { testid: `${id}-never`, raw: c.v.second_never_predicted_rate }).title = `of ${c.v.second_not_next} cases where it was not next`;
    cell(tr, fmt(c.v.r1_pred.mean, 3), { testid: `${id}-r1-pred`, raw: c.v.r1_pred.mean });
    cell(tr, fmt(c.v.intermediate_at_r1.mean, 3), { testid: `${id}-intermediate-r1`, raw: c.v.intermediate_at_r1.mean });
    body.appendChild(tr);
  }
  const dl = $('answers');
  dl.innerHTML = '';
  if (answer) {
    for (const [k, label, v] of [
      ['answers', 'answers', int(answer.answers)],
      ['multilabel', 'multi-label answers', pct(answer.multilabel_answer_rate)],
      ['alphabetical', 'in alphabetical order (≥ 2 labels)', pct(answer.alphabetical_order_rate)],
    ]) {
      const div = document.createElement('div');
      div.innerHTML = `<dt>${label}</dt><dd data-testid="answers-${k}">${v}</dd>`;
      dl.appendChild(div);
    }
  }
}

// ---- document view ------------------------------------------------------------------------------------------
function openDocument(id) {
  state.doc = id;
  state.run = null;
  writeHash();
  $('document').classList.remove('hidden');
  $('doc-id').textContent = id;
  refreshNow().then(() => $('document').scrollIntoView({ behavior: 'smooth', block: 'start' }));
}
$('doc-close').addEventListener('click', () => {
  state.doc = null;
  writeHash();
  $('document').classList.add('hidden');
});
$('doc-run').addEventListener('change', (e) => { state.run = e.target.value; refreshNow(); });

// What a pending run still waits for: its steps when it generates, and the probe records of its other methods.
function pendingText(run) {
  const methods = run.run_methods || ['generate'];
  const parts = [];
  if (methods.includes('generate')) parts.push(`${run.steps.length}/${run.steps_total ?? '?'} steps`);
  for (const m of ['unary', 'binary']) {
    if (methods.includes(m) && !run[`${m}_received`]) parts.push(`no ${m} probes yet`);
  }
  return `pending (${parts.join(', ')})`;
}

function renderDocument(d) {
  if (!d) {
    $('doc-meta').textContent = 'no record of this document (yet)';
    return;
  }
  $('doc-id').textContent = d.document_id;
  const runs = d.runs || [];
  const select = $('doc-run');
  const runKey = (r) => `${r.model}\u001f${r.run_id}`;
  const keys = runs.map(runKey);
  if ([...select.options].map((o) => o.value).join('\n') !== keys.join('\n')) {
    select.innerHTML = '';
    for (const r of runs) {
      const o = document.createElement('option');
      o.value = runKey(r);
      o.textContent = `${r.model} · ${versionLabel(r.task_version)} · ${r.run_id}`;
      select.appendChild(o);
    }
  }
  let run = runs.find((r) => runKey(r) === state.run);
  if (!run) run = runs.find((r) => runOfShownVersion(r, state.shown)) || runs.find((r) => state.pair && r.model === state.pair.model) || runs[0];
  if (run) { state.run = runKey(run); select.value = state.run; }

  const labels = d.labels || [];
  const withNone = labels.concat(['none']);
  const annotators = d.annotators || [];
  $('doc-meta').textContent = `task ${d.task || '–'} · ${labels.length} labels · ${annotators.length} annotator${annotators.length === 1 ? '' : 's'}`
    + (run ? ` · ${run.complete ? 'complete' : pendingText(run)}` + (run.parsed_labels ? ` · answer [${run.parsed_labels.join(', ')}]` : '') : ' · no model run yet');

  const datasets = [];
  if (run) {
    run.steps.forEach((s, i) => datasets.push({
      label: `step ${s.step} (wrote ${s.label ?? '?'})`, borderRadius: 2,
      backgroundColor: STEP_COLORS[i % STEP_COLORS.length],
      data: withNone.map((l) => (s.probabilities ? s.probabilities[l] : null)),
    }));
  }
  if (d.human) {
    datasets.push({ label: 'human', backgroundColor: HUMAN_COLOR, borderRadius: 2, data: withNone.map((l) => (l in d.human ? d.human[l] : null)) });
  }
  if (run) {
    Object.entries(run.methods || {}).forEach(([m, v], i) => datasets.push({
      label: methodName(m), backgroundColor: methodColor(m, i), borderRadius: 2,
      data: withNone.map((l) => (l in v.distribution ? v.distribution[l] : null)),
    }));
  }
  setData(state.charts.doc, withNone, datasets);

  // What the model wrote, beside the labels parsed from it (as text: never interpreted as HTML).
  $('doc-raw-output').textContent = run && run.raw_output != null ? run.raw_output : '–';
  $('doc-parsed-labels').textContent = run && run.parsed_labels ? `[${run.parsed_labels.join(', ')}]` : '–';

  const steps = $('doc-steps').tBodies[0];
  steps.innerHTML = '';
  for (const s of run ? run.steps : []) {
    const tr = document.createElement('tr');
    cell(tr, String(s.step), { cls: '' });
    cell(tr, s.label ?? '–', { cls: 'num', testid: `doc-step-${s.step}-label` });
    cell(tr, fmt(s.top1, 3), { testid: `doc-step-${s.step}-top1`, raw: s.top1 });
    cell(tr, fmt(s.entropy_bits, 3), { testid: `doc-step-${s.step}-entropy`, raw: s.entropy_bits });
    steps.appendChild(tr);
  }
  const methods = $('doc-methods').tBodies[0];
  methods.innerHTML = '';
  Object.entries(run ? run.methods || {} : {}).forEach(([m, v], i) => {
    const tr = document.createElement('tr');
    cell(tr, '', { cls: '', html: swatch(methodColor(m, i)) + escapeHtml(methodName(m)) });
    cell(tr, '', { cls: '', html: v.predicted.map((l) => `<span class="tag">${escapeHtml(l)}</span>`).join('') || '<span class="hint">none</span>' });
    cell(tr, fmt(v.nll), { testid: `doc-${m}-nll`, raw: v.nll });
    cell(tr, fmt(v.l1), { testid: `doc-${m}-l1`, raw: v.l1 });
    cell(tr, fmt(v.example_f1), { testid: `doc-${m}-f1`, raw: v.example_f1 });
    methods.appendChild(tr);
  });
}

// ---- polling ------------------------------------------------------------------------------------------------
let timer = null;
let inFlight = null;

async function refresh() {
  const live = $('live');
  try {
    const ov = await fetchJson('api/overview');
    renderOverview(ov);
    if (state.pair) {
      const q = `task=${encodeURIComponent(state.pair.task)}&model=${encodeURIComponent(state.pair.model)}${versionQuery(state.shown)}`;
      $('link-align').href = `metrics/alignment?${q}`;
      $('link-spik').href = `metrics/spikiness?${q}`;
      const [al, sp] = await Promise.all([fetchJson(`metrics/alignment?${q}`), fetchJson(`metrics/spikiness?${q}`)]);
      renderAlignment(al);
      renderSpikiness(sp);
    }
    if (state.doc) renderDocument(await fetchJson(`api/documents/${encodeURIComponent(state.doc)}/steps`));
    state.refreshes += 1;
    live.className = 'pill live ok';
    live.textContent = `live · ${new Date().toLocaleTimeString()}`;
    live.dataset.refreshes = String(state.refreshes);
  } catch (e) {
    live.className = 'pill live bad';
    live.textContent = `reconnecting… (${e.message})`;
  }
}

function refreshNow() {
  clearTimeout(timer);
  inFlight = (inFlight || Promise.resolve()).then(refresh).finally(() => {
    clearTimeout(timer);
    timer = setTimeout(refreshNow, POLL_MS);
  });
  return inFlight;
}

// A link or an edited address in an open tab (#task=…&model=…&doc=…) changes only the hash: follow it.
// (writeHash uses replaceState, which fires no hashchange.)
window.addEventListener('hashchange', () => {
  const wanted = readHash();
  // Not known yet: none selected, so that renderPairs picks the hash's pair once the overview has it.
  state.pair = state.pairs.find((p) => p.task === wanted.task && p.model === wanted.model) || null;
  state.version = wanted.version;
  if (wanted.doc && wanted.doc !== state.doc) {
    openDocument(wanted.doc);
    return;
  }
  if (!wanted.doc && state.doc) {
    state.doc = null;
    $('document').classList.add('hidden');
  }
  if (state.pair) writeHash();
  refreshNow();
});

const initial = readHash();
if (initial.doc) openDocument(initial.doc); else refreshNow();
