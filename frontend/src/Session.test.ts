// @vitest-environment happy-dom
// The session as the engine ends it, conversations leaving with access, and
// the agent's own password.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import App from './App.svelte';
import { setTransport } from './lib/bridge';
import { FakeBackend } from './test/fakeBackend';
import { $, $$, type, until } from './test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  setTransport(backend);
  backend.signInAs('agent');
  app = mount(App, { target: document.body });
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('Session', () => {
  it('goes to the sign-in screen with a sentence when the engine ends the session', async () => {
    await until(() => $$('conversation-item').length === 1);
    backend.emit('connection', { state: 'signed_out' });
    const err = await until(() => $('signin-error'));
    expect(err.textContent).toContain('Your session ended');
    expect($('inbox')).toBeNull();
  });

  it('closes a conversation the agent lost and says why', async () => {
    await until(() => $$('conversation-item').length === 1);
    $$('conversation-item')[0].click();
    await until(() => $('conversation-view'));
    backend.data = backend.data.filter((d) => d.conversation.id !== 'c1');
    backend.emit('removed', { conversationIds: ['c1'] });
    const notice = await until(() => $('inbox-notice'));
    expect(notice.textContent).toContain('no longer yours');
    await until(() => !$('conversation-view'));
    await until(() => $$('conversation-item').length === 0);
  });

  it('changes the password, refusing a wrong one and a mistyped new one', async () => {
    await until(() => $$('conversation-item').length === 1);
    $<HTMLButtonElement>('open-password')!.click();
    await until(() => $('password-dialog'));
    const fill = (current: string, next: string, again: string) => {
      type($<HTMLInputElement>('password-current')!, current);
      type($<HTMLInputElement>('password-new')!, next);
      type($<HTMLInputElement>('password-again')!, again);
      $<HTMLButtonElement>('password-save')!.click();
    };
    fill('switchboard', 'new password', 'new passwrod');
    expect((await until(() => $('password-error'))).textContent).toContain('differ');
    expect(backend.calls.some((c) => c.method === 'ChangePassword')).toBe(false);

    fill('wrong', 'new password', 'new password');
    await until(() => $('password-error')?.textContent?.includes('current password is not correct'));

    fill('switchboard', 'new password', 'new password');
    await until(() => !$('password-dialog'));
    expect((await until(() => $('inbox-notice'))).textContent).toContain('password was changed');
    expect(backend.calls.findLast((c) => c.method === 'ChangePassword')?.args).toEqual([{ current: 'switchboard', new: 'new password' }]);
    expect(backend.info.demoAccounts.find((a) => a.email === 'agent@example.com')?.password).toBe('new password');
  });
});
