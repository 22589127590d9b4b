// End-to-end tests of the desktop app's own behaviour, in headless Chromium against the real
// binary in browser mode (the same UI and the same Go app layer as the window):
//
//   - settings survive a restart of the app (and start at login writes the XDG autostart entry);
//   - a dropped connection to the team server shows the offline banner, a reply waits in the
//     outbox, and the app reconnects by itself, sends the reply once and says "Reconnected".
//
//   SWITCHBOARD_BIN=../build/bin/switchboard node --test e2e/desktop.e2e.mjs
//
// Each app runs with its own XDG config, state and data directories. Screenshots:
// ../build/test-output/e2e-settings.png, e2e-offline.png, e2e-reconnected.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../../build/test-output');
const bin = resolve(here, '..', process.env.SWITCHBOARD_BIN || '../build/bin/switchboard');
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const STEP = 15_000;
const byId = (id) => `[data-testid="${id}"]`;

let browser = null;
const children = [];
const proxies = [];
const temps = [];
const logs = {};

function temp(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** run starts the binary and resolves with the first match of pattern in its output. */
function run(name, args, env, pattern) {
  return new Promise((ok, fail) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push(child);
    logs[name] = '';
    const timer = setTimeout(() => fail(new Error(`${name}: no ${pattern} within 60s\n${logs[name]}`)), 60_000);
    const onData = (c) => {
      logs[name] += c.toString();
      const m = logs[name].match(pattern);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited (${code ?? sig})\n${logs[name]}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/** A user's own directories, as the desktop would have them. */
function home() {
  const h = temp('sb-home-');
  return { config: join(h, 'config'), state: join(h, 'state'), data: join(h, 'data'), xdgData: join(h, 'share') };
}

function appEnv(h) {
  return { XDG_CONFIG_HOME: h.config, XDG_STATE_HOME: h.state, XDG_DATA_HOME: process.env.XDG_DATA_HOME || h.xdgData };
}

/** startApp runs `switchboard browser` for a user and opens its page in a fresh browser context. */
async function startApp(name, h, extra = []) {
  const app = await run(name, ['browser', '--data', h.data, ...extra], appEnv(h), /Switchboard UI:\s*(http\S+)/);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  page.on('pageerror', (e) => (logs[`${name}-page`] = (logs[`${name}-page`] ?? '') + e.message + '\n'));
  await page.goto(app.url, { waitUntil: 'domcontentloaded' });
  return { ...app, context, page };
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  assert.ok(existsSync(bin), `no binary at ${bin}; build it first (make build)`);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const p of proxies) await p.close();
  for (const c of children) await stop(c);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
  writeFileSync(join(outDir, 'e2e-desktop.log'), Object.entries(logs).map(([k, v]) => `==== ${k}\n${v}`).join('\n'));
});

test('settings survive a restart of the app', async () => {
  const h = home();
  const autostart = join(h.config, 'autostart', 'switchboard.desktop');
  const first = await startApp('settings-1', h, ['--demo']);
  let page = first.page;
  await page.locator(byId('signin-form')).waitFor({ timeout: STEP });
  await page.locator(byId('open-settings')).click();
  await page.locator(byId('settings-form')).waitFor({ timeout: STEP });
  await page.locator(byId('settings-server')).fill('https://cc.example.com/');
  await page.locator(byId('settings-theme')).selectOption('dark');
  await page.locator(byId('settings-mic')).fill('USB Headset Mic');
  await page.locator(byId('settings-ringer')).fill('Speakers');
  await page.locator(byId('settings-notifications')).uncheck();
  await page.locator(byId('settings-autostart')).check();
  await page.locator(byId('settings-language')).selectOption('es');
  await page.locator(byId('settings-save')).click();
  // A new language re-renders the page.
  await page.waitForFunction(() => document.documentElement.lang === 'es', null, { timeout: STEP });
  await page.locator(byId('signin-form')).waitFor({ timeout: STEP });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.ok(existsSync(autostart), 'start at login wrote no autostart entry');
  assert.match(readFileSync(autostart, 'utf8'), new RegExp(`^Exec=${bin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  await first.context.close();
  await stop(first.child);

  // A new process and a new browser profile: everything comes from the settings file.
  const second = await startApp('settings-2', h, ['--demo']);
  page = second.page;
  await page.locator(byId('signin-form')).waitFor({ timeout: STEP });
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.locator(byId('signin-server-url')).inputValue(), 'https://cc.example.com');
  assert.equal(await page.locator(byId('signin-server')).isChecked(), true);
  await page.locator(byId('open-settings')).click();
  await page.locator(byId('settings-form')).waitFor({ timeout: STEP });
  assert.equal(await page.locator(byId('settings-theme')).inputValue(), 'dark');
  assert.equal(await page.locator(byId('settings-language')).inputValue(), 'es');
  assert.equal(await page.locator(byId('settings-mic')).inputValue(), 'USB Headset Mic');
  assert.equal(await page.locator(byId('settings-ringer')).inputValue(), 'Speakers');
  assert.equal(await page.locator(byId('settings-notifications')).isChecked(), false);
  assert.equal(await page.locator(byId('settings-sound')).isChecked(), true);
  assert.equal(await page.locator(byId('settings-autostart')).isChecked(), true);
  assert.match(await page.locator(byId('about-commit')).innerText(), /^[0-9a-f]{7,}(-dirty)?$|^unknown$/);
  await page.screenshot({ path: join(outDir, 'e2e-settings.png') });

  // Off again: the entry goes.
  await page.locator(byId('settings-autostart')).uncheck();
  await page.locator(byId('settings-save')).click();
  await page.locator(byId('settings-saved')).waitFor({ timeout: STEP });
  assert.ok(!existsSync(autostart), 'the autostart entry stayed after switching start at login off');
  await second.context.close();
  await stop(second.child);
});

/** proxy forwards TCP to target; drop() cuts every connection and refuses new ones, restore() listens again. */
async function proxy(target) {
  const { port: targetPort } = new URL(target);
  const sockets = new Set();
  const track = (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  let up = true;
  const server = createServer((client) => {
    logs.proxy = (logs.proxy ?? '') + `${new Date().toISOString()} connection from ${client.remotePort}${up ? '' : ' WHILE DOWN'}\n`;
    const upstream = connect(Number(targetPort), '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port) => new Promise((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', () => ok(server.address().port)));
  const port = await listen(0);
  const p = {
    url: `http://127.0.0.1:${port}`,
    drop: () =>
      new Promise((ok) => {
        up = false;
        logs.proxy += `${new Date().toISOString()} drop (${sockets.size} sockets)\n`;
        server.close(() => ok());
        for (const s of sockets) s.destroy();
      }),
    restore: () => {
      up = true;
      logs.proxy += `${new Date().toISOString()} restore\n`;
      return listen(port);
    },
    close: () =>
      new Promise((ok) => {
        for (const s of sockets) s.destroy();
        if (server.listening) server.close(() => ok());
        else ok();
      }),
  };
  proxies.push(p);
  return p;
}

test('a dropped connection shows the offline banner and recovers by itself', async () => {
  const engine = await run('engine', ['serve', '--addr', '127.0.0.1:0', '--data', temp('sb-engine-'), '--demo'], {}, /url=(http:\/\/127\.0\.0\.1:\d+)/);
  const net = await proxy(engine.url);
  const h = home();
  const app = await startApp('offline-app', h);
  const page = app.page;
  // A new app's own workspace has no user yet: it offers the first-run set-up first.
  await page.locator(`${byId('setup-form')}, ${byId('signin-form')}`).first().waitFor({ timeout: STEP });
  if (await page.locator(byId('setup-form')).count()) await page.locator(byId('setup-skip')).click();
  await page.locator(byId('signin-form')).waitFor({ timeout: STEP });
  await page.locator(byId('signin-server')).check();
  await page.locator(byId('signin-server-url')).fill(net.url);
  await page.locator(byId('signin-email')).fill('ana@example.com');
  await page.locator(byId('signin-password')).fill('switchboard');
  await page.locator(byId('signin-submit')).click();
  await page.locator(byId('inbox')).waitFor({ timeout: STEP });
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.state === 'online', byId('connection-state'), { timeout: STEP });
  await page.locator(byId('conversation-item')).first().click();
  await page.locator(byId('reply-input')).waitFor({ timeout: STEP });
  assert.equal(await page.locator(byId('connection-banner')).count(), 0, 'a banner while online');

  await net.drop();
  const banner = page.locator(byId('connection-banner'));
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.state === 'offline', byId('connection-banner'), { timeout: STEP });
  assert.match(await page.locator(byId('banner-text')).innerText(), /You are offline\./);

  const text = `Written while the network was down ${Date.now()}`;
  await page.locator(byId('reply-input')).fill(text);
  await page.locator(byId('reply-send')).click();
  await page.locator(byId('banner-pending')).waitFor({ timeout: STEP });
  assert.equal(await page.locator(byId('banner-pending')).innerText(), '1 reply is waiting to be sent.');
  const queued = page.locator(byId('message'), { hasText: text });
  assert.equal(await queued.getAttribute('data-status'), 'queued');
  await page.waitForFunction((sel) => /Trying again in \d+ s\./.test(document.querySelector(sel)?.textContent ?? ''), byId('banner-text'), { timeout: STEP });
  await page.screenshot({ path: join(outDir, 'e2e-offline.png') });

  // Back, with nobody touching the app: the next scheduled retry gets through.
  await net.restore();
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.state === 'reconnected', byId('connection-banner'), { timeout: 30_000 });
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.textContent?.includes('Your waiting replies were sent.'),
    byId('banner-text'),
    { timeout: STEP },
  );
  await page.screenshot({ path: join(outDir, 'e2e-reconnected.png') });
  // The local placeholder gives way to the engine's copy of the reply.
  await page.waitForFunction(
    (t) => {
      const copies = [...document.querySelectorAll('[data-testid="message"]')].filter((m) => m.textContent.includes(t));
      return copies.length === 1 && !copies[0].dataset.id.startsWith('local:');
    },
    text,
    { timeout: STEP },
  );
  await banner.waitFor({ state: 'detached', timeout: STEP });

  // The engine has the reply exactly once.
  const signin = await fetch(`${engine.url}/api/auth/signin`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'ana@example.com', password: 'switchboard' }) });
  const { token } = await signin.json();
  const convs = await (await fetch(`${engine.url}/api/conversations`, { headers: { Authorization: `Bearer ${token}` } })).json();
  let copies = 0;
  for (const c of convs.conversations ?? convs) {
    const msgs = await (await fetch(`${engine.url}/api/conversations/${c.id}/messages`, { headers: { Authorization: `Bearer ${token}` } })).json();
    copies += (msgs.messages ?? msgs).filter((m) => m.text === text).length;
  }
  assert.equal(copies, 1, `the engine stored the reply ${copies} times`);
  await app.context.close();
  await stop(app.child);
  await stop(engine.child);
});
