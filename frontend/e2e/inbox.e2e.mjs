// End-to-end test of the inbox against the real app in browser mode, in headless Chromium.
//
//   SWITCHBOARD_UI_URL=http://127.0.0.1:PORT/?token=… npm run e2e   # an app already running
//   SWITCHBOARD_BIN=../build/bin/switchboard npm run e2e              # start `switchboard browser --data TMP --demo`
//
// With neither set, ../build/bin/switchboard is used when it exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const frontendDir = resolve(here, '..');
const outDir = resolve(frontendDir, '../build/test-output');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ADMIN = { email: 'admin@example.com', password: 'switchboard' };
const STEP = 15_000;

let app = null; // child process when we started the binary
let appLog = '';
let tempDirs = [];
let context = null;
let page = null;
let uiURL = '';
const browserLog = [];

function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** startBinary runs `bin browser --data DIR --demo` and resolves with the URL it prints. */
function startBinary(bin) {
  return new Promise((resolveURL, reject) => {
    const data = tempDir('switchboard-e2e-data-');
    const child = spawn(bin, ['browser', '--data', data, '--demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    app = child;
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "Switchboard UI:" line within 60s\n${appLog}`)), 60_000);
    const onData = (chunk) => {
      const s = chunk.toString();
      appLog += s;
      buf += s;
      const m = buf.match(/Switchboard UI:\s*(https?:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolveURL(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (appLog += c.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited early (${code ?? sig})\n${appLog}`));
    });
  });
}

