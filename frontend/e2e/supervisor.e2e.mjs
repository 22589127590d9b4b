// The supervisor's screen end to end: a real engine, three simulated agents and a load generator
// (app/e2etest starts them and passes their addresses in the environment), and the supervisor's
// own app in browser mode.
//
//   SWITCHBOARD_E2E=1 go test -run TestSupervisorView ./app/e2etest
//
// Story: Sue opens the supervisor's screen. Three chats arrive and are offered to the three agents
// (one chat each); the agents accept them. Three more arrive while everyone is busy: they wait, and
// Support turns red (its threshold is three waiting). The agents finish and take the waiting chats:
// Support is fine again. Every change reaches Sue's screen pushed by the engine. Then today's report
// shows the six chats, and exports them as CSV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const CONTROL = env.E2E_CONTROL_URL;
const ENGINE = env.E2E_ENGINE_URL;
const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
const PASSWORD = env.E2E_PASSWORD;
const STEP = 20_000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let page;
const dirs = [];

async function control(path, body) {
  const res = await fetch(CONTROL + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
}

before(async () => {
  for (const k of ['E2E_CONTROL_URL', 'E2E_ENGINE_URL', 'E2E_UI_SUE', 'E2E_PASSWORD']) {
    assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  }
  mkdirSync(OUT, { recursive: true });
  dirs.push(mkdtempSync(join(tmpdir(), 'switchboard-super-e2e-')));
  browser = await chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('[sue] page error:', e.message));
  await page.goto(env.E2E_UI_SUE);
  await page.locator('[data-testid="setup-form"], [data-testid="signin-form"]').first().waitFor({ timeout: STEP });
  if (await page.getByTestId('setup-form').count()) await page.getByTestId('setup-skip').click();
  await page.getByTestId('signin-server').check();
  await page.getByTestId('signin-server-url').fill(ENGINE);
  await page.getByTestId('signin-email').fill('sue@example.com');
  await page.getByTestId('signin-password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('inbox').waitFor({ timeout: STEP });
  await page.getByTestId('connection-state').filter({ hasText: /online|en línea/i }).waitFor({ timeout: STEP });
});

after(async () => {
  await browser?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const support = () => page.locator('[data-testid="super-queue"][data-queue="Support"]');

/** queueIs waits until the Support row shows the state wanted (pushed: the page never asks again). */
async function queueIs(waiting, alarm) {
  await page.waitForFunction(([w, a]) => {
    const row = document.querySelector('[data-testid="super-queue"][data-queue="Support"]');
    return row && row.dataset.waiting === String(w) && row.dataset.alarm === String(a);
  }, [waiting, alarm], { timeout: STEP });
}

async function agentsAre(state, n) {
  await page.waitForFunction(([s, k]) => document.querySelectorAll(`[data-testid="super-agent"][data-state="${s}"]`).length === k,
    [state, n], { timeout: STEP });
}

/**
 * chartIsRight checks the chart's time axis reads as times of day within the last hour (uPlot takes
 * seconds: milliseconds would read as dates tens of thousands of years away), and that the cursor's
 * line, with the mouse over the chart, stays inside the plot.
 */
async function chartIsRight() {
  const chart = page.getByTestId('super-chart');
  const labels = (await chart.getAttribute('data-x-labels')).split('|');
  assert.ok(labels.length >= 3, `x labels: ${labels}`);
  for (const l of labels) assert.match(l, /^\d\d:\d\d$/, `x label ${l} of ${labels}`);
  const minutes = labels.map((l) => Number(l.slice(0, 2)) * 60 + Number(l.slice(3)));
  const now = new Date();
  const nowMin = now.getHours() * 60 + now.getMinutes();
  for (const m of minutes) assert.ok((nowMin - m + 1440) % 1440 <= 61, `x label ${m} is not in the last hour (now ${nowMin})`);
  const over = chart.locator('.u-over');
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const line = chart.locator('.u-cursor-x');
  await page.waitForFunction((el) => el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().height > 0, await line.elementHandle(), { timeout: STEP });
  const l = await line.boundingBox();
  assert.ok(l.y >= box.y - 1 && l.y + l.height <= box.y + box.height + 1,
    `the cursor line (${l.y}–${l.y + l.height}) leaves the plot (${box.y}–${box.y + box.height})`);
  await page.screenshot({ path: join(OUT, 'supervisor-chart-cursor.png') });
  await page.mouse.move(0, 0);
}

test('the live view follows tasks and agents, and a queue past its threshold turns red', async () => {
  await page.getByTestId('open-supervisor').click();
  await page.getByTestId('supervisor-view').waitFor({ timeout: STEP });
  await support().waitFor({ timeout: STEP });
  await agentsAre('available', 3);
  // The chart opens on the engine's past hour (a sample a minute), not empty.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="super-chart"]')?.dataset.points) >= 60, null, { timeout: STEP });
  await chartIsRight();
  // From here on the page only receives: count the engine requests it makes.
  let asked = 0;
  page.on('request', (r) => { if (r.url().includes('SupervisorLive')) asked++; });

  await control('/tasks', { n: 3 });
  await page.waitForFunction(() => document.querySelector('[data-testid="super-queue"][data-queue="Support"]')?.textContent.includes('3 / 0 / 0'),
    null, { timeout: STEP });
  await control('/accept');
  await agentsAre('busy', 3);
  await page.waitForFunction(() => document.querySelector('[data-testid="super-queue"][data-queue="Support"]')?.textContent.includes('0 / 3 / 0'),
    null, { timeout: STEP });
  await queueIs(0, false);

  await control('/tasks', { n: 2 });
  await queueIs(2, false);
  await control('/tasks', { n: 1 });
  await queueIs(3, true);
  await page.getByTestId('super-alerts').filter({ hasText: 'Support' }).waitFor({ timeout: STEP });
  const color = await support().evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.match(color, /rgb|color/, 'the red row has a background');
  assert.notEqual(color, 'rgba(0, 0, 0, 0)', 'the red row is coloured');
  await page.screenshot({ path: join(OUT, 'supervisor-live-red.png') });

  await control('/complete');
  await control('/accept');
  await queueIs(0, false);
  const handled = await page.getByTestId('super-agent-handled').allInnerTexts();
  assert.deepEqual(handled.map(Number).sort(), [1, 1, 1]);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="super-chart"]')?.dataset.points) >= 1, null, { timeout: STEP });
  await page.screenshot({ path: join(OUT, 'supervisor-live.png') });
  assert.equal(asked, 0, 'the live view must update from pushed views, not by asking again');
});

test('today’s report shows the chats and exports them as CSV', async () => {
  await page.getByTestId('super-tab-reports').click();
  await page.getByTestId('report-by').selectOption('queue');
  await page.getByTestId('report-run').click();
  const row = page.getByTestId('report-row').filter({ hasText: 'Support' });
  await row.waitFor({ timeout: STEP });
  const cells = await row.locator('td').allInnerTexts();
  // Group, volume, answered, abandoned …
  assert.equal(cells[0], 'Support');
  assert.equal(cells[1], '6');
  assert.equal(cells[2], '6');
  assert.equal(cells[3], '0');
  await page.getByTestId('staffing-row').first().waitFor({ timeout: STEP });
  await page.getByTestId('report-chart').waitFor({ timeout: STEP });
  await page.screenshot({ path: join(OUT, 'supervisor-report.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP }), page.getByTestId('report-csv').click()]);
  const file = join(dirs[0], 'report.csv');
  await download.saveAs(file);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.match(lines[0], /^period,group,name,volume,answered,abandoned/);
  assert.ok(lines.some((l) => l.includes(',Support,6,6,0,')), `csv: ${lines.join(' | ')}`);
});
