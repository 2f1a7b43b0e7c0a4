// "Annotate next" panel (issue #18): which documents of the selected task/model most need another annotator,
// and why. Its own module beside app.js: it reads the selection from the page's address (#task=…&model=…,
// which app.js keeps up to date), polls GET /api/annotate/next, and opens a document through the address too
// (app.js follows hash changes), so app.js needs no hook.

const POLL_MS = 1500;
const N = 10;
const $ = (id) => document.getElementById(id);

function selection() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { task: h.get('task'), model: h.get('model') };
}

function cell(tr, text, testid, raw) {
  const td = document.createElement('td');
  td.textContent = text;
  if (testid) td.dataset.testid = testid;
  if (raw !== undefined) td.dataset.value = String(raw);
  tr.appendChild(td);
  return td;
}

function open(documentId) {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  h.set('doc', documentId);
  location.hash = h.toString(); // fires hashchange: app.js opens the document view
}

function render(rows, sel, strategy) {
  const body = $('annotate-table').querySelector('tbody');
  body.innerHTML = '';
  $('annotate-empty').textContent = !sel.task ? 'select a task · model'
    : `no document of ${sel.task} · ${sel.model} needs another annotator under ${strategy}`;
  $('annotate-empty').classList.toggle('hidden', rows.length > 0);
  $('annotate-table').classList.toggle('hidden', rows.length === 0);
  for (const r of rows) {
    const tr = document.createElement('tr');
    tr.className = 'clickable';
    tr.dataset.testid = 'annotate-row';
    tr.dataset.documentId = r.document_id;
    cell(tr, r.document_id, 'annotate-doc');
    cell(tr, String(r.annotators), 'annotate-annotators', r.annotators);
    cell(tr, Number(r.priority).toFixed(3), 'annotate-priority', r.priority).className = 'num';
    cell(tr, (r.suggested_labels || []).join(', ') || '–', 'annotate-suggested');
    cell(tr, r.why, 'annotate-why').className = 'why';
    tr.addEventListener('click', () => open(r.document_id));
    body.appendChild(tr);
  }
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  const sel = selection();
  const strategy = $('annotate-strategy').value;
  try {
    if (sel.task) {
      const q = new URLSearchParams({ task: sel.task, n: String(N), strategy });
      if (sel.model) q.set('model', sel.model);
      $('annotate-link').href = `api/annotate/next?${q}`;
      const r = await fetch(`api/annotate/next?${q}`, { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!r.ok) throw new Error(`HTTP ${r.status}: ${(await r.json().catch(() => ({}))).error || ''}`);
      render(await r.json(), sel, strategy);
    } else {
      render([], sel, strategy);
    }
    $('annotate-error').textContent = '';
  } catch (e) {
    $('annotate-error').textContent = `annotate next: ${e.message}`;
  } finally {
    timer = setTimeout(refresh, POLL_MS);
  }
}

$('annotate-strategy').addEventListener('change', refresh);
window.addEventListener('hashchange', refresh);
refresh();
