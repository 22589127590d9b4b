// End-to-end test of untrusted attachments in headless Chromium, against the real engine and app.
//
//   SWITCHBOARD_BIN=../build/bin/switchboard node --test e2e/untrusted.e2e.mjs
//
// It starts `$SWITCHBOARD_BIN serve --demo` (with a fresh SWITCHBOARD_SECRET_KEY), configures the
// custom channel through the admin API, posts a signed webhook whose attachments are javascript:,
// data: and web URLs, then starts `$SWITCHBOARD_BIN browser`, signs in to that engine as the demo
// admin and opens the conversation: a javascript: (or data:) attachment must be neither a link nor
// an image, while the web image and the file the engine kept from the message show. The page must
// run under its Content-Security-Policy without a violation. Screenshot: ../build/test-output/untrusted.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../../build/test-output');
const bin = resolve(process.env.SWITCHBOARD_BIN || resolve(here, '../../build/bin/switchboard'));
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const STEP = 15_000;
const ADMIN = { email: 'admin@example.com', password: 'switchboard' };
const CUSTOM_SECRET = randomBytes(24).toString('hex');
// A 2×2 PNG: once as a web image, once inside the message (the engine keeps it at /media/…).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARAxg8j8AG/ID/fPnS7EAAAAASUVORK5CYII=', 'base64');

const children = [];
const temps = [];
let engineURL = '';
let uiURL = '';
let imagesURL = '';
let images = null;
let browser = null;
let page = null;
let mainResponse = null;
const cspViolations = [];
const dialogs = [];

const byId = (id) => `[data-testid="${id}"]`;

