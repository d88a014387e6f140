// The coordinator dashboard: views over the service's own JSON API
// (docs/operations.md, "Dashboard"). No framework and no network but this
// service; the token stays in sessionStorage.
'use strict';

const TOKEN_KEY = 'mentor-scheduler-token';
const POLL_MS = 1000;
const SCENARIO_TYPES = ['inactivity', 'milestone', 'certification_expiry'];
const REASON_CODES = [
  'threshold_reached', 'threshold_not_reached', 'milestone_reached',
  'milestone_not_reached', 'expiry_within_lead_time', 'expiry_not_within_lead_time',
  'no_certification', 'preference_disabled', 'cooldown_active', 'already_notified',
  'mentor_paused', 'mentor_inactive',
];
const RUN_STATUSES = ['running', 'success', 'failed', 'cancelled', 'skipped', 'missed'];
const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'];
const KINDS = [
  'scenario_evaluation', 'certification_expiry_check', 'pause_auto_lift',
  'weekly_expiry_report', 'run_log_retention',
];

// A view's generation: a view started earlier stops drawing (and polling)
// once another one has begun.
let generation = 0;

// ---------------------------------------------------------------- helpers

/** An element with attributes (`on*` are listeners) and children. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const numberFormat = new Intl.NumberFormat();

/** A number with its thousands grouped; a dash for none. */
function num(n) {
  return n === null || n === undefined ? '—' : numberFormat.format(n);
}

/** An instant in the viewer's zone, or in `zone`, with the zone named. */
function when(iso, zone) {
  if (!iso) return '—';
  const options = {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  };
  if (zone) options.timeZone = zone;
  let text;
  try {
    text = new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  } catch (e) {
    text = iso;
  }
  return h('time', { datetime: iso }, text);
}

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${num(ms)} ms`;
  return `${(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} s`;
}

function badge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}

function table(caption, headers, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  // Each cell names its column, for the narrow layout (one card per row).
  for (const row of rows) {
    [...row.children].forEach((cell, i) => cell.setAttribute('data-label', headers[i]));
  }
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
}

function select(id, label, name, options, current) {
  return [
    h('label', { for: id }, label),
    h('select', { id, name },
      h('option', { value: '' }, 'any'),
      options.map((o) => h('option', { value: o, selected: o === current }, o))),
  ];
}

function enc(s) {
  return encodeURIComponent(s);
}

function link(hash, text) {
  return h('a', { href: hash }, text);
}

/** The `#/view/arg?query` of the address bar. */
function route() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : 'jobs';
  const [path, query] = hash.split('?');
  const [view, ...rest] = path.split('/');
  return { view: view || 'jobs', arg: rest.map(decodeURIComponent).join('/'), query: new URLSearchParams(query || '') };
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** A query hash from a form's non-empty fields. */
function formHash(base, form) {
  const q = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (value) q.set(key, value);
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

// ---------------------------------------------------------------- messages

function notice(text) {
  document.getElementById('notice').textContent = text;
}

function problem(text) {
  document.getElementById('problem').textContent = text;
}

function clearMessages() {
  notice('');
  problem('');
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `The service did not answer (${e.message}).`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    if (response.status === 401) showTokenForm('This service needs a token: enter an admin or read token.');
    throw new ApiError(response.status, error.code || 'http',
      error.message || `HTTP ${response.status} ${response.statusText}`);
  }
  return data;
}

/** Runs an action: its button disabled meanwhile, the API's own message on failure. */
async function act(button, what, fn) {
  clearMessages();
  button.disabled = true;
  try {
    await fn();
  } catch (e) {
    problem(`${what} failed: ${e.message}${e.status ? ` (HTTP ${e.status}, ${e.code})` : ''}`);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- the token

function showTokenForm(note) {
  const form = document.getElementById('token-form');
  form.hidden = false;
  document.getElementById('token-note').textContent = note;
}

function setupToken() {
  const form = document.getElementById('token-form');
  if (sessionStorage.getItem(TOKEN_KEY)) showTokenForm('A token is set for this browser session.');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('token');
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = '';
    showTokenForm('A token is set for this browser session.');
    render();
  });
  document.getElementById('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenForm('No token is set.');
    render();
  });
}

// ---------------------------------------------------------------- views

function heading(text) {
  return h('h1', { tabindex: -1 }, text);
}

