// The desktop and the engine it follows, end to end (browser mode, real app layer):
// 1. the session expires while the engine is down: when it is back, the desktop shows the
//    sign-in screen with a sentence saying why, not "Offline";
// 2. the engine's store is replaced while the desktop is offline with a reply queued: after
//    signing in, the inbox shows the new engine's conversations and offer, and the reply is
//    kept and reported, never sent to the new engine.
//
//   SWITCHBOARD_E2E=1 go test -run TestDeskEngineReplaced ./app/e2etest
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUT, byId, control, env, launch, newPage, requireEnv, signIn } from './lib.mjs';

let browser;
let ana;

before(async () => {
  requireEnv('E2E_ENGINE_URL', 'E2E_UI_ANA', 'E2E_CONTROL_URL', 'E2E_PASSWORD');
  browser = await launch();
  ana = await newPage(browser, 'ana');
});

after(async () => {
  await browser?.close();
});

const ENDED = /^Your session ended: it expired or was signed out on the server\b/;

test('an expired session leads to the sign-in screen, not "Offline"', async () => {
  await signIn(ana, env.E2E_UI_ANA, 'ana@example.com', env.E2E_ENGINE_URL);
  await ana.locator(byId('conversation-item')).filter({ hasText: 'Olga Old-Store' }).waitFor();
  await control('/engine/stop', {});
  await ana.locator(byId('offline-banner')).waitFor();
  await control('/engine/start', { expireSessions: true });
  const error = ana.locator(byId('signin-error'));
  await error.waitFor();
  assert.match(await error.innerText(), ENDED);
  assert.equal(await ana.locator(byId('connection-state')).count(), 0);
  assert.equal(await ana.locator(byId('offline-banner')).count(), 0);
  await ana.screenshot({ path: join(OUT, 'desk-session-ended.png') });
  // A reload keeps saying why.
  await ana.reload();
  assert.match(await ana.locator(byId('signin-error')).innerText(), ENDED);
});

test('a replaced store: the new engine’s inbox and offer, the old reply kept and not sent', async () => {
  await signIn(ana, null, 'ana@example.com', env.E2E_ENGINE_URL);
  const olga = ana.locator(byId('conversation-item')).filter({ hasText: 'Olga Old-Store' });
  await olga.click();
  await control('/engine/stop', {});
  await ana.locator(byId('offline-banner')).waitFor();
  const reply = 'Written offline for the old store';
  await ana.locator(byId('reply-input')).fill(reply);
  await ana.locator(byId('reply-input')).press('Enter');
  await ana.locator(`${byId('message')}[data-status="queued"]`, { hasText: reply }).waitFor();
  await olga.locator(byId('queued-preview')).waitFor();

  // The store is replaced while the desktop is offline: the old session means nothing there.
  await control('/engine/replace', {});
  await ana.locator(byId('signin-error')).waitFor();
  assert.match(await ana.locator(byId('signin-error')).innerText(), ENDED);
  await signIn(ana, null, 'ana@example.com', env.E2E_ENGINE_URL);

  // The new engine's conversations and its offer; nothing of the old one.
  await ana.locator(byId('conversation-item')).filter({ hasText: 'Nina New-Store' }).waitFor();
  await ana.locator(byId('offer-card')).filter({ hasText: 'Nick Waiting' }).waitFor();
  await ana.locator(byId('scope-queues')).click();
  await ana.locator(byId('conversation-item')).filter({ hasText: 'Nick Waiting' }).waitFor();
  assert.equal(await ana.locator(byId('conversation-item')).filter({ hasText: 'Olga Old-Store' }).count(), 0);
  await ana.locator(byId('search-input')).fill('store');
  await ana.locator(byId('search-hit')).filter({ hasText: 'Hello from the new' }).waitFor();
  assert.equal(await ana.locator(byId('search-hit')).filter({ hasText: 'first store' }).count(), 0);
  await ana.locator(byId('search-input')).fill('');

  // The reply written for the old store is reported, not sent.
  const held = ana.locator(byId('held-reply'));
  await held.filter({ hasText: reply }).waitFor();
  assert.match(await held.innerText(), /Olga Old-Store/);
  assert.equal((await control(`/engine/messages?text=${encodeURIComponent(reply)}`)).count, 0, 'the old reply reached the new engine');
  await ana.screenshot({ path: join(OUT, 'desk-engine-replaced.png') });
  await held.locator(byId('held-discard')).click();
  await held.waitFor({ state: 'detached' });
});
