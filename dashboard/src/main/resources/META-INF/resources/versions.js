// Task versions (issue #15 item 6). /api/overview lists one pair per task, model and task version (the first 12
// hex characters of the SHA-256 of the task definition the worker ran; null for records written before versions
// existed), so two prompts on the same documents never merge. The page's task · model selector keeps one entry
// per task/model; the version selector beside it picks the version, by default the latest seen (the one whose
// documents were updated last), and the hint says which version the page shows.

const $ = (id) => document.getElementById(id);

/** The REST API's name for "no version" (records from before versions): its own configuration. */
export const NO_VERSION = 'none';
const valueOf = (version) => (version == null ? NO_VERSION : version);
export const versionLabel = (version) => (version == null ? 'no version (older records)' : version);
// As times: ISO-8601 text without trailing zeros (…:02Z, …:02.5Z) does not sort as text.
const at = (p) => (p.last_update ? Date.parse(p.last_update) : 0);
const newestFirst = (a, b) => at(b) - at(a);

/** The overview's pairs, one per task/model, each with its versions (newest first) and their documents summed. */
export function groupByTaskModel(pairs) {
  const groups = new Map();
  for (const p of pairs) {
    const key = `${p.task}\u001f${p.model}`;
    if (!groups.has(key)) groups.set(key, { task: p.task, model: p.model, documents: 0, last_update: null, versions: [] });
    const g = groups.get(key);
    g.versions.push(p);
    g.documents += p.documents || 0;
    if (at(p) > at(g)) g.last_update = p.last_update;
  }
  for (const g of groups.values()) g.versions.sort(newestFirst);
  return [...groups.values()];
}

/**
 * Fills the version selector with the task/model's versions and returns the version's pair the page shows: the
 * wanted one (a value of the selector: a version or NO_VERSION) when the pair has it, else the latest seen.
 * The first option, "latest seen", follows whatever version comes next.
 */
export function renderVersions(group, wanted) {
  const select = $('version');
  const versions = group ? group.versions : [];
  const values = ['', ...versions.map((p) => valueOf(p.version))];
  if ([...select.options].map((o) => o.value).join('\n') !== values.join('\n')) {
    select.innerHTML = '';
    for (const v of values) {
      const o = document.createElement('option');
      o.value = v;
      select.appendChild(o);
    }
  }
  const latest = versions[0] || null;
  select.options[0].textContent = latest ? `latest seen (${versionLabel(latest.version)})` : 'latest seen';
  versions.forEach((p, i) => { select.options[i + 1].textContent = `${versionLabel(p.version)} — ${p.documents} docs`; });
  const picked = wanted == null ? null : versions.find((p) => valueOf(p.version) === wanted) || null;
  const shown = picked || latest;
  select.value = picked ? wanted : '';
  $('version-hint').textContent = !shown ? ''
    : picked && picked !== latest ? `version ${versionLabel(shown.version)} · latest seen: ${versionLabel(latest.version)}`
      : `version ${versionLabel(shown.version)}, the latest seen` + (versions.length > 1 ? ` of ${versions.length}` : '');
  $('version-hint').dataset.version = shown ? valueOf(shown.version) : '';
  return shown;
}

/** The query parameter that asks the REST API for the shown version ('' while none is known). */
export const versionQuery = (shown) => (shown ? `&version=${encodeURIComponent(valueOf(shown.version))}` : '');

/** Whether a document's run belongs to the shown version of the selected model. */
export const runOfShownVersion = (run, shown) => !!shown && run.model === shown.model
  && valueOf(run.task_version) === valueOf(shown.version);