async function jobsView(gen) {
  const jobs = (await api('GET', '/api/v1/scheduler/jobs?limit=100')).data;
  // The schedule in words, from the scheduler's own preview.
  const words = await Promise.all(jobs.map((job) => api('GET',
    `/api/v1/schedules/preview?expression=${enc(job.cron_expression)}&timezone=${enc(job.timezone)}&count=1`)
    .then((p) => p.description, () => '')));
  if (gen !== generation) return null;
  const rows = jobs.map((job, i) => {
    const dry = h('input', { type: 'checkbox', id: `dry-${i}` });
    const trigger = h('button', { type: 'button', class: 'trigger', 'aria-label': `Trigger ${job.job_name}` }, 'Trigger');
    trigger.addEventListener('click', () => act(trigger, `Trigger ${job.job_name}`, async () => {
      const run = await api('POST', `/api/v1/scheduler/jobs/${enc(job.job_name)}/trigger`,
        { dry_run: dry.checked, triggered_by: 'dashboard' });
      go(`#/run/${enc(run.run_id)}`);
      notice(`Started ${run.dry_run ? 'a dry run' : 'a run'} of ${job.job_name}: ${run.run_id}.`);
    }));
    const toggle = h('button', { type: 'button', class: 'toggle', 'aria-label': `${job.is_active ? 'Disable' : 'Enable'} ${job.job_name}` },
      job.is_active ? 'Disable' : 'Enable');
    toggle.addEventListener('click', () => act(toggle, `${job.is_active ? 'Disable' : 'Enable'} ${job.job_name}`, async () => {
      await api('PUT', `/api/v1/scheduler/jobs/${enc(job.job_name)}`, { is_active: !job.is_active });
      notice(`${job.job_name} is now ${job.is_active ? 'disabled' : 'enabled'}.`);
      render();
    }));
    return h('tr', { 'data-job': job.job_name },
      h('th', { scope: 'row' }, link(`#/runs?job_id=${enc(job.id)}`, job.job_name),
        h('div', { class: 'sub' }, job.handler)),
      h('td', {}, words[i] || '', h('div', {}, h('code', {}, job.cron_expression))),
      h('td', {}, job.timezone),
      h('td', {}, job.next_run_at
        ? [h('div', {}, when(job.next_run_at)), h('div', { class: 'sub' }, when(job.next_run_at, job.timezone))]
        : 'none (disabled)'),
      h('td', {}, job.last_run_status ? badge(job.last_run_status) : '—',
        job.last_run_at ? h('div', { class: 'sub' }, when(job.last_run_at)) : null),
      h('td', {}, job.is_active ? 'yes' : 'no'),
      h('td', { class: 'actions' },
        h('span', { class: 'check' }, dry,
          h('label', { for: `dry-${i}` }, 'dry run', h('span', { class: 'vh' }, ` of ${job.job_name}`))),
        trigger, toggle));
  });
  return [
    heading('Jobs'),
    table('Registered jobs, in registration order',
      ['Job', 'Schedule', 'Time zone', 'Next run (yours, the job’s)', 'Last status', 'Enabled', 'Actions'],
      rows, 'No jobs are registered.'),
  ];
}

async function runsView(gen, query) {
  const page = Number(query.get('page') || 1);
  const q = new URLSearchParams({ limit: '25', page: String(page) });
  for (const key of ['job_id', 'kind', 'status']) if (query.get(key)) q.set(key, query.get(key));
  const [runs, jobs] = await Promise.all([
    api('GET', `/api/v1/runs?${q}`),
    api('GET', '/api/v1/scheduler/jobs?limit=100'),
  ]);
  if (gen !== generation) return null;
  const jobOptions = jobs.data.map((j) => h('option', { value: j.id, selected: j.id === query.get('job_id') }, j.job_name));
  const form = h('form', { class: 'filters', 'aria-label': 'Filter runs' },
    h('label', { for: 'f-job' }, 'Job'),
    h('select', { id: 'f-job', name: 'job_id' }, h('option', { value: '' }, 'any'), jobOptions),
    select('f-kind', 'Kind', 'kind', KINDS, query.get('kind')),
    select('f-status', 'Status', 'status', RUN_STATUSES, query.get('status')),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(formHash('#/runs', form));
  });
  const rows = runs.data.map((run) => h('tr', {},
    h('th', { scope: 'row' }, link(`#/run/${enc(run.id)}`, run.id)),
    h('td', {}, run.job_name || '(ad hoc)', h('div', { class: 'sub' }, run.kind)),
    h('td', {}, badge(run.status)),
    h('td', {}, run.trigger, run.dry_run ? h('div', { class: 'sub' }, 'dry run') : null),
    h('td', {}, when(run.invoked_at)),
    h('td', { class: 'n' }, duration(run.duration_ms)),
    h('td', { class: 'n' }, num(run.users_evaluated)),
    h('td', { class: 'n' }, num(run.notifications_dispatched))));
  return [
    heading('Runs'),
    form,
    table(`Runs, newest first: ${num(runs.pagination.total)} in all`,
      ['Run', 'Job', 'Status', 'Trigger', 'Started', 'Duration', 'Users evaluated', 'Notifications'],
      rows, 'No runs match.'),
    pager('#/runs', query, page, runs.pagination),
  ];
}

