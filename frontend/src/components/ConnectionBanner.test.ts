// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import ConnectionBanner from './ConnectionBanner.svelte';
import { setTransport } from '../lib/bridge';
import { FakeBackend } from '../test/fakeBackend';
import { $, until } from '../test/dom';

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

async function start() {
  app = mount(ConnectionBanner, { target: document.body });
  await until(() => backend.calls.some((c) => c.method === 'SyncStatus'));
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

describe('ConnectionBanner', () => {
  it('shows nothing while online', async () => {
    await start();
    expect($('connection-banner')).toBeNull();
  });

  it('says offline at once, when it retries, what waits in the outbox, and retries on demand', async () => {
    await start();
    backend.emit('connection', { state: 'offline', lastSeq: 5, attempt: 3, retryAt: inSeconds(8), pending: 2, lastError: 'unreachable' });
    const banner = await until(() => $('connection-banner'));
    expect(banner.dataset.state).toBe('offline');
    expect($('banner-text')!.textContent).toMatch(/You are offline\.\s+Trying again in [78] s\./);
    expect($('banner-pending')!.textContent?.trim()).toBe('2 replies are waiting to be sent.');
    $<HTMLButtonElement>('banner-retry')!.click();
    await until(() => backend.calls.some((c) => c.method === 'ReconnectNow'));
    await until(() => $('banner-text')!.textContent?.includes('Trying again now'));
  });

  it('keeps a short blip quiet', async () => {
    await start();
    backend.emit('connection', { state: 'reconnecting', lastSeq: 5, attempt: 1, retryAt: inSeconds(0.25), pending: 0 });
    backend.emit('connection', { state: 'online', lastSeq: 5, attempt: 0, retryAt: '', pending: 0 });
    await new Promise((r) => setTimeout(r, 1700)); // past the grace period: nothing may have appeared
    expect($('connection-banner')).toBeNull();
  });

  it('shows a reconnect that takes long, then "Reconnected" with the replies sent, then goes', async () => {
    await start();
    backend.emit('connection', { state: 'reconnecting', lastSeq: 5, attempt: 1, retryAt: inSeconds(1), pending: 1 });
    const banner = await until(() => $('connection-banner'), 3000, 'the banner after the grace period');
    expect(banner.dataset.state).toBe('reconnecting');
    expect($('banner-pending')!.textContent?.trim()).toBe('1 reply is waiting to be sent.');

    backend.sync = { pending: 0 };
    backend.emit('connection', { state: 'online', lastSeq: 6, attempt: 0, retryAt: '', pending: 1 });
    await until(() => $('connection-banner')?.dataset.state === 'reconnected');
    backend.emit('sync', { lastSeq: 7 }); // the outbox was flushed
    await until(() => $('banner-text')?.textContent?.includes('Your waiting replies were sent.'));
    await until(() => !$('connection-banner'), 6000, 'the banner to go');
  }, 15_000);

  it('tries at once when the system says the network is back', async () => {
    await start();
    backend.emit('connection', { state: 'offline', lastSeq: 5, attempt: 4, retryAt: inSeconds(10), pending: 0 });
    await until(() => $('connection-banner'));
    window.dispatchEvent(new Event('online'));
    await until(() => backend.calls.some((c) => c.method === 'ReconnectNow'));
  });
});
