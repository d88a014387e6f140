// Browser tests of the coordinator dashboard (docs/operations.md,
// "Dashboard"): headless Chromium from Debian, driven by playwright-core,
// against the real binary on loopback with demo data. Run by
// tools/browser-tests.sh (and .ci/run); screenshots of every view, at
// desktop width and at 360 px, go to target/dashboard-screenshots/.
//
//   MENTOR_SCHEDULER_BIN=target/debug/mentor-scheduler node dashboard.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, process.env.MENTOR_SCHEDULER_BIN || 'target/debug/mentor-scheduler');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(ROOT, 'target/dashboard-screenshots');
const WORK = mkdtempSync(join(tmpdir(), 'dashboard-'));
// Mentors in the first server: enough that a run lasts a few seconds, so
// that its progress, a second trigger and a cancel can be seen.
const MENTORS = Number(process.env.DASHBOARD_TEST_MENTORS || 20000);
const ADMIN = 'dashboard-admin-token-0123456789';
const READ = 'dashboard-read-token-0123456789';
const DESKTOP = { width: 1280, height: 800 };
const NARROW = { width: 360, height: 740 };
const WAIT = 30000;

// The whole file is bounded: whatever hangs, the servers are stopped.
const deadline = setTimeout(() => {
  console.error('browser tests: over 240 s, stopping');
  stopAll();
  process.exit(1);
}, 240000);
deadline.unref();

const servers = [];
let browser = null;