function pager(base, query, page, pagination) {
  const last = Math.max(1, Math.ceil(pagination.total / pagination.limit));
  if (last === 1) return null;
  const at = (p) => {
    const q = new URLSearchParams(query);
    q.set('page', String(p));
    return `${base}?${q}`;
  };
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? link(at(page - 1), 'Newer') : null,
    h('span', {}, ` Page ${num(page)} of ${num(last)} `),
    page < last ? link(at(page + 1), 'Older') : null);
}

/** Bars of one figure per batch, as plain SVG. */
function barChart(title, values, unit) {
  const width = 600;
  const height = 120;
  const highest = values.reduce((a, b) => Math.max(a, b), 0);
  const max = Math.max(1, highest);
  const step = width / Math.max(1, values.length);
  const bar = Math.max(step * 0.8, 0.5);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 16}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'chart');
  const total = values.reduce((a, b) => a + b, 0);
  const label = `${title}: ${num(values.length)} batches, highest ${num(highest)} ${unit}, total ${num(total)} ${unit}`;
  svg.setAttribute('aria-label', label);
  const t = document.createElementNS(svg.namespaceURI, 'title');
  t.textContent = label;
  svg.append(t);
  values.forEach((v, i) => {
    const r = document.createElementNS(svg.namespaceURI, 'rect');
    const bh = (v / max) * height;
    r.setAttribute('x', (i * step).toFixed(2));
    r.setAttribute('y', (height - bh).toFixed(2));
    r.setAttribute('width', bar.toFixed(2));
    r.setAttribute('height', Math.max(bh, 0).toFixed(2));
    svg.append(r);
  });
  const axis = document.createElementNS(svg.namespaceURI, 'text');
  axis.setAttribute('x', '0');
  axis.setAttribute('y', String(height + 14));
  axis.textContent = `highest ${num(highest)} ${unit}`;
  svg.append(axis);
  return h('figure', {}, svg, h('figcaption', {}, label));
}

async function loadRun(id) {
  const run = await api('GET', `/api/v1/runs/${enc(id)}`);
  if (run.kind === 'scenario_evaluation') {
    try {
      // Only the plan: the batch results are in the run already.
      const inv = await api('GET', `/api/v1/scheduler-invocations/${enc(id)}?batch_limit=0`);
      run.planned_batches = inv.planned_batches;
    } catch (e) {
      run.planned_batches = null;
    }
  }
  return run;
}

