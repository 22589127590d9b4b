// Helpers shared by the browser stories that app/e2etest starts (desk, call, supervisor).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = process.env;
export const STEP = 20_000;
export const OUT = env.E2E_OUT || join(tmpdir(), 'switchboard-e2e');
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** requireEnv fails fast when the Go harness did not pass what the story needs. */
export function requireEnv(...keys) {
  for (const k of keys) assert.ok(env[k], `${k} is not set: run this through app/e2etest (go test)`);
  mkdirSync(OUT, { recursive: true });
}

/** launch starts Debian's Chromium. */
export function launch() {
  return chromium.launch({ executablePath: env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS });
}

/** newPage opens a page in its own context (language, colour scheme, size), logging page errors. */
export async function newPage(browser, name, { locale = 'en-US', colorScheme = 'light', width = 1280, height = 820 } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, locale, colorScheme });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP);
  page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
  return page;
}

export const byId = (id) => `[data-testid="${id}"]`;

/**
 * toSignIn waits for an app's first screen and goes on to the sign-in form: an app whose own
 * workspace has no user yet offers the first-run set-up first.
 */
export async function toSignIn(page) {
  await page.locator(`${byId('setup-form')}, ${byId('signin-form')}`).first().waitFor();
  if (await page.locator(byId('setup-form')).count()) await page.locator(byId('setup-skip')).click();
  await page.locator(byId('signin-form')).waitFor();
}

/** signIn signs in on the sign-in screen of an app, to the team server at engine. */
export async function signIn(page, ui, email, engine, password = env.E2E_PASSWORD) {
  if (ui) await page.goto(ui);
  await toSignIn(page);
  await page.locator(byId('signin-server')).check();
  await page.locator(byId('signin-server-url')).fill(engine);
  await page.locator(byId('signin-email')).fill(email);
  await page.locator(byId('signin-password')).fill(password);
  await page.locator(byId('signin-submit')).click();
  await page.locator(byId('inbox')).waitFor();
}

/** control calls the Go harness's control endpoint. */
export async function control(path, body) {
  const res = await fetch(env.E2E_CONTROL_URL + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) assert.fail(`${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}

/** until calls fn until it returns something truthy and returns that; after one step it fails. */
export async function until(what, fn) {
  const end = Date.now() + STEP;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * layoutProblems lists what does not hold in the page's layout: the page scrolling sideways; a
 * control (button, select, field, tab, badge) running past the window or out of its row; a
 * control whose content spills out of it (other than on purpose, with an ellipsis); and a
 * one-line label (buttons, tabs, badges, states) broken onto two lines.
 */
export function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    const name = (el) => {
      const id = el.getAttribute('data-testid');
      const text = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return `${id || el.tagName.toLowerCase()} "${text}"`;
    };
    if (document.documentElement.scrollWidth > vw + 1) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px in ${vw} px)`);
    const oneLine = '.btn, [role="tab"], .badge, [data-testid="conversation-status"], [data-testid="task-wait"], [data-testid="wrapup-timer"], [data-testid="connection-state"]';
    const controls = document.querySelectorAll(`button, select, input:not([type="radio"]):not([type="checkbox"]), textarea, ${oneLine}`);
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden') continue;
      if (r.left < -1 || r.right > vw + 1) problems.push(`${name(el)} runs past the window (${Math.round(r.left)}–${Math.round(r.right)} of ${vw})`);
      let row = el.parentElement;
      while (row && (getComputedStyle(row).display.startsWith('inline') || getComputedStyle(row).display === 'contents')) row = row.parentElement;
      if (row) {
        const pr = row.getBoundingClientRect();
        if (r.left < pr.left - 1 || r.right > pr.right + 1) problems.push(`${name(el)} overflows its row (${Math.round(r.left)}–${Math.round(r.right)} in ${Math.round(pr.left)}–${Math.round(pr.right)})`);
      }
      if (!['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && el.scrollWidth > el.clientWidth + 1 && cs.textOverflow !== 'ellipsis') {
        problems.push(`${name(el)} is too narrow for its content (${el.scrollWidth} > ${el.clientWidth})`);
      }
      if (el.matches(oneLine) && el.textContent.trim()) {
        const range = document.createRange();
        range.selectNodeContents(el);
        const rects = [...range.getClientRects()].filter((x) => x.width > 0 && x.height > 0).sort((a, b) => a.top - b.top);
        let lines = 0;
        let bottom = -Infinity;
        for (const x of rects) {
          if (x.top >= bottom - 2) {
            lines++;
            bottom = x.bottom;
          } else bottom = Math.max(bottom, x.bottom);
        }
        if (lines > 1) problems.push(`${name(el)} breaks onto ${lines} lines`);
      }
    }
    return problems;
  });
}

/**
 * shoot resizes the page, takes a screenshot named after what it shows, and fails when the
 * layout does not hold there.
 */
export async function shoot(page, file, width, height = width >= 1600 ? 900 : 700) {
  await page.setViewportSize({ width, height });
  // Two animation frames: the resize is laid out and painted.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: join(OUT, file) });
  const problems = await layoutProblems(page);
  assert.deepEqual(problems, [], `layout at ${width} px (${file}):\n${problems.join('\n')}`);
}
