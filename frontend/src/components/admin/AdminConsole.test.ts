// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import App from '../../App.svelte';
import ChannelForm from './ChannelForm.svelte';
import ChannelsAdmin from './ChannelsAdmin.svelte';
import { setTransport } from '../../lib/bridge';
import { FakeBackend } from '../../test/fakeBackend';
import { $, $$, choose, type, until } from '../../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('admin');
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('the Admin button', () => {
  it('is shown to admins and opens the console on its channels', async () => {
    app = mount(App, { target: document.body });
    const btn = await until(() => $('open-admin'));
    btn.click();
    await until(() => $('admin-console') && $('channels-empty'));
    for (const s of ['flows', 'routing', 'people', 'content', 'audit']) expect($(`admin-nav-${s}`)).not.toBeNull();
    $<HTMLButtonElement>('admin-close')!.click();
    await until(() => !$('admin-console'));
  });

  for (const role of ['agent', 'supervisor'] as const) {
    it(`is not shown to a ${role}`, async () => {
      backend.signInAs(role);
      app = mount(App, { target: document.body });
      await until(() => $('inbox') && $('user-name'));
      expect($('open-admin')).toBeNull();
    });
  }
});

describe('the first run', () => {
  it('asks for the first admin when the workspace has no user', async () => {
    backend.session = null;
    backend.needsAdmin = true;
    app = mount(App, { target: document.body });
    await until(() => $('setup-form'));
    $<HTMLButtonElement>('setup-skip')!.click();
    await until(() => $('signin-form'));
  });
});

describe('the first admin', () => {
  it('is created, then walked through connecting a channel and inviting agents', async () => {
    backend.session = null;
    backend.needsAdmin = true;
    app = mount(App, { target: document.body });
    await until(() => $('setup-form'));
    type($<HTMLInputElement>('setup-name')!, 'Ada');
    type($<HTMLInputElement>('setup-email')!, 'ada@example.com');
    type($<HTMLInputElement>('setup-password')!, 'password1');
    type($<HTMLInputElement>('setup-confirm')!, 'password2');
    $<HTMLButtonElement>('setup-submit')!.click();
    await until(() => $('setup-error')?.textContent?.includes('not the same'));
    type($<HTMLInputElement>('setup-confirm')!, 'password1');
    $<HTMLButtonElement>('setup-submit')!.click();
    const wizard = await until(() => $('setup-wizard'));
    expect(backend.calls.find((c) => c.method === 'CreateFirstAdmin')?.args[0]).toEqual({ server: '', name: 'Ada', email: 'ada@example.com', password: 'password1' });
    expect(wizard.dataset.step).toBe('1');
    await until(() => $('admin-channels'));
    $<HTMLButtonElement>('wizard-next')!.click();
    await until(() => $('setup-wizard')?.dataset.step === '2' && $('admin-people'));
    $<HTMLButtonElement>('wizard-next')!.click();
    await until(() => $('wizard-done'))!.then((b) => b.click());
    await until(() => !$('setup-wizard') && $('inbox'));
  });
});

describe('the channel form', () => {
  const saved: string[] = [];
  function open(existing = false) {
    if (existing) {
      backend.channels = [{ connector: 'telegram', instance: 'main', enabled: true, title: 'Telegram', state: 'running', config: { botToken: '********', mode: 'polling' },
        secretsSet: ['botToken'], failedReplies: 0, retryingReplies: 0, webhookUrl: 'http://127.0.0.1:8080/hooks/telegram/main' }];
    }
    app = mount(ChannelForm, {
      target: document.body,
      props: { connector: backend.connectors[0], existing: existing ? backend.channels[0] : null, engineURL: 'http://127.0.0.1:8080', onSaved: (i: string) => saved.push(i), onCancel: () => {} },
    });
  }

  it('is built from the connector\'s settings, with the secret write-only', async () => {
    open();
    expect($$('setting-botToken')[0].dataset.kind).toBe('secret');
    expect($('secret-state-botToken')?.textContent?.trim()).toBe('not set');
    const token = document.querySelector<HTMLInputElement>('#ch-botToken')!;
    expect(token.type).toBe('password');
    type($<HTMLInputElement>('channel-instance')!, 'support');
    expect($<HTMLInputElement>('channel-webhook-value')!.value).toBe('http://127.0.0.1:8080/hooks/telegram/support');
  });

  it('checks required fields, tests the unsaved configuration, then saves it', async () => {
    open();
    type($<HTMLInputElement>('channel-instance')!, 'support');
    $<HTMLButtonElement>('channel-save')!.click();
    await until(() => $$('setting-botToken')[0].textContent?.includes('This field is required.'));
    expect(backend.calls.some((c) => c.method === 'SaveChannel')).toBe(false);

    type(document.querySelector<HTMLInputElement>('#ch-botToken')!, 'wrong');
    choose(document.querySelector<HTMLSelectElement>('#ch-mode')!, 'polling');
    type(document.querySelector<HTMLInputElement>('#ch-pollTimeout')!, '30');
    $<HTMLButtonElement>('channel-test')!.click();
    const res = await until(() => $('channel-test-result'));
    expect(res.dataset.ok).toBe('false');
    expect(backend.calls.find((c) => c.method === 'TestChannel')?.args).toEqual(['telegram', 'support', { botToken: 'wrong', mode: 'polling', pollTimeout: 30 }]);

    type(document.querySelector<HTMLInputElement>('#ch-botToken')!, '123:good');
    $<HTMLButtonElement>('channel-save')!.click();
    await until(() => saved.includes('support'));
    expect(backend.calls.find((c) => c.method === 'SaveChannel')?.args).toEqual(['telegram', 'support', { botToken: '123:good', mode: 'polling', pollTimeout: 30 }, true]);
  });

  it('keeps a saved secret the admin leaves empty', async () => {
    open(true);
    expect($('secret-state-botToken')?.textContent?.trim()).toBe('set');
    expect(document.querySelector<HTMLInputElement>('#ch-botToken')!.value).toBe('');
    $<HTMLButtonElement>('channel-save')!.click();
    await until(() => backend.calls.some((c) => c.method === 'SaveChannel'));
    expect(backend.calls.find((c) => c.method === 'SaveChannel')?.args[2]).toEqual({ botToken: '********', mode: 'polling' });
  });
});

describe('the channel list', () => {
  it('shows a stopped poller with its reason, its last connection and a dropped one\'s reconnect', async () => {
    const base = { enabled: true, config: {}, secretsSet: ['botToken'], failedReplies: 0, retryingReplies: 0 };
    backend.channels = [
      { ...base, connector: 'discord', instance: 'bot', title: 'Discord', state: 'stopped', connectedAt: '2026-01-01T09:00:00Z',
        error: 'Discord refused the bot token (close code 4004, authentication failed); it may have been reset.' },
      { ...base, connector: 'telegram', instance: 'main', title: 'Telegram', state: 'running', error: 'The connection ended.',
        connectedAt: '2026-01-01T09:30:00Z', retryAt: '2026-01-01T10:00:02Z' },
    ];
    app = mount(ChannelsAdmin, { target: document.body, props: {} });
    const rows = await until(() => ($$('channel-row').length === 2 ? $$('channel-row') : null));
    expect($('channel-state', rows[0])?.textContent).toBe('Stopped');
    expect($('channel-last-error', rows[0])?.textContent).toContain('4004');
    expect($('channel-connected-at', rows[0])?.textContent).not.toBe('');
    expect($('channel-state', rows[1])?.textContent).toBe('Connected');
    expect(rows[1].textContent).toContain('Reconnects');
  });
});
