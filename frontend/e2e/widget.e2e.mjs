// End-to-end test of the website chat widget in headless Chromium against the real engine.
//
//   SWITCHBOARD_BIN=/work/main/build/bin/switchboard-dev node --test frontend/e2e/widget.e2e.mjs
//
// It starts `$SWITCHBOARD_BIN serve --addr 127.0.0.1:0 --data TMP --demo` (with a fresh
// SWITCHBOARD_SECRET_KEY), configures a web chat
// instance through the admin API, serves a test page with the widget's one <script> tag on another
// loopback port (another origin), chats, posts an agent reply through the API, sees it in the page,
// reloads and sees the history. Screenshot: ../build/test-output/widget.png.
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

function startSite() {
  return new Promise((ok) => {
    site = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Shop</title></head><body style="font-family:sans-serif">
<h1>Example shop</h1><p>Questions? Use the chat.</p>
<script src="${engineURL}/widget/shop/widget.js" async></script></body></html>`);
    });
    site.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${site.address().port}`));
  });
}

before(async () => {
  engineURL = await startEngine();
  token = (await api('POST', '/api/auth/signin', { email: 'admin@example.com', password: 'switchboard' })).token;
  siteURL = await startSite();
  await api('PUT', '/api/channels/webchat/shop', { config: { allowedOrigins: [siteURL], title: 'Example shop', greeting: 'Hi! How can we help?' } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP);
});

after(async () => {
  await browser?.close();
  site?.close();
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

test('a page from an origin that is not allowed gets no widget session', async () => {
  const r = await fetch(`${engineURL}/widget/shop/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body: '{}',
  });
  assert.equal(r.status, 403);
});
