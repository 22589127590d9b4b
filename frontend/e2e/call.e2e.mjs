// The agent's call controls in the real UI (browser mode) against a real
// engine: a phone call arrives on the trunk, Ana answers it on the call
// card, holds (the caller hears music), resumes and hangs up (the caller's
// phone gets BYE), then plays the call's recording from the timeline. Then
// Ana dials a number in the app's dialer: the engine calls out through the
// trunk to the carrier (sipp), the call card shows the number connected,
// and her hang-up ends the carrier's call. Run by app/e2etest's
// TestCallControls (go test), which starts the engine, Ana's app with the
// null sound device, the caller and the carrier.
//
//   SWITCHBOARD_E2E=1 go test -run TestCallControls ./app/e2etest
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';
import { until } from './lib.mjs';

const env = process.env;
const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
const STEP = 20_000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let page;

async function control(path, body) {
  const res = await fetch(env.E2E_CONTROL_URL + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

before(async () => {
  for (const k of ['E2E_CONTROL_URL', 'E2E_ENGINE_URL', 'E2E_UI', 'E2E_PASSWORD']) {
    assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  }
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 820 } })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(env.E2E_UI);
  // A new app's own workspace has no user yet: it offers the first-run set-up first.
  await page.locator('[data-testid="setup-form"], [data-testid="signin-form"]').first().waitFor({ timeout: STEP });
  if (await page.getByTestId('setup-form').count()) await page.getByTestId('setup-skip').click();
  await page.getByTestId('signin-form').waitFor({ timeout: STEP });
  await page.getByTestId('signin-server').check();
  await page.getByTestId('signin-server-url').fill(env.E2E_ENGINE_URL);
  await page.getByTestId('signin-email').fill('ana@example.com');
  await page.getByTestId('signin-password').fill(env.E2E_PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('inbox').waitFor({ timeout: STEP });
  await page.getByTestId('call-panel').waitFor({ timeout: STEP });
});

after(async () => {
  await browser?.close();
});

test('incoming call: answer, hold, resume, hang up', async () => {
  await control('/call', {});
  const card = page.getByTestId('call-incoming');
  await card.waitFor({ timeout: STEP });
  assert.match(await card.getByTestId('call-caller').textContent(), /\+15551234567/);
  // The card names the queue the call waited in.
  assert.ok((await card.getByTestId('call-queue').textContent()).includes(env.E2E_QUEUE), 'the queue on the call card');
  const secs = Number((await card.getByTestId('call-countdown').textContent()).replace(/\D/g, ''));
  assert.ok(secs > 0 && secs <= 30, `countdown ${secs}`);
  await card.getByTestId('call-answer').click();

  const live = page.locator('[data-testid="call-live"][data-state="connected"]');
  await live.waitFor({ timeout: STEP });
  await until('the timer to run', async () => (await live.getByTestId('call-timer').textContent()) !== '0:00');
  // The answered call's conversation opens beside it.
  await page.getByTestId('contact-panel').waitFor({ timeout: STEP });
  await until('the caller to hear Ana', async () => (await control('/caller')).hearsAgent);
  await until('quality figures', async () => (await live.getByTestId('call-quality').count()) > 0);

  await live.getByTestId('call-hold').click();
  const held = page.locator('[data-testid="call-live"][data-state="held"]');
  await held.waitFor({ timeout: STEP });
  assert.equal(await held.getByTestId('call-hold').getAttribute('aria-pressed'), 'true');
  await until('the caller to hear music, not Ana', async () => { const c = await control('/caller'); return c.onHold; });
  await page.screenshot({ path: join(OUT, 'call-held.png') });

  await held.getByTestId('call-hold').click();
  await live.waitFor({ timeout: STEP });
  await live.getByTestId('call-hangup').click();
  await page.getByTestId('call-live').waitFor({ state: 'detached', timeout: STEP });
  await until('the caller to get BYE', async () => (await control('/caller')).ended);

  // The recording of both sides plays from the timeline.
  await page.getByTestId('call-audio-play').first().click({ timeout: STEP });
  const player = page.getByTestId('call-audio').first();
  await player.waitFor({ timeout: STEP });
  assert.match(await player.getAttribute('src'), /^data:audio\/wav;base64,UklGR/);
});

test('outbound call: dial a number, talk, hang up', async () => {
  // Ana finishes the last call's wrap-up first: her one voice slot is free again.
  await page.getByTestId('task-complete').click({ timeout: STEP });
  await page.getByTestId('task-complete').waitFor({ state: 'detached', timeout: STEP });
  await control('/carrier', {});
  await page.getByTestId('call-number').fill('+1 555 765-4321');
  await page.getByTestId('call-dial').click();
  const live = page.locator('[data-testid="call-live"][data-state="connected"]');
  const refused = page.getByTestId('call-error');
  await live.or(refused).first().waitFor({ timeout: STEP });
  if (await refused.count()) assert.fail(`the call was not placed: ${await refused.textContent()}`);
  assert.match(await live.getByTestId('call-caller').textContent(), /\+15557654321/);
  assert.equal(await page.getByTestId('call-number').inputValue(), '', 'the dialer clears once the call is placed');
  await until('the timer to run', async () => (await live.getByTestId('call-timer').textContent()) !== '0:00');
  assert.equal((await control('/carrier')).ended, false, 'the carrier is still on the call');
  await page.screenshot({ path: join(OUT, 'call-outbound.png') });

  await live.getByTestId('call-hangup').click();
  await page.getByTestId('call-live').waitFor({ state: 'detached', timeout: STEP });
  const carrier = await until('the carrier to get BYE and end', async () => { const c = await control('/carrier'); return c.ended && c; });
  assert.ok(carrier.ok, `the carrier's scenario failed: ${carrier.output}`);
});
