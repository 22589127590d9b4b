// The agent's desk, end to end: a web chat visitor asks for a person; Ben rejects the offer and
// gets it again after the workflow's cool-down (Ana has no room), and while it is offered to him
// Ana does not see it; Ben goes on a break, so the visitor waits for nobody and shows in Ana's
// My queues; Ana goes on a break (no offers for her), finishes her other chat (wrap-up with its
// timer and an outcome) and takes the visitor from My queues; the visitor's
// typing reaches her desk and hers reaches the visitor. Screenshots at 900 and 1,600 px in
// English (light) and Spanish (dark), each checked for controls overflowing their row.
//
//   SWITCHBOARD_E2E=1 go test -run TestDeskStory ./app/e2etest
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUT, byId, env, launch, newPage, requireEnv, shoot, signIn, toSignIn } from './lib.mjs';

let browser;
const pages = {};

before(async () => {
  requireEnv('E2E_ENGINE_URL', 'E2E_SHOP_URL', 'E2E_UI_ANA', 'E2E_UI_BEN', 'E2E_UI_SPARE', 'E2E_PASSWORD');
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('the sign-in card holds at 900 and 1,600 px with the server field and an error', async () => {
  for (const [lang, locale, colorScheme] of [['en', 'en-US', 'light'], ['es', 'es-ES', 'dark']]) {
    const page = await newPage(browser, `signin-${lang}`, { locale, colorScheme, width: 900, height: 700 });
    await page.goto(env.E2E_UI_SPARE);
    await toSignIn(page);
    await page.locator(byId('signin-server')).check();
    await page.locator(byId('signin-server-url')).fill(env.E2E_ENGINE_URL);
    await page.locator(byId('signin-email')).fill('ana@example.com');
    await page.locator(byId('signin-password')).fill('not-her-password');
    await page.locator(byId('signin-submit')).click();
    const error = await page.locator(byId('signin-error')).innerText();
    assert.equal(error, lang === 'en' ? 'The email or password is not correct.' : 'El correo electrónico o la contraseña no son correctos.');
    await shoot(page, `desk-signin-900-${lang}.png`, 900);
    await shoot(page, `desk-signin-1600-${lang}.png`, 1600);
    // The submit button stays reachable in a short window.
    await page.setViewportSize({ width: 900, height: 600 });
    await page.locator(byId('signin-submit')).scrollIntoViewIfNeeded();
    assert.ok(await page.locator(byId('signin-submit')).isVisible());
    await page.context().close();
  }
});

test('a visitor rejected by Ben comes back to him after the cool-down, and Ana takes it from My queues', async () => {
  pages.ana = await newPage(browser, 'ana');
  pages.ben = await newPage(browser, 'ben');
  await signIn(pages.ana, env.E2E_UI_ANA, 'ana@example.com', env.E2E_ENGINE_URL);
  await signIn(pages.ben, env.E2E_UI_BEN, 'ben@example.com', env.E2E_ENGINE_URL);
  const { ana, ben } = pages;

  // The visitor asks for a person on the shop's website.
  const visitor = (pages.visitor = await newPage(browser, 'visitor', { width: 1000, height: 720 }));
  await visitor.goto(env.E2E_SHOP_URL);
  const bubble = visitor.locator('#switchboard-widget .sb-bubble');
  await bubble.waitFor();
  assert.equal(await bubble.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(11, 122, 90)', 'the launcher is not in the brand colour');
  await bubble.click();
  await visitor.locator('.sb-input').fill('Hello, I want to talk to a live agent about my refund');
  await visitor.locator('.sb-input').press('Enter');
  await visitor.locator('.sb-msg.sb-in[data-id]').waitFor();

  // Ana is at her chat capacity: the offer goes to Ben, who rejects it.
  const first = ben.locator(byId('offer-card')).first();
  await first.filter({ hasText: 'live agent' }).waitFor();
  const firstId = await first.getAttribute('data-reservation-id');
  assert.equal(await ana.locator(byId('offer-card')).count(), 0, 'Ana has no room and must not get the offer');
  await shoot(ben, 'desk-offer-900-en.png', 900);
  await ben.locator(byId('offer-reject')).first().click();
  await ben.locator(`${byId('offer-card')}[data-reservation-id="${firstId}"]`).waitFor({ state: 'detached' });

  // Nobody else can take it: after the cool-down it comes back to Ben.
  const again = ben.locator(byId('offer-card')).filter({ hasText: 'live agent' }).first();
  await again.waitFor();
  assert.notEqual(await again.getAttribute('data-reservation-id'), firstId);

  // Offered to Ben, the visitor is his: Ana's My queues does not show it (it may have shown
  // during the cool-down, when it waited for nobody).
  await ana.locator(byId('scope-queues')).click();
  const waiting = ana.locator(byId('conversation-item')).filter({ hasText: 'Website visitor' });
  await waiting.waitFor({ state: 'detached' });

  // Ben goes on a break: his offer is withdrawn and the visitor waits, reserved to nobody.
  await ben.locator(byId('activity-select')).selectOption('Break');
  await again.waitFor({ state: 'detached' });

  // Now Ana sees the visitor waiting in My queues, flagged past the queue's 5 s target.
  await waiting.waitFor();
  await waiting.locator(`${byId('task-wait')}[data-overdue="true"]`).waitFor();
  const visitorName = await waiting.locator('.name').innerText();
  assert.match(visitorName, /^Website visitor \d{4}$/);

  // She has no room yet: Take says why, in words.
  await waiting.click();
  await ana.locator(byId('task-take')).click();
  assert.equal(await ana.locator(byId('action-error')).innerText(),
    'You already have as many conversations of this kind as you can take. Finish one first.');

  // She finishes Kenji's chat: wrap-up with its timer, an outcome, Finish.
  await ana.locator(byId('scope-mine')).click();
  await ana.locator(byId('conversation-item')).filter({ hasText: 'Kenji Sato' }).click();
  await ana.locator(byId('task-wrapup')).click();
  await ana.locator(byId('wrapup-timer')).filter({ hasText: /^Wrap-up \d+:\d\d$/ }).waitFor();
  await shoot(ana, 'desk-wrapup-900-en.png', 900);
  await ana.locator(byId('task-disposition')).selectOption('issue_solved');
  await shoot(ana, 'desk-wrapup-1600-en.png', 1600);
  const anaEs = (pages.anaEs = await newPage(browser, 'ana-es', { locale: 'es-ES', colorScheme: 'dark', width: 900, height: 700 }));
  await anaEs.goto(env.E2E_UI_ANA);
  await anaEs.locator(byId('conversation-item')).filter({ hasText: 'Kenji Sato' }).click();
  await anaEs.locator(byId('wrapup-timer')).filter({ hasText: /^Cierre \d+:\d\d$/ }).waitFor();
  assert.equal(await anaEs.locator(`${byId('task-disposition')} option[value="issue_solved"]`).innerText(), 'Problema arreglado');
  await shoot(anaEs, 'desk-wrapup-900-es.png', 900);
  await shoot(anaEs, 'desk-wrapup-1600-es.png', 1600);
  // She goes on a break before she finishes, so no chat is offered to her: she picks the next herself.
  await ana.locator(byId('activity-select')).selectOption('Break');
  await ana.locator(`${byId('activity-select')}[data-available="false"]`).waitFor();
  await ana.locator(byId('task-complete')).click();
  await ana.locator(byId('task-complete')).waitFor({ state: 'detached' });

  // Now she takes the visitor from My queues; Ben, on his break, was offered nothing more.
  await ana.locator(byId('scope-queues')).click();
  await ana.locator(byId('conversation-item')).filter({ hasText: visitorName }).click();
  await ana.locator(byId('task-take')).click();
  await ana.locator(`${byId('conversation-view')} ${byId('task-state')}[data-state="assigned"]`).waitFor();
  assert.equal(await ben.locator(byId('offer-card')).count(), 0, 'Ben, on a break, holds an offer');
  await ana.locator(byId('scope-mine')).click();
  await ana.locator(byId('conversation-item')).filter({ hasText: visitorName }).waitFor();

  // Typing both ways: the visitor types, Ana's desk shows it; Ana types, the visitor sees it.
  await visitor.locator('.sb-input').fill('One more thing');
  await ana.locator(byId('typing-indicator')).filter({ hasText: `${visitorName} is typing…` }).waitFor();
  await ana.locator(byId('reply-input')).fill('Hi, this is Ana. Let me look at your refund.');
  await visitor.locator('.sb-typing:not([hidden])').waitFor();
  await ana.locator(byId('reply-input')).press('Enter');
  await visitor.locator('.sb-msg.sb-out', { hasText: 'this is Ana' }).waitFor();

  // The layout holds at both widths, in both languages and themes.
  await ana.locator(byId('message')).filter({ hasText: 'this is Ana' }).waitFor();
  await shoot(ana, 'desk-conversation-900-en.png', 900);
  await shoot(ana, 'desk-conversation-1600-en.png', 1600);
  await anaEs.locator(byId('scope-mine')).click();
  await anaEs.locator(byId('conversation-item')).filter({ hasText: visitorName }).click();
  await anaEs.locator(byId('message')).filter({ hasText: 'this is Ana' }).waitFor();
  await shoot(anaEs, 'desk-conversation-900-es.png', 900);
  await shoot(anaEs, 'desk-conversation-1600-es.png', 1600);
  await anaEs.locator(byId('scope-queues')).click();
  await shoot(anaEs, 'desk-queues-900-es.png', 900);
  await visitor.screenshot({ path: join(OUT, 'desk-visitor.png') });
});
