// The admin console end to end, as an admin in browser mode: app/e2etest (go test) starts a real engine
// that points Telegram at its fake, the admin's and an agent's apps, and passes their addresses here.
//
//   SWITCHBOARD_E2E=1 go test -run TestAdminConsole ./app/e2etest
//
// Story: the admin connects a Telegram bot through the form built from the connector's settings, tests
// the connection against the fake Bot API; a customer writes and the message reaches Lucia, an agent;
// the admin draws a keyword branch in the visual flow editor, dry-runs it (the path lights up), saves
// it, and the next customer's message takes that branch; a queue whose expression matches only Spanish
// speakers lists Lucia and not Ben. Every screen is photographed in light and dark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
const STEP = 20_000;
const SECRET = 'e2e-webhook-secret';
const BILLING = 'Billing team here: we have your invoice question.';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
const pages = {};

async function control(path, body) {
  const res = await fetch(env.E2E_CONTROL_URL + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}

/** customer sends a Telegram message to the bot, as Telegram posts it to the webhook. */
const customer = (userId, name, text) => control('/telegram', { userId, name, text, secret: SECRET, instance: 'support' });

/** shoot photographs the page in the light and the dark theme. */
async function shoot(page, name) {
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.waitForTimeout(400); // buttons fade their colours over 0.12 s
    await page.screenshot({ path: join(OUT, `admin-${name}-${theme}.png`) });
  }
  await page.evaluate(() => delete document.documentElement.dataset.theme);
}

