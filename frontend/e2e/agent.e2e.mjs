// Issue 7 end to end: two agents in their own apps (browser mode), a real
// engine, the fake Twilio platform; run by app/e2etest (go test) which
// starts all of them and passes their addresses in the environment.
//
//   SWITCHBOARD_E2E=1 go test -run TestAgentDesktop ./app/e2etest
//
// Story: Maria writes on WhatsApp, then on SMS asks for a live agent. Ana is
// on a break, so the offer goes to Ben (and not to Ana); Ben rejects it; Ana
// becomes available and the offer moves to her; she accepts, sees Maria's
// WhatsApp and SMS messages in one timeline, replies; the fake platform
// receives the reply and its delivery callback turns the status "delivered".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const CONTROL = env.E2E_CONTROL_URL;
const ENGINE = env.E2E_ENGINE_URL;
const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
const PASSWORD = env.E2E_PASSWORD;
const MARIA = '+14155550199';
const STEP = 20_000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
const dirs = [];
const pages = {};

async function control(path, body) {
  const res = await fetch(CONTROL + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}

async function signIn(page, ui, email) {
  await page.goto(ui);
  // A fresh app's own (embedded) workspace has no user, so it opens on the first run.
  await page.locator('[data-testid="setup-form"], [data-testid="signin-form"]').first().waitFor({ timeout: STEP });
  if (await page.getByTestId('setup-form').count()) await page.getByTestId('setup-skip').click();
  await page.getByTestId('signin-form').waitFor({ timeout: STEP });
  await page.getByTestId('signin-server').check();
  await page.getByTestId('signin-server-url').fill(ENGINE);
  await page.getByTestId('signin-email').fill(email);
  await page.getByTestId('signin-password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('inbox').waitFor({ timeout: STEP });
  await page.getByTestId('connection-state').filter({ hasText: /online|en línea/i }).waitFor({ timeout: STEP });
}

async function setActivity(page, name) {
  await page.getByTestId('activity-select').selectOption(name);
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="activity-select"]')?.value === n, name, { timeout: STEP });
}

before(async () => {
  for (const k of ['E2E_CONTROL_URL', 'E2E_ENGINE_URL', 'E2E_UI_ANA', 'E2E_UI_BEN', 'E2E_PASSWORD']) {
    assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  }
  mkdirSync(OUT, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-agent-e2e-'));
  dirs.push(profile);
  browser = await chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
  for (const [name, ui] of [['ana', env.E2E_UI_ANA], ['ben', env.E2E_UI_BEN]]) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
    pages[name] = page;
    await signIn(page, ui, `${name}@example.com`);
  }
});

after(async () => {
  await browser?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('an offer goes to the right agent, moves on after a reject, and a reply is delivered', async () => {
  const { ana, ben } = pages;
  await setActivity(ana, 'Break');

  // Maria wrote on WhatsApp earlier; now she asks for a person on SMS.
  await control('/inbound', { channel: 'whatsapp.twilio', from: MARIA, body: 'Hi, do you ship to Canada?' });
  await control('/inbound', { channel: 'sms.twilio', from: MARIA, body: 'I want to talk to a live agent please' });

  // Ben is the only available agent: the offer is his.
  const benOffer = ben.getByTestId('offer-card').first();
  await benOffer.waitFor({ timeout: STEP });
  assert.match(await benOffer.innerText(), /live agent/i);
  await ben.getByTestId('offer-countdown').first().waitFor();
  assert.equal(await ana.getByTestId('offer-card').count(), 0, 'Ana is on a break and must not get the offer');
  await ben.screenshot({ path: join(OUT, 'agent-offer.png') });

  await ben.getByTestId('offer-reject').first().click();
  await ben.getByTestId('offer-card').first().waitFor({ state: 'detached', timeout: STEP });

  // Ana comes back: the task is offered to her, not back to Ben (his cool-down has not passed).
  await setActivity(ana, 'Available');
  const anaOffer = ana.getByTestId('offer-card').first();
  await anaOffer.waitFor({ timeout: STEP });
  await ana.getByTestId('offer-accept').first().click();
  await ana.getByTestId('conversation-view').waitFor({ timeout: STEP });
  assert.equal(await ben.getByTestId('offer-card').count(), 0);

  // One timeline: the WhatsApp message and the SMS, in order.
  const items = ana.getByTestId('timeline-item');
  await items.filter({ hasText: 'live agent' }).first().waitFor({ timeout: STEP });
  const channels = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-channel')));
  assert.ok(channels.some((c) => c?.startsWith('whatsapp')), `timeline channels: ${channels}`);
  assert.ok(channels.some((c) => c?.startsWith('sms')), `timeline channels: ${channels}`);
  assert.ok(channels.findIndex((c) => c?.startsWith('whatsapp')) < channels.findIndex((c) => c?.startsWith('sms')));

  // Reply on SMS; the fake Twilio receives it.
  const reply = 'Hi Maria, this is Ana. Happy to help!';
  await ana.getByTestId('reply-input').fill(reply);
  await ana.getByTestId('reply-send').click();
  let sent = [];
  for (let i = 0; i < 100 && !sent.some((m) => m.Body === reply); i++) {
    sent = await control('/sent');
    await new Promise((r) => setTimeout(r, 100));
  }
  const msg = sent.find((m) => m.Body === reply);
  assert.ok(msg, `the fake platform never received the reply: ${JSON.stringify(sent)}`);
  assert.equal(msg.To, MARIA);
  assert.match(msg.Path, /\/2010-04-01\/Accounts\/AC\w+\/Messages\.json$/);

  // The platform reports delivery; the agent sees it.
  await control('/status', { body: reply, status: 'delivered' });
  const status = ana.getByTestId('timeline-item').filter({ hasText: reply }).getByTestId('message-status');
  await status.filter({ hasText: /delivered|entregado/i }).waitFor({ timeout: STEP });
  await ana.screenshot({ path: join(OUT, 'agent-conversation.png') });
  await ana.getByTestId('scope-mine').click();
  await ana.getByTestId('conversation-item').first().waitFor({ timeout: STEP });
  await ana.screenshot({ path: join(OUT, 'agent-inbox.png') });
});
