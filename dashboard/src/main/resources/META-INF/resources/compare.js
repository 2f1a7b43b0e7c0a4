// Paired comparison view (issue #17 item 3): two configurations (MODEL or MODEL@VERSION) of the selected task,
// per method the mean per-document difference A − B of NLL, L1 and example-F1 with its 95 % paired t interval,
// over the documents both scored with annotators (GET api/compare). It refreshes with the rest of the page:
// app.js sends 'labelscope:refresh' with the selected task/model after each poll.

const $ = (id) => document.getElementById(id);
const METRICS = [['nll', 'lower'], ['l1', 'lower'], ['example_f1', 'higher']];
const view = { task: null, a: '', b: '', configurations: [] };

const fmt = (v) => (v === null || v === undefined ? '–' : (v >= 0 ? '+' : '') + Number(v).toFixed(4));
const slug = (s) => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');

async function fetchJson(url) {
  const r = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/** The choices of A and B: the task's configurations with their annotated documents. */
function renderChoices(configurations, selectedModel) {
  const names = configurations.map((c) => c.configuration);
  if (names.join('\n') !== view.configurations.join('\n')) {
    for (const id of ['compare-a', 'compare-b']) {
      const select = $(id);
      select.innerHTML = '';
      for (const c of configurations) {
        const o = document.createElement('option');
        o.value = c.configuration;
        select.appendChild(o);
      }
    }
    view.configurations = names;
  }
  for (const id of ['compare-a', 'compare-b']) {
    configurations.forEach((c, i) => { $(id).options[i].textContent = `${c.configuration} — ${c.documents} annotated`; });
  }
  // Defaults: A the page's selected model (when it is one), B the first other configuration.
  if (!names.includes(view.a)) view.a = names.includes(selectedModel) ? selectedModel : (names[0] || '');
  if (!names.includes(view.b) || view.b === view.a) view.b = names.find((n) => n !== view.a) || '';
  $('compare-a').value = view.a;
  $('compare-b').value = view.b;
}

function renderTable(result) {
  const tbody = $('compare-table').querySelector('tbody');
  tbody.innerHTML = '';
  const methods = Object.entries(result ? result.methods : {});
  $('compare-empty').classList.toggle('hidden', methods.length > 0);
  $('compare-empty').textContent = view.configurations.length < 2
    ? 'needs two configurations with annotated documents of this task'
    : 'no document annotated and scored by both yet';
  for (const [method, m] of methods) {
    const tr = document.createElement('tr');
    tr.dataset.testid = `compare-row-${slug(method)}`;
    const name = document.createElement('td');
    name.textContent = method.replaceAll('_', ' ');
    tr.appendChild(name);
    const docs = document.createElement('td');
    docs.className = 'num';
    docs.textContent = String(m.documents);
    docs.dataset.testid = `compare-${slug(method)}-documents`;
    docs.dataset.value = String(m.documents);
    tr.appendChild(docs);
    for (const [metric] of METRICS) {
      const v = m[metric];
      const td = document.createElement('td');
      td.className = 'num';
      td.dataset.testid = `compare-${slug(method)}-${metric}`;
      td.dataset.value = v.mean_difference === null ? '' : String(v.mean_difference);
      td.dataset.low = v.ci95_low === null ? '' : String(v.ci95_low);
      td.dataset.high = v.ci95_high === null ? '' : String(v.ci95_high);
      td.textContent = `${fmt(v.mean_difference)} [${fmt(v.ci95_low)}, ${fmt(v.ci95_high)}]`;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
}

async function refresh(pair) {
  if (!pair) return;
  if (pair.task !== view.task) Object.assign(view, { task: pair.task, a: '', b: '', configurations: [] });
  $('compare-task').textContent = pair.task;
  const task = `task=${encodeURIComponent(pair.task)}`;
  const listed = await fetchJson(`api/compare?${task}`);
  renderChoices(listed.configurations, pair.model);
  if (!view.a || !view.b) {
    renderTable(null);
    return;
  }
  const q = `${task}&a=${encodeURIComponent(view.a)}&b=${encodeURIComponent(view.b)}`;
  $('link-compare').href = `api/compare?${q}`;
  renderTable(await fetchJson(`api/compare?${q}`));
}

let last = null;
document.addEventListener('labelscope:refresh', (e) => {
  last = e.detail.pair;
  refresh(last).catch((err) => { $('compare-empty').textContent = `reconnecting… (${err.message})`; });
});
for (const [id, side] of [['compare-a', 'a'], ['compare-b', 'b']]) {
  $(id).addEventListener('change', (e) => {
    view[side] = e.target.value;
    refresh(last).catch(() => {});
  });
}