async function stopBinary() {
  if (!app || app.exitCode !== null || app.signalCode !== null) return;
  const exited = new Promise((r) => app.once('exit', r));
  app.kill('SIGTERM');
  const t = setTimeout(() => app.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

const byId = (id) => `[data-testid="${id}"]`;

async function waitForCount(selector, min, timeout = STEP) {
  await page.waitForFunction(
    ([sel, n]) => document.querySelectorAll(sel).length >= n,
    [selector, min],
    { timeout },
  );
  return page.locator(selector).count();
}

// Steps of one flow: once a step fails, the later ones are skipped instead of timing out.
let brokenAt = '';
function step(t, name, fn) {
  return t.test(name, async (st) => {
    if (brokenAt) {
      st.skip(`"${brokenAt}" failed`);
      return;
    }
    try {
      await fn();
    } catch (e) {
      brokenAt = name;
      throw e;
    }
  });
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  uiURL = process.env.SWITCHBOARD_UI_URL || '';
  if (!uiURL) {
    const fallback = resolve(frontendDir, '../build/bin/switchboard');
    const bin = process.env.SWITCHBOARD_BIN || (existsSync(fallback) ? fallback : '');
    if (!bin) throw new Error('set SWITCHBOARD_UI_URL or SWITCHBOARD_BIN (or build ../build/bin/switchboard)');
    uiURL = await startBinary(resolve(frontendDir, bin));
  }
  context = await chromium.launchPersistentContext(tempDir('switchboard-e2e-chromium-'), {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => browserLog.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.message}`));
});

after(async () => {
  await context?.close().catch(() => {});
  await stopBinary();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  // Kept beside the screenshots for when a step fails.
  writeFileSync(join(outDir, 'e2e-browser.log'), browserLog.join('\n') + '\n');
  if (appLog) writeFileSync(join(outDir, 'e2e-app.log'), appLog);
  const pageErrors = browserLog.filter((l) => l.startsWith('[pageerror]'));
  if (pageErrors.length) console.error(pageErrors.join('\n'));
});

test('the bridge refuses calls without the token', async () => {
  const origin = new URL(uiURL).origin;
  const body = JSON.stringify({ method: 'Ready', args: [] });
  const headers = { 'Content-Type': 'application/json' };

  const none = await fetch(`${origin}/bridge/call`, { method: 'POST', headers, body });
  assert.ok([401, 403].includes(none.status), `no token: got HTTP ${none.status}`);

  const wrong = await fetch(`${origin}/bridge/call`, {
    method: 'POST',
    headers: { ...headers, 'X-Bridge-Token': 'not-the-token' },
    body,
  });
  assert.ok([401, 403].includes(wrong.status), `wrong token: got HTTP ${wrong.status}`);

  const events = await fetch(`${origin}/bridge/events`, { signal: AbortSignal.timeout(5_000) });
  assert.ok([401, 403].includes(events.status), `events without token: got HTTP ${events.status}`);
  await events.body?.cancel();
});

test('sign in, open a conversation and reply', async (t) => {
  await step(t, 'the sign-in form shows and the token leaves the address bar', async () => {
    await page.goto(uiURL, { waitUntil: 'domcontentloaded' });
    await page.locator(byId('signin-form')).waitFor({ state: 'visible', timeout: STEP });
    assert.equal(new URL(page.url()).searchParams.has('token'), false, 'token still in the address bar');
    assert.match(await page.locator('h1').innerText(), /Switchboard/);
  });

  await step(t, 'the demo admin signs in on this computer', async () => {
    await page.locator(byId('signin-local')).check();
    await page.locator(byId('signin-email')).fill(ADMIN.email);
    await page.locator(byId('signin-password')).fill(ADMIN.password);
    await page.locator(byId('signin-submit')).click();
    await Promise.race([
      page.locator(byId('inbox')).waitFor({ state: 'visible', timeout: STEP }),
      page
        .locator(byId('signin-error'))
        .waitFor({ state: 'visible', timeout: STEP })
        .then(async () => {
          throw new Error(`sign-in failed: ${await page.locator(byId('signin-error')).innerText()}`);
        }),
    ]);
    const state = await page.locator(byId('connection-state')).getAttribute('data-state');
    assert.ok(['online', 'reconnecting', 'offline'].includes(state ?? ''), `connection state ${state}`);
  });

  await step(t, 'the inbox lists the seeded demo conversations', async () => {
    const n = await waitForCount(byId('conversation-item'), 3);
    assert.ok(n >= 3, `only ${n} conversations`);
    await page.screenshot({ path: join(outDir, 'e2e-inbox.png') });
  });

  const reply = `Thanks, we are looking into it (e2e ${Date.now()})`;

  await step(t, 'a conversation opens with its messages', async () => {
    const first = page.locator(byId('conversation-item')).first();
    const id = await first.getAttribute('data-id');
    assert.ok(id, 'conversation item without data-id');
    await first.click();
    await page.locator(byId('conversation-view')).waitFor({ state: 'visible', timeout: STEP });
    const n = await waitForCount(`${byId('conversation-view')} ${byId('message')}`, 1);
    assert.ok(n >= 1, 'no messages in the opened conversation');
  });

  await step(t, 'a reply sent with Enter shows as an outbound message', async () => {
    const input = page.locator(byId('reply-input'));
    await input.fill(reply);
    await input.press('Enter');
    const sent = page.locator(`${byId('message')}[data-direction="out"]`, { hasText: reply });
    await sent.first().waitFor({ state: 'visible', timeout: STEP });
    assert.equal(await input.inputValue(), '', 'reply box not cleared');
    const err = page.locator(byId('reply-error'));
    assert.equal(await err.count(), 0, (await err.count()) ? await err.innerText() : '');
    await page.screenshot({ path: join(outDir, 'e2e-conversation.png') });
  });
});

test('seeded messages show the times they were written, not now', async (t) => {
  const HOUR = 3_600_000;
  await step(t, 'the list shows Maria’s SMS as hours old, with the full time on hover', async () => {
    const maria = page.locator(byId('conversation-item')).filter({ hasText: 'Maria Lopez' }).filter({ has: page.locator(byId('channel-badge'), { hasText: 'SMS' }) });
    const time = maria.locator(byId('conversation-time'));
    const at = Date.parse(await time.getAttribute('datetime'));
    const age = Date.now() - at;
    // The demo seeds her SMS three hours ago and the reply four minutes after it.
    assert.ok(age > 2.8 * HOUR && age < 3.1 * HOUR, `the conversation is ${Math.round(age / 60_000)} minutes old`);
    assert.equal(await time.innerText(), `${Math.floor(age / HOUR)}h`);
    assert.match(await time.getAttribute('title'), /\d{4} at \d{1,2}:\d\d (AM|PM)$/);
    await maria.click();
  });
  await step(t, 'the timeline dates each message by its own time, under a day separator', async () => {
    const first = page.locator(byId('timeline-item')).filter({ hasText: 'hasn’t arrived' }).or(page.locator(byId('timeline-item')).filter({ hasText: "hasn't arrived" }));
    const time = first.first().locator(byId('message-time'));
    await time.waitFor();
    const iso = await time.getAttribute('datetime');
    const age = Date.now() - Date.parse(iso);
    assert.ok(age > 2.95 * HOUR && age < 3.05 * HOUR, `the first message is ${Math.round(age / 60_000)} minutes old`);
    const clock = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
    assert.equal(await time.innerText(), clock);
    const day = page.locator(byId('day-separator')).first();
    const seeded = new Date(iso);
    const today = new Date();
    assert.equal(await day.innerText(), seeded.toDateString() === today.toDateString() ? 'Today' : 'Yesterday');
    await page.screenshot({ path: join(outDir, 'e2e-times.png') });
  });
});

test('the admin dry-runs a message through a channel flow on the canvas', async (t) => {
  await step(t, 'the flow editor opens on a channel with its flow drawn', async () => {
    await page.locator(byId('open-admin')).click();
    await page.locator(byId('admin-console')).waitFor({ state: 'visible', timeout: STEP });
    await page.locator(byId('admin-nav-flows')).click();
    await page.locator(`${byId('flow-node')}[data-widget="trigger"]`).waitFor({ state: 'visible', timeout: STEP });
    await page.locator(byId('flow-json-toggle')).click();
    await page.waitForFunction(
      (sel) => (document.querySelector(sel)?.value ?? '').includes('"widgets"'), byId('flow-json'), { timeout: STEP });
    await page.locator(byId('flow-json-toggle')).click();
  });

  await step(t, 'a test message shows the path to a live agent, sending nothing', async () => {
    await page.locator(byId('flow-test-message')).fill('I want a live agent');
    await page.locator(byId('flow-test-run')).click();
    const trace = page.locator(byId('flow-trace'));
    await trace.filter({ hasText: 'send-to-agent' }).waitFor({ state: 'visible', timeout: STEP });
    assert.match(await trace.innerText(), /create task/);
    await page.locator(`${byId('flow-node')}[data-widget="to_agent"][data-on-path="true"]`).waitFor({ timeout: STEP });
    await page.screenshot({ path: join(outDir, 'e2e-flow-editor.png') });
    await page.locator(byId('admin-close')).click();
  });
});

test('the theme follows the system and the toggle overrides it', async () => {
  const bodyColor = async (scheme, choice) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate((c) => {
      if (c) document.documentElement.dataset.theme = c;
      else delete document.documentElement.dataset.theme;
    }, choice);
    return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  };
  const light = await bodyColor('light', null);
  const dark = await bodyColor('dark', null);
  assert.notEqual(light, dark, 'the system dark scheme changes nothing');
  assert.equal(await bodyColor('light', 'dark'), dark, 'the dark choice does not override a light system');
  assert.equal(await bodyColor('dark', 'light'), light, 'the light choice does not override a dark system');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.evaluate(() => delete document.documentElement.dataset.theme);
});
