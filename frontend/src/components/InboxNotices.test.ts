// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import InboxNotices from './InboxNotices.svelte';
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

const heldReply = {
  clientId: 'c-1', conversationId: 'conv_old', contactName: 'Olga', channel: 'telegram', text: 'Written offline',
  private: false, createdAt: new Date().toISOString(), heldAt: new Date().toISOString(),
};

describe('InboxNotices', () => {
  it('shows replies held back by a reset whose event came before the page listened', async () => {
    app = mount(InboxNotices, { target: document.body, props: { conn: 'online', progress: null } });
    await until(() => backend.calls.some((c) => c.method === 'HeldReplies'));
    // The cache starts over after the first read; its "reset" event never reaches the page,
    // but the catch-up's connection change does.
    backend.held = [heldReply];
    expect($('held-reply')).toBeNull();
    backend.emit('connection', { state: 'online', lastSeq: 3, attempt: 0, pending: 0 });
    await until(() => $('held-reply') !== null);
    expect($('held-reply')?.textContent).toContain('Written offline');
  });
});
