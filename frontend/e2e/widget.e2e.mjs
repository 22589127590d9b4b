// End-to-end test of the website chat widget in headless Chromium against the real engine.
//
//   SWITCHBOARD_BIN=/work/main/build/bin/switchboard-dev node --test frontend/e2e/widget.e2e.mjs
//
// It starts `$SWITCHBOARD_BIN serve --addr 127.0.0.1:0 --data TMP --demo` (with a fresh
// SWITCHBOARD_SECRET_KEY), configures a web chat
// instance through the admin API, serves a test page with the widget's one <script> tag on another
// loopback port (another origin), chats, posts an agent reply through the API, sees it in the page,
// reloads and sees the history with the newest message in view (also after a picture loads). It
// checks the launcher is in the brand colour before any request, that a page on an origin the
// widget is not set up for shows nothing, the 16 px inputs, the full-screen panel on a phone and
// the plain-language offline and slow-down states, and that the call button shows only once the chat
// is connected. Screenshots: ../build/test-output/widget*.png.
// (The visitor's typing reaching an agent's desk is in desk.e2e.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../../build/test-output');
const bin = process.env.SWITCHBOARD_BIN || resolve(here, '../../build/bin/switchboard-dev');
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const STEP = 15_000;

let engine = null;
let engineLog = '';
let engineURL = '';
let site = null;
let siteURL = '';
let otherSite = null;
let otherURL = '';
let browser = null;
let page = null;
let token = '';
const temps = [];

