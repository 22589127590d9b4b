// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import App from './App.svelte';
import { setTransport } from './lib/bridge';
import { FakeBackend } from './test/fakeBackend';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

const $ = <T extends Element = HTMLElement>(id: string) => document.querySelector<T>(`[data-testid="${id}"]`);
const $$ = (id: string) => [...document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];

async function until<T>(fn: () => T | null | undefined | false, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    flushSync();
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

beforeEach(() => {
  backend = new FakeBackend();
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('App', () => {
  it('signs in, lists, opens a conversation and replies', async () => {
    app = mount(App, { target: document.body });
    const form = await until(() => $('signin-form'));
    expect(backend.calls.map((c) => c.method)).toEqual(['Ready', 'RestoreSession']);
    expect($('signin-demo')?.textContent).toContain('admin@example.com');

    type($<HTMLInputElement>('signin-email')!, 'admin@example.com');
    type($<HTMLInputElement>('signin-password')!, 'nope');
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    const err = await until(() => $('signin-error'));
    expect(err.textContent).toBe('Wrong email or password.');

    type($<HTMLInputElement>('signin-password')!, 'switchboard');
    $<HTMLButtonElement>('signin-submit')!.click();
    await until(() => $('inbox'));
    expect(backend.calls.findLast((c) => c.method === 'SignIn')?.args).toEqual([
      { server: '', email: 'admin@example.com', password: 'switchboard' },
    ]);
    expect($('connection-state')?.dataset.state).toBe('online');

    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[1].click();
    await until(() => $$('message').length === 2);
    expect($$('message').map((m) => m.dataset.direction)).toEqual(['in', 'out']);

    const input = $<HTMLTextAreaElement>('reply-input')!;
    type(input, 'On my way');
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await until(() => $$('message').length === 3);
    const last = $$('message')[2];
    expect(last.dataset.direction).toBe('out');
    expect(last.textContent).toContain('On my way');
    expect(backend.calls.find((c) => c.method === 'SendReply')?.args).toEqual(['c2', 'On my way']);
    expect(input.value).toBe('');
  });

  it('goes straight to the inbox when a session is restored, and follows events', async () => {
    backend.session = {
      server: '',
      embedded: true,
      user: { id: 'u1', name: 'Ada Admin', email: 'admin@example.com', role: 'admin' },
    };
    app = mount(App, { target: document.body });
    await until(() => $$('conversation-item').length === 3);
    expect($('signin-form')).toBeNull();

    backend.emit('connection', { state: 'reconnecting' });
    await until(() => $('connection-state')?.dataset.state === 'reconnecting');

    backend.data[2].conversation.lastMessageText = 'New message arrived';
    backend.emit('sync', { lastSeq: 9 });
    await until(() => $$('conversation-item')[2].textContent?.includes('New message arrived'));
  });

  it('passes filters through to Conversations', async () => {
    backend.session = {
      server: '',
      embedded: true,
      user: { id: 'u1', name: 'Ada Admin', email: 'admin@example.com', role: 'admin' },
    };
    app = mount(App, { target: document.body });
    await until(() => $$('conversation-item').length === 3);
    const status = $<HTMLSelectElement>('status-filter')!;
    status.value = 'pending';
    status.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => $$('conversation-item').length === 1);
    expect(backend.calls.filter((c) => c.method === 'Conversations').at(-1)?.args).toEqual([{ status: 'pending' }]);
    type($<HTMLInputElement>('search-input')!, 'zzz');
    await until(() => $('conversation-list-empty'), 2000);
  });
});