function runSummary(run, onCancel) {
  const done = (run.batch_results || []).length;
  const planned = run.planned_batches;
  const facts = [
    ['Status', badge(run.status)],
    ['Job', run.job_name || '(ad hoc)'],
    ['Kind', run.kind],
    ['Trigger', `${run.trigger}${run.triggered_by ? ` by ${run.triggered_by}` : ''}${run.dry_run ? ', dry run' : ''}`],
    ['Started', when(run.invoked_at)],
    ['Finished', when(run.completed_at)],
    ['Duration', duration(run.duration_ms)],
    ['Users evaluated', num(run.users_evaluated)],
    ['Notifications', num(run.notifications_dispatched)],
  ];
  if (run.kind === 'scenario_evaluation') {
    facts.push(['Batches done', planned ? `${num(done)} of ${num(planned)}` : num(done)]);
  }
  if (run.error_message) facts.push(['Error', run.error_message]);
  const dl = h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const parts = [dl];
  if (run.status === 'running') {
    parts.push(h('p', { class: 'live' }, planned
      ? h('progress', { max: planned, value: done, 'aria-label': 'Batches done' }) : null,
    ` Running: ${num(done)} batches done${planned ? ` of ${num(planned)}` : ''}, ${num(run.notifications_dispatched)} notifications so far. This page updates itself.`));
    const cancel = h('button', { type: 'button', class: 'cancel' }, 'Cancel run');
    cancel.addEventListener('click', () => act(cancel, 'Cancel', onCancel));
    parts.push(cancel);
  }
  const batches = run.batch_results || [];
  if (batches.length > 0) {
    parts.push(h('section', { class: 'charts', 'aria-label': 'Batches' },
      h('h2', {}, 'Batches'),
      barChart('Duration per batch', batches.map((b) => b.duration_ms), 'ms'),
      barChart('Notifications per batch', batches.map((b) => b.notifications_sent), 'notifications')));
  }
  if (run.result_summary && run.kind !== 'scenario_evaluation') {
    parts.push(h('details', {}, h('summary', {}, 'Result'),
      h('pre', {}, JSON.stringify(run.result_summary, null, 2))));
  }
  return h('section', { id: 'run-summary', 'aria-label': 'Run' }, parts);
}

async function decisions(runId, query) {
  const page = Number(query.get('page') || 1);
  const q = new URLSearchParams({ run_id: runId, limit: '50', page: String(page) });
  for (const key of ['scenario_type', 'reason_code']) if (query.get(key)) q.set(key, query.get(key));
  const list = await api('GET', `/api/v1/scenario-trigger-evaluations?${q}`);
  const form = h('form', { class: 'filters', 'aria-label': 'Filter decisions' },
    select('f-scenario', 'Scenario type', 'scenario_type', SCENARIO_TYPES, query.get('scenario_type')),
    select('f-reason', 'Reason code', 'reason_code', REASON_CODES, query.get('reason_code')),
    h('button', { type: 'submit' }, 'Filter'));
  const base = `#/run/${enc(runId)}`;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(formHash(base, form));
  });
  const rows = list.data.map((d) => h('tr', {},
    h('th', { scope: 'row' }, link(`#/mentor/${enc(d.user_id)}`, d.user_id)),
    h('td', {}, d.scenario_type),
    h('td', {}, d.should_notify ? 'yes' : 'no'),
    h('td', {}, h('code', { class: 'reason-code' }, d.reason_code)),
    h('td', { class: 'sentence' }, d.reason),
    h('td', { class: 'n' }, num(d.batch_index))));
  return h('section', { id: 'decisions', 'aria-label': 'Decisions' },
    h('h2', {}, 'Decisions'),
    form,
    table(`Decisions of this run: ${num(list.pagination.total)} match`,
      ['Mentor', 'Scenario', 'Notify', 'Reason code', 'What the engine said', 'Batch'],
      rows, 'No decisions match.'),
    pager(base, query, page, list.pagination));
}

async function runView(gen, query, id) {
  let run = await loadRun(id);
  const cancel = async () => {
    await api('POST', `/api/v1/runs/${enc(id)}/cancel`);
    notice(`Cancelled ${id}.`);
    await refresh();
  };
  const summarySlot = h('div', {}, runSummary(run, cancel));
  const decisionSlot = h('div', {}, await decisions(id, query));
  if (gen !== generation) return null;
  // Polls while the run runs, and stops when it ends or the view changes.
  async function refresh() {
    if (gen !== generation) return;
    try {
      run = await loadRun(id);
    } catch (e) {
      problem(`Reading the run failed: ${e.message}`);
      return;
    }
    if (gen !== generation) return;
    summarySlot.replaceChildren(runSummary(run, cancel));
    if (run.status === 'running') {
      setTimeout(refresh, POLL_MS);
    } else {
      const fresh = await decisions(id, query);
      if (gen === generation) decisionSlot.replaceChildren(fresh);
    }
  }
  if (run.status === 'running') setTimeout(refresh, POLL_MS);
  return [heading(`Run ${id}`), summarySlot, decisionSlot];
}

function daysUntil(iso) {
  return Math.floor((new Date(iso).getTime() - Date.now()) / 86400000);
}