function temp(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** run starts the binary and resolves with the first match of pattern in its output. */
function run(args, pattern, env = process.env) {
  return new Promise((ok, fail) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.push(child);
    let log = '';
    const timer = setTimeout(() => fail(new Error(`no ${pattern} within 60s\n${log}`)), 60_000);
    const onData = (c) => {
      log += c.toString();
      const m = log.match(pattern);
      if (m) { clearTimeout(timer); ok(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, sig) => { clearTimeout(timer); fail(new Error(`${args[0]} exited (${code ?? sig})\n${log}`)); });
  });
}

async function api(method, path, body, token) {
  const r = await fetch(engineURL + path, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** postEvent posts a custom-channel event signed the way the channel documents: HMAC-SHA256 of "ts.body". */
async function postEvent(event) {
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v1=' + createHmac('sha256', CUSTOM_SECRET).update(`${ts}.${body}`).digest('hex');
  const r = await fetch(`${engineURL}/hooks/custom/shop`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Switchboard-Timestamp': String(ts), 'X-Switchboard-Signature': sig },
  });
  assert.equal(r.status, 200, `webhook: ${r.status} ${await r.text()}`);
}

before(async () => {
  assert.ok(existsSync(bin), `no binary at ${bin}: set SWITCHBOARD_BIN or run make build`);
  mkdirSync(outDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  engineURL = await run(['serve', '--addr', '127.0.0.1:0', '--data', temp('sb-untrusted-engine-'), '--demo'],
    /url=(http:\/\/127\.0\.0\.1:\d+)/, { ...process.env, SWITCHBOARD_SECRET_KEY: key });
  const token = (await api('POST', '/api/auth/signin', ADMIN)).token;
  await api('PUT', '/api/channels/custom/shop', { config: { secret: CUSTOM_SECRET, url: 'https://shop.example.com/replies' } }, token);

  images = createServer((req, res) => {
    res.writeHead(req.url === '/ok.png' ? 200 : 404, { 'Content-Type': 'image/png' });
    res.end(req.url === '/ok.png' ? PNG : '');
  });
  await new Promise((ok) => images.listen(0, '127.0.0.1', ok));
  imagesURL = `http://127.0.0.1:${images.address().port}`;
  await postEvent({
    type: 'message', id: `evt-${Date.now()}`, from: { id: 'mallory', name: 'Mallory Attacker' }, text: 'Please look at my files',
    attachments: [
      { url: 'javascript:alert(document.domain)', type: 'image/png', name: 'evil.png' },
      { url: 'JaVaScRiPt:alert(1)', type: 'application/pdf', name: 'evil.pdf' },
      { url: 'data:text/html,<script>alert(1)</script>', type: 'text/html', name: 'page.html' },
      { url: `data:image/png;base64,${PNG.toString('base64')}`, type: 'image/png', name: 'inline.png' },
      { url: `${imagesURL}/ok.png`, type: 'image/png', name: 'ok.png' },
    ],
  });

  uiURL = await run(['browser', '--data', temp('sb-untrusted-app-')], /Switchboard UI:\s*(https?:\/\/\S+)/);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage();
  page.setDefaultTimeout(STEP);
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
});

after(async () => {
  await browser?.close();
  images?.close();
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.removeAllListeners('exit');
    c.kill('SIGTERM');
    await new Promise((r) => { c.once('exit', r); setTimeout(r, 5000); });
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

test('a javascript: attachment is neither a link nor an image in the conversation view', async () => {
  mainResponse = await page.goto(uiURL, { waitUntil: 'domcontentloaded' });
  const csp = mainResponse.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self';/, `browser mode's page policy: ${csp}`);
  assert.match(csp, /frame-ancestors 'none'/);

  // A new app's own workspace has no user yet: it offers the first-run set-up first.
  await page.locator(`${byId('setup-form')}, ${byId('signin-form')}`).first().waitFor();
  if (await page.locator(byId('setup-form')).count()) await page.locator(byId('setup-skip')).click();
  await page.locator(byId('signin-server')).check();
  await page.locator(byId('signin-server-url')).fill(engineURL);
  await page.locator(byId('signin-email')).fill(ADMIN.email);
  await page.locator(byId('signin-password')).fill(ADMIN.password);
  await page.locator(byId('signin-submit')).click();
  await Promise.race([
    page.locator(byId('inbox')).waitFor({ state: 'visible' }),
    page.locator(byId('signin-error')).waitFor({ state: 'visible' }).then(async () => {
      throw new Error(`sign-in failed: ${await page.locator(byId('signin-error')).innerText()}`);
    }),
  ]);

  const item = page.locator(byId('conversation-item'), { hasText: 'Mallory Attacker' });
  await item.first().waitFor({ state: 'visible' });
  await item.first().click();
  const view = page.locator(byId('conversation-view'));
  await view.waitFor({ state: 'visible' });
  const bubble = view.locator(byId('message'), { hasText: 'Please look at my files' });
  await bubble.waitFor({ state: 'visible' });

  // The two web images load: the one on another origin and the one the engine kept.
  await page.waitForFunction(
    (sel) => {
      const imgs = [...document.querySelectorAll(sel)];
      return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    `${byId('conversation-view')} ${byId('attachment-image')} img`,
  );
  const srcs = await view.locator(`${byId('attachment-image')} img`).evaluateAll((els) => els.map((e) => e.getAttribute('src')));
  assert.ok(srcs.includes(`${imagesURL}/ok.png`), `images: ${srcs}`);
  // The kept file is behind the engine's access policy: the app fetches it with the session and the
  // page shows the bytes from a blob of its own (never the data: address the message carried).
  const own = `blob:${new URL(uiURL).origin}/`;
  assert.ok(srcs.some((s) => s.startsWith(own)), `the kept file is not shown from the app's own blob: ${srcs}`);

  // Nothing on the page points at a script or an inline document.
  const dangerous = await page.evaluate(() =>
    [...document.querySelectorAll('a[href], img[src], iframe, object, embed')]
      .map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? e.tagName)
      .filter((u) => !(/^(https?:|\/|#|\.\/|[^:]*$)/i.test(u.trim()) || u.startsWith(`blob:${location.origin}/`)) || /^(IFRAME|OBJECT|EMBED)$/.test(u)));
  assert.deepEqual(dangerous, [], `links or images to unsafe URLs: ${dangerous}`);
  assert.equal(await page.locator('[href^="javascript:" i], [src^="javascript:" i], [href^="data:" i], img[src^="data:" i]').count(), 0);

  // The unsafe ones are named, as plain text.
  const unlinked = view.locator(byId('attachment-unlinked'));
  assert.deepEqual((await unlinked.allInnerTexts()).map((s) => s.trim()), ['evil.png', 'evil.pdf', 'page.html']);
  for (const el of await unlinked.all()) {
    assert.equal(await el.evaluate((e) => e.closest('a') === null && e.querySelector('a, img') === null), true);
  }
  await unlinked.first().click(); // a click goes nowhere and runs nothing
  assert.equal(new URL(page.url()).origin, new URL(uiURL).origin);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(cspViolations, [], 'the page broke its own Content-Security-Policy');
  await page.screenshot({ path: join(outDir, 'untrusted.png') });
});
