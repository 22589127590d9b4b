// A supervisor joins an agent's call from the live view, end to end: a real engine with a SIP trunk,
// a phone caller, Ana's Go softphone answering, and Sue's own app in browser mode (app/e2etest starts
// them and passes their addresses in the environment).
//
//   SWITCHBOARD_E2E=1 go test -run TestSupervisorJoinsCall ./app/e2etest
//
// Story: a call reaches Ana, who answers. Sue sees it in the agents table, listens, whispers and
// barges in from there; her phone's card shows how she is on the call, and she leaves from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { until } from './lib.mjs';

const env = process.env;
const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
const STEP = 20_000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let page;

async function control(method, path) {
  const res = await fetch(env.E2E_CONTROL_URL + path, { method });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

// modesAfter returns the joins and leaves in the audit log once it holds n of them. The engine
// records one after the phone has it (after a failed join nothing is recorded), so the page can show
// the join or the leave a moment before the log does.
const modesAfter = (n) =>
  until(`${n} joins and leaves in the audit log`, async () => {
    const modes = await control('GET', '/modes');
    return modes.length >= n && modes;
  });

before(async () => {
  for (const k of ['E2E_CONTROL_URL', 'E2E_ENGINE_URL', 'E2E_UI_SUE', 'E2E_PASSWORD']) {
    assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  }
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
  page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
  page.on('pageerror', (e) => console.error('[sue] page error:', e.message));
  await page.goto(env.E2E_UI_SUE);
  await page.locator('[data-testid="setup-form"], [data-testid="signin-form"]').first().waitFor({ timeout: STEP });
  if (await page.getByTestId('setup-form').count()) await page.getByTestId('setup-skip').click();
  await page.getByTestId('signin-server').check();
  await page.getByTestId('signin-server-url').fill(env.E2E_ENGINE_URL);
  await page.getByTestId('signin-email').fill('sue@example.com');
  await page.getByTestId('signin-password').fill(env.E2E_PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('inbox').waitFor({ timeout: STEP });
  await page.getByTestId('call-panel').waitFor({ timeout: STEP });
});

after(async () => {
  await browser?.close();
});

const joined = (mode) => page.locator(`[data-testid="super-call"][data-monitor="${mode}"]`);

test('Sue listens to, whispers in and barges into Ana’s call, then leaves', async () => {
  await page.getByTestId('open-supervisor').click();
  await page.getByTestId('supervisor-view').waitFor({ timeout: STEP });
  await control('POST', '/call');
  const call = page.locator('[data-testid="super-agent"][data-agent="Ana Agent"] [data-testid="super-call"]');
  await call.waitFor({ timeout: STEP });
  assert.equal(await call.getByTestId('super-call-leave').count(), 0, 'no Leave before joining');

  for (const mode of ['listen', 'whisper', 'barge']) {
    await call.getByTestId(`super-call-${mode}`).click();
    await joined(mode).waitFor({ timeout: STEP });
    assert.equal(await call.getByTestId(`super-call-${mode}`).getAttribute('aria-pressed'), 'true');
  }
  await page.screenshot({ path: join(OUT, 'supervisor-barge.png') });
  assert.deepEqual(await modesAfter(3), ['call.monitor:listen', 'call.monitor:whisper', 'call.monitor:barge']);

  // Sue's phone shows the joined call with its mode, and she leaves from it.
  await page.getByTestId('super-close').click();
  const card = page.locator('[data-testid="call-live"]');
  await card.waitFor({ timeout: STEP });
  assert.match(await card.getByTestId('call-state').textContent(), /Ana Agent/);
  assert.equal(await card.getByTestId('call-monitor-barge').getAttribute('aria-pressed'), 'true');
  assert.equal(await card.getByTestId('call-hangup').count(), 0, 'a joined call cannot be hung up from the card');
  await card.getByTestId('call-leave').click();
  await card.waitFor({ state: 'detached', timeout: STEP });
  assert.deepEqual(await modesAfter(4), ['call.monitor:listen', 'call.monitor:whisper', 'call.monitor:barge', 'call.leave:']);

  await page.getByTestId('open-supervisor').click();
  await page.locator('[data-testid="super-call"][data-monitor=""]').waitFor({ timeout: STEP });
});