function temp(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

function startEngine() {
  return new Promise((ok, fail) => {
    // The engine encrypts channel secrets with a key given by environment variable.
    const env = { ...process.env, SWITCHBOARD_SECRET_KEY: randomBytes(32).toString('base64') };
    engine = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', temp('sb-widget-data-'), '--demo'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => fail(new Error(`no url= line within 60s\n${engineLog}`)), 60_000);
    const onData = (c) => {
      engineLog += c.toString();
      const m = engineLog.match(/url=(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    };
    engine.stdout.on('data', onData);
    engine.stderr.on('data', onData);
    engine.on('exit', (code, sig) => { clearTimeout(timer); fail(new Error(`engine exited (${code ?? sig})\n${engineLog}`)); });
  });
}

async function api(method, path, body) {
  const r = await fetch(engineURL + path, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A shop page embedding the widget of ?instance= (default shop), on its own loopback origin.
function servePage() {
  return new Promise((ok) => {
    const srv = createServer((req, res) => {
      const instance = new URL(req.url, 'http://x').searchParams.get('instance') || 'shop';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Shop</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif"><h1>Example shop</h1><p>Questions? Use the chat.</p>
<script src="${engineURL}/widget/${instance}/widget.js" async></script></body></html>`);
    });
    srv.listen(0, '127.0.0.1', () => ok([srv, `http://127.0.0.1:${srv.address().port}`]));
  });
}

// A small PNG (a 120×90 picture) to upload.
function png() {
  const b64 = 'iVBORw0KGgoAAAANSUhEUgAAAHgAAABaCAIAAAD8YgW4AAAAj0lEQVR42u3QQQ0AAAgEoOtkLfOaxxbOBxsJyFRzIApEi0a0aNEWRItGtGjRFkSLRrRo0YgWjWjRohEtGtGiRSNaNKJFi0a0aESLFo1o0YgWLRrRohEtWjSiRSNatGhEi0a0aNGIFo1o0aIRLRrRokUjWjSiRYtGtGhEixaNaNGIFi0a0aIRLVo0okUj+osFcwh7hAuVjI4AAAAASUVORK5CYII=';
  return Buffer.from(b64, 'base64');
}

before(async () => {
  engineURL = await startEngine();
  token = (await api('POST', '/api/auth/signin', { email: 'admin@example.com', password: 'switchboard' })).token;
  [site, siteURL] = await servePage();
  [otherSite, otherURL] = await servePage();
  await api('PUT', '/api/channels/webchat/shop', { config: { allowedOrigins: [siteURL], title: 'Example shop', greeting: 'Hi! How can we help?' } });
  await api('PUT', '/api/channels/webchat/brand', { config: { allowedOrigins: [siteURL], title: 'Brand shop', color: '#d6336c', preChat: false } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP);
});

after(async () => {
  await browser?.close();
  site?.close();
  otherSite?.close();
  if (engine && engine.exitCode === null) {
    engine.removeAllListeners('exit');
    engine.kill('SIGTERM');
    await new Promise((r) => { engine.once('exit', r); setTimeout(r, 5000); });
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

test('a visitor chats, an agent answers through the API, the history survives a reload', async () => {
  await page.goto(siteURL);
  await page.click('#switchboard-widget .sb-bubble');
  await page.fill('.sb-prechat input[name=name]', 'Wendy Visitor');
  await page.fill('.sb-prechat input[name=email]', 'wendy@example.net');
  await page.click('.sb-prechat button');
  await page.fill('.sb-input', 'Hello, is my order on its way?');
  await page.press('.sb-input', 'Enter');
  await page.waitForSelector('.sb-msg.sb-in[data-id]');

  // The agent side: find the conversation and answer it through the API.
  let conv = null;
  for (let i = 0; i < 50 && !conv; i++) {
    conv = (await api('GET', '/api/conversations?channel=webchat')).find((c) => c.instance === 'shop');
    if (!conv) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(conv, 'the visitor message opened a web chat conversation');
  // The channel's flow (the default FAQ bot) may answer too; the
  // visitor's message is the conversation's one inbound message.
  const msgs = await api('GET', `/api/conversations/${conv.id}/messages`);
  const inbound = msgs.filter((m) => m.direction === 'in');
  assert.equal(inbound.length, 1);
  assert.equal(inbound[0].text, 'Hello, is my order on its way?');
  const contact = await api('GET', `/api/contacts/${conv.contactId}`);
  assert.equal(contact.name, 'Wendy Visitor');
  assert.equal(contact.email, 'wendy@example.net');

  await api('POST', `/api/conversations/${conv.id}/messages`, { text: 'Yes, it ships today.' });
  await page.waitForSelector('.sb-msg.sb-out:has-text("Yes, it ships today.")');

  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: join(outDir, 'widget.png') });

  await page.reload();
  await page.waitForSelector('.sb-msg.sb-out:has-text("Yes, it ships today.")');
  // The whole history is back, in order: the visitor's message first and
  // the agent's answer last (the bot's answer, if any, in between).
  const texts = await page.locator('.sb-msg').allTextContents();
  const after = (await api('GET', `/api/conversations/${conv.id}/messages`)).filter((m) => !m.private);
  assert.equal(texts.length, after.length, `history after reload: ${JSON.stringify(texts)}`);
  assert.match(texts[0], /order on its way/);
  assert.match(texts[texts.length - 1], /ships today/);
});

// inView reports whether the newest message is in view at the bottom of the open panel's log.
function newestInView() {
  return page.evaluate(() => {
    const root = document.querySelector('#switchboard-widget').shadowRoot;
    const log = root.querySelector('.sb-log');
    const last = [...log.querySelectorAll('.sb-msg')].pop();
    if (!last) return false;
    const l = log.getBoundingClientRect();
    const m = last.getBoundingClientRect();
    return log.scrollHeight - log.scrollTop - log.clientHeight < 2 && m.bottom <= l.bottom + 1 && m.top >= l.top - 1;
  });
}

test('a returning visitor sees the newest message, also after a picture loads', async () => {
  // The conversation of the first test grows past the panel.
  for (let i = 1; i <= 12; i++) {
    await page.fill('.sb-input', `Message number ${i} about my order`);
    await page.press('.sb-input', 'Enter');
  }
  await page.waitForFunction(() => document.querySelector('#switchboard-widget').shadowRoot.querySelectorAll('.sb-msg.sb-in[data-id]').length >= 13);
  const conv = (await api('GET', '/api/conversations?channel=webchat')).find((c) => c.instance === 'shop');
  await api('POST', `/api/conversations/${conv.id}/messages`, { text: 'Looking into all of that now.' });
  await page.waitForSelector('.sb-msg.sb-out:has-text("Looking into all")');
  await page.reload();
  await page.waitForSelector('.sb-msg.sb-out:has-text("Looking into all")');
  await page.waitForFunction(() => document.querySelector('#switchboard-widget').shadowRoot.querySelector('.sb-log').scrollHeight > 600);
  assert.ok(await newestInView(), 'after a reload the newest message is not in view');

  // A picture that loads after the history is shown still leaves the newest message in view.
  await page.setInputFiles('.sb-file', { name: 'receipt.png', mimeType: 'image/png', buffer: png() });
  await page.waitForSelector('.sb-msg.sb-in[data-id] img');
  await api('POST', `/api/conversations/${conv.id}/messages`, { text: 'Got your receipt, thanks!' });
  await page.waitForSelector('.sb-msg.sb-out:has-text("Got your receipt")');
  await page.reload();
  await page.waitForSelector('.sb-msg.sb-out:has-text("Got your receipt")');
  await page.waitForFunction(() => [...document.querySelector('#switchboard-widget').shadowRoot.querySelectorAll('img')].every((i) => i.complete && i.naturalWidth > 0));
  assert.ok(await newestInView(), 'after the picture loaded the newest message is not in view');
  // Closed and opened again: still the newest.
  await page.click('#switchboard-widget .sb-close');
  await page.click('#switchboard-widget .sb-bubble');
  assert.ok(await newestInView(), 'after opening again the newest message is not in view');
  await page.screenshot({ path: join(outDir, 'widget-reload.png') });
});

test('inputs are 16 px and the panel fills a phone screen', async () => {
  const sizes = await page.evaluate(() => {
    const root = document.querySelector('#switchboard-widget').shadowRoot;
    return [...root.querySelectorAll('input, textarea')].map((e) => getComputedStyle(e).fontSize);
  });
  assert.ok(sizes.length >= 3 && sizes.every((s) => s === '16px'), `input font sizes ${sizes}`);
  const phone = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  const p = await phone.newPage();
  await p.goto(`${siteURL}/?instance=brand`);
  await p.click('#switchboard-widget .sb-bubble');
  const box = await p.locator('#switchboard-widget .sb-panel').boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 375, 667], `panel on a phone: ${JSON.stringify(box)}`);
  assert.equal(await p.locator('#switchboard-widget .sb-bubble').isVisible(), false, 'the launcher covers the full-screen panel');
  await p.screenshot({ path: join(outDir, 'widget-phone.png') });
  await phone.close();
});

test('the launcher has the brand colour before any request', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const p = await ctx.newPage();
  const calls = [];
  p.on('request', (r) => { if (r.url().startsWith(engineURL) && !r.url().endsWith('/widget.js')) calls.push(r.url()); });
  await p.goto(`${siteURL}/?instance=brand`);
  const bubble = p.locator('#switchboard-widget .sb-bubble');
  await bubble.waitFor();
  assert.equal(await bubble.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(214, 51, 108)');
  assert.deepEqual(calls, [], 'the widget called the engine before the visitor opened it');
  await ctx.close();
});

test('the call button shows only once the chat is connected', async () => {
  // A call is signalled over the chat's socket: a button shown before the socket opened would
  // do nothing when clicked. Each time the button appears, note the socket's readyState then.
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const p = await ctx.newPage();
  p.setDefaultTimeout(STEP);
  await p.addInitScript(() => {
    const Real = window.WebSocket;
    let last = null;
    window.WebSocket = class extends Real { constructor(...a) { super(...a); last = this; } };
    window.__callShown = [];
    const attach = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function (init) {
      const root = attach.call(this, init);
      new MutationObserver((changes) => {
        for (const c of changes) {
          if (c.target.classList.contains('sb-call') && !c.target.hidden) window.__callShown.push(last ? last.readyState : -1);
        }
      }).observe(root, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
      return root;
    };
  });
  await p.goto(`${siteURL}/?instance=brand`);
  await p.click('#switchboard-widget .sb-bubble');
  await p.locator('#switchboard-widget .sb-call').waitFor();
  assert.deepEqual(await p.evaluate(() => window.__callShown), [1], 'the call button appeared before the chat was connected (readyState 1 is open)');
  await ctx.close();
});

test('a page on an origin the widget is not set up for shows nothing', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const p = await ctx.newPage();
  const calls = [];
  const warnings = [];
  p.on('request', (r) => { if (r.url().startsWith(engineURL)) calls.push(r.url()); });
  p.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await p.goto(`${otherURL}/?instance=shop`);
  await p.waitForFunction(() => window.__switchboardWidget === true);
  assert.equal(await p.locator('#switchboard-widget').count(), 0, 'a widget appeared on a page that may not use it');
  assert.deepEqual(calls.filter((u) => !u.endsWith('/widget.js')), [], 'the widget called the engine');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /is not one the chat widget is set up for/);
  await p.screenshot({ path: join(outDir, 'widget-other-origin.png') });
  await ctx.close();
});

test('offline and slowing down are said in plain words', async () => {
  const state = page.locator('#switchboard-widget .sb-state');
  await page.context().setOffline(true);
  await state.filter({ hasText: 'You are offline. Your messages will be sent when you are back online.' }).waitFor();
  await page.context().setOffline(false);
  await state.waitFor({ state: 'hidden' });
  // Over the socket's rate limit (5 a second, 20 at once) the engine closes it: "slow down".
  // A hundred at once stay over it even when a loaded machine stores them slowly (the bucket
  // refills while the engine stores each message before it reads the next).
  await page.evaluate(() => {
    const root = document.querySelector('#switchboard-widget').shadowRoot;
    // Count each time the widget says "slow down": what waited must go out paced, not trip it again.
    window.__slowTimes = 0;
    new MutationObserver((changes) => {
      for (const c of changes) if (c.target.getAttribute('data-state') === 'slow' && c.oldValue !== 'slow') window.__slowTimes++;
    }).observe(root.querySelector('.sb-state'), { attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
    const input = root.querySelector('.sb-input');
    for (let i = 0; i < 100; i++) {
      input.value = `burst ${i}`;
      root.querySelector('.sb-compose').requestSubmit();
    }
  });
  await state.filter({ hasText: 'You are sending messages very quickly. Please wait a few seconds.' }).waitFor();
  await page.screenshot({ path: join(outDir, 'widget-slow.png') });
  // It reconnects by itself and sends what waited, once each.
  await state.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('#switchboard-widget').shadowRoot.querySelectorAll('.sb-pending').length === 0, null, { timeout: 90_000 });
  const conv = (await api('GET', '/api/conversations?channel=webchat')).find((c) => c.instance === 'shop');
  const bursts = (await api('GET', `/api/conversations/${conv.id}/messages`)).filter((m) => /^burst \d+$/.test(m.text));
  assert.equal(bursts.length, 100, 'every message of the burst stored');
  assert.equal(new Set(bursts.map((m) => m.text)).size, 100, 'a message of the burst stored twice');
  assert.equal(await page.evaluate(() => window.__slowTimes), 1, 'sending what waited tripped the rate limit again');
});

test('a page from an origin that is not allowed gets no widget session', async () => {
  const r = await fetch(`${engineURL}/widget/shop/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body: '{}',
  });
  assert.equal(r.status, 403);
});
