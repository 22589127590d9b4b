// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount, unmount } from 'svelte';
import OfferPanel from './OfferPanel.svelte';
import { setTransport, type ConnectionState } from '../lib/bridge';
import { FakeBackend } from '../test/fakeBackend';
import { $, $$, key, until } from '../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('agent');
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

function start(conn: ConnectionState = 'online') {
  const onAccepted = vi.fn();
  app = mount(OfferPanel, { target: document.body, props: { conn, onAccepted } });
  return onAccepted;
}

describe('OfferPanel', () => {
  it('shows an offer with a countdown and opens it on Accept', async () => {
    const onAccepted = start();
    await until(() => backend.calls.some((c) => c.method === 'Offers'));
    const o = backend.addOffer('c2', 30_000);
    const card = await until(() => $('offer-card'));
    expect(card.dataset.reservationId).toBe(o.reservationId);
    expect(card.textContent).toContain('John Smith');
    expect(card.textContent).toContain('SMS');
    expect(card.textContent).toContain('Can I change my delivery address?');
    expect(card.textContent).toContain('Support');
    const seconds = Number($('offer-countdown')!.dataset.seconds);
    expect(seconds).toBeGreaterThanOrEqual(29);
    expect(seconds).toBeLessThanOrEqual(30);
    expect($('offer-countdown')!.textContent?.trim()).toBe(`${seconds}s`);
    expect(card.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')).toMatch(/^(9\d|100)$/);
    expect(card.textContent).toContain('Alt+A');

    $<HTMLButtonElement>('offer-accept')!.click();
    await until(() => $$('offer-card').length === 0);
    expect(backend.calls.find((c) => c.method === 'AcceptOffer')?.args).toEqual([o.reservationId]);
    expect(onAccepted).toHaveBeenCalledWith(expect.objectContaining({ conversationId: 'c2' }));
    expect(backend.tasks.c2.state).toBe('assigned');
  });

  it('counts down and drops the card when the offer expires', async () => {
    backend.addOffer('c1', 1_200, false);
    start();
    await until(() => $('offer-card'));
    expect(Number($('offer-countdown')!.dataset.seconds)).toBeLessThanOrEqual(2);
    await until(() => $$('offer-card').length === 0, 3000, 'the offer to expire');
  });

  it('polls on sync, stacks offers and acts on the top one with Alt+R', async () => {
    start();
    await until(() => backend.calls.some((c) => c.method === 'Offers'));
    const late = backend.addOffer('c1', 40_000, false);
    const soon = backend.addOffer('c2', 20_000, false);
    backend.emit('sync', { lastSeq: 1 });
    await until(() => $$('offer-card').length === 2);
    expect($$('offer-card').map((c) => c.dataset.reservationId)).toEqual([soon.reservationId, late.reservationId]);

    key({ key: 'r', code: 'KeyR', altKey: true });
    await until(() => $$('offer-card').length === 1);
    expect(backend.calls.find((c) => c.method === 'RejectOffer')?.args).toEqual([soon.reservationId]);
    expect($('offer-card')!.dataset.reservationId).toBe(late.reservationId);

    key({ key: 'å', code: 'KeyA', altKey: true }); // macOS types å for Alt+A
    await until(() => $$('offer-card').length === 0);
    expect(backend.calls.find((c) => c.method === 'AcceptOffer')?.args).toEqual([late.reservationId]);
  });

  it('says so when offline instead of failing silently', async () => {
    backend.addOffer('c1', 30_000, false);
    start('offline');
    await until(() => $('offer-card'));
    $<HTMLButtonElement>('offer-accept')!.click();
    const err = await until(() => $('offer-error'));
    expect(err.textContent).toContain('offline');
    expect(backend.calls.some((c) => c.method === 'AcceptOffer')).toBe(false);
    expect($$('offer-card').length).toBe(1);
  });

  it('explains an unavailable engine and a vanished offer', async () => {
    const o = backend.addOffer('c1', 30_000, false);
    start();
    await until(() => $('offer-card'));
    backend.online = false;
    $<HTMLButtonElement>('offer-reject')!.click();
    expect((await until(() => $('offer-error'))).textContent).toContain('offline');

    backend.online = true;
    backend.offers = backend.offers.filter((x) => x !== o); // taken by someone else meanwhile
    $<HTMLButtonElement>('offer-accept')!.click();
    const notice = await until(() => $('offer-notice'));
    expect(notice.textContent).toContain('no longer available');
    expect($$('offer-card').length).toBe(0);
  });
});