async function signIn(page, ui, email, firstRunShot) {
  await page.goto(ui);
  // A fresh app's own (embedded) workspace has no user: it offers the first run.
  await page.locator('[data-testid="setup-form"], [data-testid="signin-form"]').first().waitFor({ timeout: STEP });
  if (await page.getByTestId('setup-form').count()) {
    if (firstRunShot) await shoot(page, 'first-run');
    await page.getByTestId('setup-skip').click();
  }
  await page.getByTestId('signin-server').check();
  await page.getByTestId('signin-server-url').fill(env.E2E_ENGINE_URL);
  await page.getByTestId('signin-email').fill(email);
  await page.getByTestId('signin-password').fill(env.E2E_PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('inbox').waitFor({ timeout: STEP });
  await page.getByTestId('connection-state').filter({ hasText: /online|en línea/i }).waitFor({ timeout: STEP });
}

/** node is a widget on the canvas. */
const node = (page, name) => page.locator(`.svelte-flow__node[data-id="${name}"]`);

/** drag draws an edge on the canvas with the mouse, from a widget's event handle to another widget. */
async function drag(page, from, event, to) {
  const src = node(page, from).locator(`.svelte-flow__handle[data-handleid="${event}"]`);
  const dst = node(page, to).locator('.svelte-flow__handle.target');
  const a = await src.boundingBox();
  const b = await dst.boundingBox();
  assert.ok(a && b, `handles of ${from}:${event} and ${to} are not on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** pick selects a widget and sets where one of its events leads, through the properties panel. */
async function wire(page, widget, event, target) {
  await page.getByTestId('flow-select').selectOption(widget);
  await page.locator(`[data-testid="widget-properties"][data-widget="${widget}"]`).waitFor();
  await page.getByTestId(`transition-${event}`).selectOption(target);
}

before(async () => {
  for (const k of ['E2E_CONTROL_URL', 'E2E_ENGINE_URL', 'E2E_UI_ADMIN', 'E2E_UI_LUCIA', 'E2E_PASSWORD', 'E2E_BOT_TOKEN']) {
    assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  }
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
  for (const [name, ui, email] of [['admin', env.E2E_UI_ADMIN, 'admin@example.com'], ['lucia', env.E2E_UI_LUCIA, 'lucia@example.com']]) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
    page.on('dialog', (d) => d.accept());
    pages[name] = page;
    await signIn(page, ui, email, name === 'admin');
  }
  await pages.admin.getByTestId('open-admin').click();
  await pages.admin.getByTestId('admin-console').waitFor({ timeout: STEP });
});

after(async () => {
  await browser?.close();
});

test('the admin connects Telegram through its form and a customer reaches an agent', async () => {
  const { admin, lucia } = pages;
  await admin.getByTestId('channel-add-connector').selectOption('telegram');
  const form = admin.getByTestId('channel-form');
  await form.waitFor();
  // The form is the connector's own description: labels, help, a write-only secret.
  assert.equal(await admin.getByTestId('setting-botToken').getAttribute('data-kind'), 'secret');
  assert.match(await admin.getByTestId('secret-state-botToken').innerText(), /not set/);
  await admin.getByTestId('channel-instance').fill('support');
  await admin.locator('#ch-botToken').fill(env.E2E_BOT_TOKEN);
  await admin.locator('#ch-mode').selectOption('webhook');
  await admin.locator('#ch-secretToken').fill(SECRET);
  assert.equal(await admin.getByTestId('channel-webhook-value').inputValue(), `${env.E2E_ENGINE_URL}/hooks/telegram/support`);
  await shoot(admin, 'channel-form');

  await admin.getByTestId('channel-test').click();
  const result = admin.getByTestId('channel-test-result');
  await result.waitFor({ timeout: STEP });
  assert.equal(await result.getAttribute('data-ok'), 'true', await result.innerText());
  assert.match(await result.innerText(), /@switchboard_test_bot/);
  await admin.getByTestId('channel-save').click();
  const row = admin.locator('[data-testid="channel-row"][data-key="telegram/support"]');
  await row.waitFor({ timeout: STEP });
  assert.match(await row.getByTestId('channel-state').innerText(), /Connected/);
  await row.getByTestId('channel-row-test-btn').click();
  await row.getByTestId('channel-row-test').filter({ hasText: '@switchboard_test_bot' }).waitFor({ timeout: STEP });

  // A customer writes; the default flow hands her to an agent; Lucia (available) gets the offer.
  await customer(501, 'Marta', 'Hola, quiero hablar con un agente');
  const offer = lucia.getByTestId('offer-card').first();
  await offer.waitFor({ timeout: STEP });
  await lucia.getByTestId('offer-accept').first().click();
  await lucia.getByTestId('conversation-view').waitFor({ timeout: STEP });
  await lucia.getByTestId('timeline-item').filter({ hasText: 'quiero hablar con un agente' }).first().waitFor({ timeout: STEP });
  await lucia.screenshot({ path: join(OUT, 'admin-story-agent.png') });

  // The channel's health shows the message.
  await admin.getByTestId('admin-nav-flows').click();
  await admin.getByTestId('admin-nav-channels').click();
  await row.waitFor({ timeout: STEP });
  assert.doesNotMatch(await row.getByTestId('channel-last-inbound').innerText(), /never/);
  await shoot(admin, 'channels');
});

test('the admin draws a keyword branch, dry-runs it, saves it, and the next message takes it', async () => {
  const { admin } = pages;
  await admin.getByTestId('admin-nav-flows').click();
  await node(admin, 'trigger').waitFor({ timeout: STEP });
  assert.equal(await admin.getByTestId('flow-instance').inputValue(), 'telegram/support');

  // A keyword split: "invoice" or "refund" goes to a billing answer.
  await admin.getByTestId('palette-split').click();
  await admin.locator('[data-testid="widget-properties"][data-widget="split_1"]').waitFor();
  await admin.getByTestId('split-case-event').fill('billing');
  await admin.getByTestId('split-case-event').press('Tab');
  await admin.getByTestId('split-case-value').fill('invoice, refund');
  await admin.getByTestId('split-case-value').press('Tab');
  await admin.getByTestId('palette-send-message').click();
  await admin.locator('[data-testid="widget-properties"][data-widget="send-message_1"]').waitFor();
  await admin.getByTestId('widget-body').fill(BILLING);
  await wire(admin, 'send-message_1', 'sent', 'end');
  await wire(admin, 'send-message_1', 'failed', 'end');
  await wire(admin, 'trigger', 'incomingMessage', 'split_1');
  await wire(admin, 'split_1', 'noMatch', 'init');

  // Until the branch leads somewhere, the editor marks the split's problem on it.
  await admin.getByTestId('flow-validate').click();
  await node(admin, 'split_1').getByTestId('flow-node-problems').waitFor({ timeout: STEP });

  // The billing branch is drawn on the canvas with the mouse.
  await admin.locator('.svelte-flow__controls-fitview').click();
  await drag(admin, 'split_1', 'billing', 'send-message_1');
  await admin.getByTestId('flow-select').selectOption('split_1');
  await admin.locator('[data-testid="widget-properties"][data-widget="split_1"]').waitFor();
  assert.equal(await admin.getByTestId('transition-billing').inputValue(), 'send-message_1', 'the drawn edge is not the billing transition');
  // Undo takes the edge back; redo restores it.
  await admin.getByTestId('flow-undo').click();
  await admin.waitForFunction(() => !document.querySelector('.svelte-flow__edge[data-id="split_1:billing"]'));
  await admin.getByTestId('flow-redo').click();
  await admin.locator('.svelte-flow__edge[data-id="split_1:billing"]').waitFor({ timeout: STEP });

  await admin.getByTestId('flow-validate').click();
  await admin.getByTestId('flow-status').filter({ hasText: 'Valid' }).waitFor({ timeout: STEP });
  assert.equal(await admin.getByTestId('flow-node-problems').count(), 0);

  // The dry run lights up the path a test message takes.
  await admin.getByTestId('flow-test-message').fill('I have a question about my invoice');
  await admin.getByTestId('flow-test-run').click();
  for (const w of ['trigger', 'split_1', 'send-message_1']) {
    await admin.locator(`[data-testid="flow-node"][data-widget="${w}"][data-on-path="true"]`).waitFor({ timeout: STEP });
  }
  assert.equal(await admin.locator('[data-testid="flow-node"][data-widget="init"][data-on-path="true"]').count(), 0);
  assert.match(await admin.getByTestId('flow-trace').innerText(), /Billing team here/);
  await shoot(admin, 'flows');

  await admin.getByTestId('flow-save').click();
  await admin.getByTestId('flow-status').filter({ hasText: /revision 1/ }).waitFor({ timeout: STEP });

  // The next customer's message takes the branch: the bot answers with the billing text.
  await customer(502, 'Tom', 'Where is my invoice?');
  let sent = [];
  for (let i = 0; i < 200 && !sent.some((m) => m.chat_id === 502 && m.text === BILLING); i++) {
    sent = await control('/telegram/sent');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(sent.some((m) => m.chat_id === 502 && m.text === BILLING), `the bot never sent the billing answer: ${JSON.stringify(sent)}`);
});

test('a queue for Spanish speakers lists only the agents who speak Spanish', async () => {
  const { admin } = pages;
  await admin.getByTestId('admin-nav-routing').click();
  await admin.getByTestId('queue-new').click();
  await admin.getByTestId('queue-name').fill('Spanish');
  await admin.getByTestId('queue-expression').fill('"es" in worker.languages &&');
  await admin.getByTestId('queue-check-error').waitFor({ timeout: STEP });
  await admin.getByTestId('queue-expression').fill('"es" in worker.languages');
  await admin.getByTestId('queue-check-ok').waitFor({ timeout: STEP });
  const matches = admin.getByTestId('queue-match');
  await matches.first().waitFor();
  const names = await matches.allInnerTexts();
  assert.equal(names.length, 1, `matches: ${names}`);
  assert.match(names[0], /Lucia Agent/);
  await shoot(admin, 'routing-queue');
  await admin.getByTestId('queue-save').click();
  await admin.locator('[data-testid="queue-row"]', { hasText: 'Spanish' }).waitFor({ timeout: STEP });

  // A workflow whose filter sends Spanish tasks to the new queue first.
  await admin.getByTestId('routing-tab-workflows').click();
  await admin.getByTestId('workflow-row').first().waitFor();
  await admin.getByTestId('workflow-new').click();
  await admin.getByTestId('workflow-name').fill('Languages');
  await admin.getByTestId('workflow-add-filter').click();
  const filter = admin.getByTestId('workflow-filter');
  await filter.getByLabel('Filter name').fill('Spanish speakers');
  await filter.getByLabel('Which tasks').fill('task.language == "es"');
  await filter.getByTestId('workflow-target').locator('select').selectOption({ label: 'Spanish' });
  await admin.getByTestId('workflow-save').click();
  await admin.locator('[data-testid="workflow-row"]', { hasText: 'Spanish speakers' }).waitFor({ timeout: STEP });
  await shoot(admin, 'routing-workflows');

  // Lucia's skills, VIP and chat capacity.
  await admin.getByTestId('routing-tab-agents').click();
  const lucia = admin.locator('[data-testid="worker-row"]', { hasText: 'Lucia Agent' });
  await lucia.getByTestId('worker-edit').click();
  await admin.getByTestId('worker-skills').fill('billing, returns');
  await admin.getByTestId('worker-vip').check();
  await admin.getByTestId('worker-capacity-chat').fill('4');
  await admin.getByTestId('worker-save').click();
  await lucia.filter({ hasText: 'billing, returns' }).filter({ hasText: 'VIP' }).filter({ hasText: 'chat 4' }).waitFor({ timeout: STEP });
  await shoot(admin, 'routing-agents');
});

test('a web chat channel gives its snippet and a live preview of the widget', async () => {
  const { admin } = pages;
  await admin.getByTestId('admin-nav-channels').click();
  await admin.getByTestId('channel-add-connector').selectOption('webchat');
  await admin.getByTestId('channel-instance').fill('site');
  await admin.locator('#ch-allowedOrigins').fill('https://shop.example');
  await admin.locator('#ch-title').fill('Shop help');
  await admin.getByTestId('channel-save').click();
  const row = admin.locator('[data-testid="channel-row"][data-key="webchat/site"]');
  await row.waitFor({ timeout: STEP });
  await row.getByTestId('channel-snippet').click();
  const snippet = await admin.getByTestId('webchat-snippet-value').inputValue();
  assert.equal(snippet, `<script src="${env.E2E_ENGINE_URL}/widget/site/widget.js" async></script>`);
  // Chromium does not render a cross-origin frame that is off screen: bring it into view.
  await admin.getByTestId('webchat-preview').scrollIntoViewIfNeeded();
  const preview = admin.frameLocator('[data-testid="webchat-preview"]');
  await preview.locator('#switchboard-widget .sb-bubble').click({ timeout: STEP });
  await preview.locator('#switchboard-widget .sb-title').filter({ hasText: 'Shop help' }).waitFor({ timeout: STEP });
  await shoot(admin, 'webchat');
});

test('people, canned responses and labels, and the audit log of every change', async () => {
  const { admin } = pages;
  await admin.getByTestId('admin-nav-people').click();
  await admin.locator('[data-testid="people-row"][data-email="lucia@example.com"]').waitFor({ timeout: STEP });
  await admin.getByTestId('people-invite').click();
  await admin.getByTestId('people-name').fill('Nora New');
  await admin.getByTestId('people-email').fill('nora@example.com');
  await admin.getByTestId('people-submit').click();
  const link = await admin.getByTestId('people-invite-link-value').inputValue();
  assert.match(link, new RegExp(`^${env.E2E_ENGINE_URL}/invite/`));
  await shoot(admin, 'people');

  await admin.getByTestId('admin-nav-content').click();
  await admin.getByTestId('label-new').click();
  await admin.getByTestId('label-name').fill('Billing');
  await admin.getByTestId('label-save').click();
  await admin.locator('[data-testid="label-row"]', { hasText: 'Billing' }).waitFor({ timeout: STEP });
  await shoot(admin, 'content');

  await admin.getByTestId('admin-nav-audit').click();
  await admin.getByTestId('audit-row').first().waitFor({ timeout: STEP });
  const actions = await admin.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  for (const a of ['channel.save', 'flow.save', 'queue.create', 'invite.create', 'label.create']) {
    assert.ok(actions.includes(a), `no ${a} in the audit log: ${actions}`);
  }
  await shoot(admin, 'audit');
});