async function mentorView(gen, query, userId) {
  const form = h('form', { class: 'filters', 'aria-label': 'Find a mentor' },
    h('label', { for: 'f-user' }, 'Mentor id'),
    h('input', { id: 'f-user', name: 'user_id', value: userId || '', required: true, spellcheck: 'false' }),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = new FormData(form).get('user_id').trim();
    if (value) go(`#/mentor/${enc(value)}`);
  });
  if (!userId) {
    const paused = await api('GET', '/api/v1/mentors?status=paused&limit=20');
    if (gen !== generation) return null;
    const rows = paused.data.map((m) => h('tr', {},
      h('th', { scope: 'row' }, link(`#/mentor/${enc(m.user_id)}`, m.user_id)),
      h('td', {}, m.org_id),
      h('td', {}, m.pause ? m.pause.reason : '—'),
      h('td', {}, m.pause ? when(m.pause.since) : '—')));
    return [heading('Mentor'), form,
      table(`Paused mentors: ${num(paused.pagination.total)} in all`, ['Mentor', 'Organisation', 'Pause reason', 'Since'],
        rows, 'No mentor is paused.')];
  }
  const [mentor, evaluations, notifications] = await Promise.all([
    api('GET', `/api/v1/mentors/${enc(userId)}`),
    api('GET', `/api/v1/scenario-trigger-evaluations?user_id=${enc(userId)}&limit=10`),
    api('GET', `/api/v1/notifications?user_id=${enc(userId)}&limit=10`),
  ]);
  if (gen !== generation) return null;
  const pause = mentor.pause;
  const facts = [
    ['Status', badge(mentor.status)],
    ['Pause', pause
      ? h('span', { class: 'pause' }, `Paused: ${pause.reason}, since `, when(pause.since),
        pause.until ? [', until ', when(pause.until)] : '')
      : 'not paused'],
    ['Organisation', mentor.org_id],
    ['Last active', when(mentor.last_active_at)],
    ['Sessions', num(mentor.sessions_count)],
    ['Created', when(mentor.created_at)],
  ];
  const prefs = Object.entries(mentor.preferences).map(([k, v]) => h('li', {}, `${k}: ${v ? 'on' : 'off'}`));
  const certs = mentor.certifications.map((c) => {
    const days = daysUntil(c.expires_at);
    return h('tr', {},
      h('th', { scope: 'row' }, c.name, h('div', { class: 'sub' }, c.certification_id)),
      h('td', {}, c.required ? 'yes' : 'no'),
      h('td', {}, when(c.expires_at)),
      h('td', { class: 'n' }, days < 0 ? `expired ${num(-days)} days ago` : `${num(days)} days`));
  });
  const evRows = evaluations.data.map((d) => h('tr', {},
    h('td', {}, when(d.evaluated_at)),
    h('td', {}, d.scenario_type),
    h('td', {}, d.should_notify ? 'yes' : 'no'),
    h('td', {}, h('code', {}, d.reason_code)),
    h('td', { class: 'sentence' }, d.reason)));
  const ntRows = notifications.data.map((n) => h('tr', {},
    h('td', {}, when(n.created_at)),
    h('td', {}, n.scenario_type),
    h('td', {}, badge(n.status)),
    h('td', { class: 'n' }, num(n.attempts)),
    h('td', {}, n.last_error || '—')));
  return [
    heading(`Mentor ${mentor.user_id}`), form,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h2', {}, 'Certifications'),
    table('Certifications, with days to expiry', ['Certification', 'Required', 'Expires', 'Days to expiry'], certs, 'No certifications.'),
    h('h2', {}, 'Preferences'),
    h('ul', { class: 'prefs' }, prefs),
    h('h2', {}, 'Latest decisions'),
    table('The latest decisions about this mentor', ['When', 'Scenario', 'Notify', 'Reason code', 'What the engine said'], evRows, 'No decisions yet.'),
    h('h2', {}, 'Latest notifications'),
    table('The latest notifications to this mentor', ['Enqueued', 'Scenario', 'Status', 'Attempts', 'Last error'], ntRows, 'No notifications yet.'),
  ];
}

