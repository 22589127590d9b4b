// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import App from '../App.svelte';
import { setTransport } from '../lib/bridge';
import { FakeBackend } from '../test/fakeBackend';
import { $, $$, choose, until } from '../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('supervisor');
  backend.labels = [{ id: 'lb_billing', name: 'Billing', color: '#2563eb' }, { id: 'lb_vip', name: 'VIP' }];
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('labels in the inbox', () => {
  it('are put on a conversation and filter the list', async () => {
    app = mount(App, { target: document.body });
    const first = await until(() => $('conversation-item'));
    const id = first.dataset.id!;
    first.click();
    await until(() => $('conversation-view') && $('label-picker'));
    $<HTMLButtonElement>('label-picker')!.click();
    const billing = await until(() => $$<HTMLInputElement>('label-option').find((o) => o.dataset.label === 'lb_billing'));
    billing.click();
    await until(() => backend.calls.some((c) => c.method === 'SetConversationLabels'));
    expect(backend.calls.find((c) => c.method === 'SetConversationLabels')?.args).toEqual([id, ['lb_billing']]);
    await until(() => $$('conversation-label').some((l) => l.textContent === 'Billing'));

    choose($<HTMLSelectElement>('label-filter')!, 'lb_billing');
    await until(() => $$('conversation-item').length === 1);
    expect($$('conversation-item')[0].dataset.id).toBe(id);
    expect(backend.calls.filter((c) => c.method === 'Conversations').at(-1)?.args[0]).toMatchObject({ label: 'lb_billing' });
    choose($<HTMLSelectElement>('label-filter')!, 'lb_vip');
    await until(() => $$('conversation-item').length === 0);
  });
});