function stopAll() {
  for (const s of servers) {
    if (s.exitCode === null && s.signalCode === null) {
      try {
        process.kill(s.pid, 'SIGTERM');
      } catch (e) {
        // already gone
      }
    }
  }
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.exit(1);
  });
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts the binary on a fresh SQLite file; resolves to its base URL once ready. */
async function startServer(name, { mentors, args = [], env = {} }) {
  const db = join(WORK, `${name}.db`);
  if (mentors) {
    execFileSync(BIN, ['demo-data', '--mentors', String(mentors), '--database-url', db], { stdio: 'ignore' });
  }
  const port = await freePort();
  const log = openSync(join(WORK, `${name}.log`), 'w');
  const child = spawn(BIN, ['serve', '--demo', '--database-url', db, '--bind', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  servers.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i += 1) {
    if (child.exitCode !== null) throw new Error(`${name} server exited with ${child.exitCode}; log in ${WORK}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return base;
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} server not ready in 30 s`);
}

async function getJson(url, token) {
  const r = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return r.json();
}

async function putJson(url, body) {
  const r = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, `${url}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Screenshots of the page as it is, full length, at desktop width and at 360 px. */
async function shoot(page, name) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(NARROW);
  // Readable at 360 px: nothing but the tables' own scrolling areas is wider.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= NARROW.width, `${name}: the page is ${wide} px wide at 360 px`);
  await page.screenshot({ path: join(SHOTS, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function newPage(base) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', timezoneId: 'Europe/Oslo' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Refused API calls are shown on the page; the browser logs them too.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  await page.goto(`${base}/`);
  return page;
}

function jobRow(page, name) {
  return page.locator(`tr[data-job="${name}"]`);
}

let open;
let guarded;

before(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  open = await startServer('open', { mentors: MENTORS });
  // Tokens configured, and a webhook nobody listens to, tried once: its
  // notifications fail, for the retry action.
  const closed = await freePort();
  guarded = await startServer('guarded', {
    args: ['--notification-sink', 'webhook', '--webhook-url', `http://127.0.0.1:${closed}/hook`,
      '--webhook-secret', 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTAxMjM0NTY3', '--delivery-max-attempts', '1'],
    env: { MENTOR_SCHEDULER_ADMIN_TOKENS: ADMIN, MENTOR_SCHEDULER_READ_TOKENS: READ },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  stopAll();
  rmSync(WORK, { recursive: true, force: true });
});

test('the jobs view lists the four default jobs, and a job is disabled and enabled again', async () => {
  const page = await newPage(open);
  await page.locator('h1', { hasText: 'Jobs' }).waitFor();
  for (const name of ['certification-expiry-nightly', 'pause-auto-lift-check', 'run-log-retention', 'daily-reminder-check']) {
    await jobRow(page, name).waitFor();
  }
  assert.equal(await page.locator('tbody tr').count(), 4);
  const daily = await jobRow(page, 'daily-reminder-check').innerText();
  assert.match(daily, /0 8 \* \* \*/);
  assert.match(daily, /UTC/);
  assert.match(daily, /\bCES?T\b|GMT\+[12]/, 'next run in the viewer zone (Europe/Oslo), named');
  await shoot(page, 'jobs');
  // Disable a job and enable it again; the row follows the API's answer.
  const lift = jobRow(page, 'pause-auto-lift-check');
  await lift.getByRole('button', { name: 'Disable pause-auto-lift-check' }).click();
  await page.locator('#notice').getByText('pause-auto-lift-check is now disabled.').waitFor();
  await lift.getByRole('button', { name: 'Enable pause-auto-lift-check' }).waitFor();
  assert.match(await lift.innerText(), /none \(disabled\)/);
  const disabled = await getJson(`${open}/api/v1/scheduler/jobs/pause-auto-lift-check`);
  assert.equal(disabled.is_active, false);
  await lift.getByRole('button', { name: 'Enable pause-auto-lift-check' }).click();
  await lift.getByRole('button', { name: 'Disable pause-auto-lift-check' }).waitFor();
  const enabled = await getJson(`${open}/api/v1/scheduler/jobs/pause-auto-lift-check`);
  assert.equal(enabled.is_active, true);
  assert.deepEqual(page.errors, []);
});

test('a keyboard-only dry run: space on the checkbox, tab, enter', async () => {
  const page = await newPage(open);
  const row = jobRow(page, 'daily-reminder-check');
  await row.locator('input[type=checkbox]').focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Trigger');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/run\/run_/, { waitUntil: 'commit' });
  await page.locator('#run-summary').getByText('dry run').waitFor();
  await page.locator('#run-summary .badge-success').waitFor();
  assert.deepEqual(page.errors, []);
});

test('a triggered run shows its progress, reaches success with its batch chart, and polling stops', async () => {
  const page = await newPage(open);
  await jobRow(page, 'daily-reminder-check').getByRole('button', { name: 'Trigger' }).click();
  await page.waitForURL(/#\/run\/run_/, { waitUntil: 'commit' });
  const runId = decodeURIComponent(page.url().split('#/run/')[1]);
  const polls = [];
  page.on('request', (r) => {
    if (r.url().endsWith(`/api/v1/runs/${runId}`)) polls.push(Date.now());
  });
  // Live: the batches done go up while it runs, without a reload.
  const live = page.locator('#run-summary .live');
  await live.waitFor();
  const first = await live.innerText();
  await page.waitForFunction((text) => {
    const el = document.querySelector('#run-summary .live');
    return !el || el.innerText !== text;
  }, first);
  await shoot(page, 'run-running');
  await page.locator('#run-summary .badge-success').waitFor();
  const run = await getJson(`${open}/api/v1/runs/${runId}`);
  assert.equal(run.status, 'success');
  const bars = await page.locator('svg.chart').first().locator('rect').count();
  assert.equal(bars, run.batch_results.length);
  assert.ok(bars > 1);
  const summary = await page.locator('#run-summary').innerText();
  assert.ok(summary.includes(run.users_evaluated.toLocaleString('en-GB')), 'users evaluated, grouped');
  assert.match(summary, /\d,\d{3}/);
  // Polling stops once the run is over.
  const seen = polls.length;
  await page.waitForTimeout(2500);
  assert.equal(polls.length, seen, 'no more polling after the run ended');
  await shoot(page, 'run');
  // The first screen of it, as docs/dashboard-run.png shows.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, 'run-first-screen.png') });

  // Decisions filter by reason code; each shows the engine's sentence.
  for (const code of ['threshold_reached', 'preference_disabled']) {
    await page.selectOption('#f-reason', code);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(new RegExp(`reason_code=${code}`), { waitUntil: 'commit' });
    // The table is drawn again from the filtered list.
    await page.waitForFunction((c) => {
      const cells = [...document.querySelectorAll('#decisions .reason-code')];
      return cells.length > 0 && cells.every((cell) => cell.textContent === c);
    }, code);
    const expected = await getJson(`${open}/api/v1/scenario-trigger-evaluations?run_id=${runId}&reason_code=${code}&limit=1`);
    assert.match(await page.locator('#decisions caption').innerText(), new RegExp(`${expected.pagination.total.toLocaleString('en-GB')} match`));
    const sentence = await page.locator('#decisions td.sentence').first().innerText();
    assert.ok(sentence.length > 10, sentence);
  }
  await shoot(page, 'run-decisions');
  assert.deepEqual(page.errors, []);
});

test('a second trigger while a run holds the lock shows the 409 message, and the run can be cancelled', async (t) => {
  // Two mentors per batch: the run lasts many times the steps below, so it
  // is still running when it is cancelled, however slow the machine is.
  const job = `${open}/api/v1/scheduler/jobs/daily-reminder-check`;
  const { params } = await getJson(job);
  await putJson(job, { params: { ...params, batch_size: 2 } });
  t.after(() => putJson(job, { params }));
  const page = await newPage(open);
  await jobRow(page, 'daily-reminder-check').getByRole('button', { name: 'Trigger' }).click();
  await page.waitForURL(/#\/run\/run_/, { waitUntil: 'commit' });
  const runUrl = page.url();
  await page.locator('#run-summary .badge-running').waitFor();
  await page.goto(`${open}/#/jobs`);
  await jobRow(page, 'daily-reminder-check').getByRole('button', { name: 'Trigger' }).click();
  const alert = page.locator('#problem');
  await alert.getByText('409').waitFor();
  assert.match(await alert.innerText(), /already running.*HTTP 409, lock_held/);
  assert.match(page.url(), /#\/jobs$/, 'the page stays where it was');
  await shoot(page, 'jobs-lock-held');
  await page.goto(runUrl);
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await page.locator('#run-summary .badge-cancelled').waitFor();
  assert.deepEqual(page.errors, []);
});

test('the runs view lists runs newest first and filters by job', async () => {
  const page = await newPage(open);
  await page.goto(`${open}/#/runs`);
  await page.locator('h1', { hasText: 'Runs' }).waitFor();
  const jobs = await getJson(`${open}/api/v1/scheduler/jobs`);
  const daily = jobs.data.find((j) => j.job_name === 'daily-reminder-check');
  await page.selectOption('#f-job', daily.id);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/job_id=/, { waitUntil: 'commit' });
  const rows = page.locator('tbody tr');
  await rows.first().waitFor();
  const expected = await getJson(`${open}/api/v1/runs?job_id=${daily.id}`);
  assert.equal(await rows.count(), expected.data.length);
  assert.equal(await rows.first().locator('th').innerText(), expected.data[0].id);
  await shoot(page, 'runs');
  assert.deepEqual(page.errors, []);
});

test('a mentor page shows a paused mentor and the pause reason', async () => {
  const paused = await getJson(`${open}/api/v1/mentors?status=paused&limit=1`);
  const mentor = paused.data[0];
  const page = await newPage(open);
  await page.goto(`${open}/#/mentor`);
  await page.getByRole('link', { name: mentor.user_id, exact: true }).click();
  await page.waitForURL(new RegExp(`#/mentor/${mentor.user_id}`), { waitUntil: 'commit' });
  const pause = page.locator('.pause');
  await pause.waitFor();
  assert.match(await pause.innerText(), new RegExp(`Paused: ${mentor.pause.reason}`));
  await shoot(page, 'mentor');
  // A mentor with a required certification about to expire, from the
  // expiring-soon view, shows its days to expiry.
  await page.goto(`${open}/#/expiring`);
  await page.locator('h1', { hasText: 'Expiring soon' }).waitFor();
  const expiring = await getJson(`${open}/api/v1/certifications/expiring?within_days=30&limit=50`);
  assert.ok(expiring.pagination.total > 0);
  assert.match(await page.locator('caption').innerText(), new RegExp(`: ${expiring.pagination.total.toLocaleString('en-GB')}$`));
  assert.equal(await page.locator('tbody tr').count(), expiring.data.length);
  await shoot(page, 'expiring');
  await page.locator('tbody tr').first().getByRole('link').click();
  await page.getByRole('columnheader', { name: 'Days to expiry' }).waitFor();
  assert.match(await page.locator('main').innerText(), /\d+ days/);
  await shoot(page, 'mentor-certifications');
  await page.goto(`${open}/#/notifications`);
  await page.locator('h1', { hasText: 'Notifications' }).waitFor();
  await page.locator('tbody tr').first().waitFor();
  await shoot(page, 'notifications');
  assert.deepEqual(page.errors, []);
});

test('with tokens configured the page asks for one, a read token cannot trigger, an admin token retries a failed notification', async () => {
  // The page and its assets load without a token, under a strict CSP.
  const answer = await fetch(`${guarded}/`);
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-security-policy'), /default-src 'none'/);
  assert.equal((await fetch(`${guarded}/api/v1/scheduler/jobs`)).status, 401);

  const page = await newPage(guarded);
  const form = page.locator('#token-form');
  await form.waitFor();
  await page.getByText('This service needs a token').waitFor();
  await page.getByText('HTTP 401').waitFor();
  await shoot(page, 'token');

  await page.getByLabel('API token').fill(READ);
  await page.getByRole('button', { name: 'Use token' }).click();
  await jobRow(page, 'daily-reminder-check').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mentor-scheduler-token')), READ);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await jobRow(page, 'daily-reminder-check').getByRole('button', { name: 'Trigger' }).click();
  const alert = page.locator('#problem');
  await alert.getByText('403').waitFor();
  assert.match(await alert.innerText(), /read token may only GET and HEAD.*HTTP 403, forbidden/);
  const runs = await getJson(`${guarded}/api/v1/runs`, ADMIN);
  assert.equal(runs.pagination.total, 0, 'the read token started nothing');

  await page.getByLabel('API token').fill(ADMIN);
  await page.getByRole('button', { name: 'Use token' }).click();
  await jobRow(page, 'daily-reminder-check').getByRole('button', { name: 'Trigger' }).click();
  await page.locator('#run-summary .badge-success').waitFor();
  // Its notifications fail against the closed port; one is retried.
  let failed = null;
  for (let i = 0; i < 100 && !failed; i += 1) {
    const list = await getJson(`${guarded}/api/v1/notifications?status=failed&limit=1`, ADMIN);
    failed = list.data[0] || null;
    if (!failed) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(failed, 'a notification failed');
  await page.goto(`${guarded}/#/notifications?status=failed`);
  const row = page.locator('tbody tr', { hasText: failed.id });
  await row.getByRole('button', { name: 'Retry' }).click();
  await page.locator('#notice').getByText(`${failed.id} is pending again.`).waitFor();
  await shoot(page, 'notifications-failed');
  assert.deepEqual(page.errors, []);
});