async function notificationsView(gen, query) {
  const page = Number(query.get('page') || 1);
  const q = new URLSearchParams({ limit: '25', page: String(page) });
  for (const key of ['status', 'scenario_type', 'user_id']) if (query.get(key)) q.set(key, query.get(key));
  const list = await api('GET', `/api/v1/notifications?${q}`);
  if (gen !== generation) return null;
  const form = h('form', { class: 'filters', 'aria-label': 'Filter notifications' },
    select('f-nstatus', 'Status', 'status', NOTIFICATION_STATUSES, query.get('status')),
    select('f-nscenario', 'Scenario type', 'scenario_type', SCENARIO_TYPES, query.get('scenario_type')),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(formHash('#/notifications', form));
  });
  const rows = list.data.map((n) => {
    let retry = null;
    if (n.status === 'failed') {
      retry = h('button', { type: 'button', class: 'retry', 'aria-label': `Retry ${n.id}` }, 'Retry');
      retry.addEventListener('click', () => act(retry, `Retry ${n.id}`, async () => {
        await api('POST', `/api/v1/notifications/${enc(n.id)}/retry`);
        notice(`${n.id} is pending again.`);
        render();
      }));
    }
    return h('tr', {},
      h('th', { scope: 'row' }, h('code', {}, n.id)),
      h('td', {}, link(`#/mentor/${enc(n.user_id)}`, n.user_id)),
      h('td', {}, n.scenario_type),
      h('td', {}, badge(n.status)),
      h('td', { class: 'n' }, num(n.attempts)),
      h('td', {}, n.last_error || '—'),
      h('td', {}, when(n.created_at)),
      h('td', {}, retry));
  });
  return [
    heading('Notifications'), form,
    table(`Notifications, newest first: ${num(list.pagination.total)} in all`,
      ['Notification', 'Mentor', 'Scenario', 'Status', 'Attempts', 'Last error', 'Enqueued', 'Action'],
      rows, 'No notifications match.'),
    pager('#/notifications', query, page, list.pagination),
  ];
}

async function expiringView(gen, query) {
  const page = Number(query.get('page') || 1);
  const list = await api('GET', `/api/v1/certifications/expiring?within_days=30&limit=50&page=${page}`);
  if (gen !== generation) return null;
  const rows = list.data.map((c) => h('tr', {},
    h('th', { scope: 'row' }, link(`#/mentor/${enc(c.user_id)}`, c.user_id)),
    h('td', {}, c.org_id),
    h('td', {}, badge(c.status), c.pause_reason ? h('div', { class: 'sub' }, c.pause_reason) : null),
    h('td', {}, c.name, h('div', { class: 'sub' }, c.certification_id)),
    h('td', {}, when(c.expires_at)),
    h('td', { class: 'n' }, num(c.days_until_expiry))));
  return [
    heading('Expiring soon'),
    h('p', {}, 'Required certifications that expire in the next 30 days, soonest first.'),
    table(`Required certifications expiring within 30 days: ${num(list.pagination.total)}`,
      ['Mentor', 'Organisation', 'Status', 'Certification', 'Expires', 'Days left'],
      rows, 'No required certification expires in the next 30 days.'),
    pager('#/expiring', query, page, list.pagination),
  ];
}

const VIEWS = {
  jobs: (gen, r) => jobsView(gen, r.query),
  runs: (gen, r) => runsView(gen, r.query),
  run: (gen, r) => runView(gen, r.query, r.arg),
  mentor: (gen, r) => mentorView(gen, r.query, r.arg),
  notifications: (gen, r) => notificationsView(gen, r.query),
  expiring: (gen, r) => expiringView(gen, r.query),
};

async function render() {
  generation += 1;
  const gen = generation;
  const r = route();
  const view = VIEWS[r.view] || VIEWS.jobs;
  const main = document.getElementById('main');
  for (const a of document.querySelectorAll('nav a')) {
    const current = a.getAttribute('href') === `#/${r.view}` || (r.view === 'run' && a.getAttribute('href') === '#/runs');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  try {
    const content = await view(gen, r);
    if (gen !== generation || content === null) return;
    main.replaceChildren(...[content].flat().filter(Boolean));
    document.title = `${main.querySelector('h1')?.textContent || 'Dashboard'} · Mentor Scheduler`;
  } catch (e) {
    if (gen !== generation) return;
    main.replaceChildren(heading('Could not load this view'),
      h('p', { class: 'error' }, `${e.message}${e.status ? ` (HTTP ${e.status}, ${e.code})` : ''}`));
  } finally {
    if (gen === generation) main.removeAttribute('aria-busy');
  }
}

window.addEventListener('hashchange', () => {
  problem('');
  render().then(() => document.querySelector('main h1')?.focus());
});
setupToken();
render();
