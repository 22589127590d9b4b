// @vitest-environment happy-dom
// The agent's desk: what the inbox says about the session, the connection, missed offers,
// a long first sync and a customer typing, in English and Spanish.
import { describe, expect, it } from 'vitest';
import { BridgeError } from './lib/bridge/errors';
import { useApp } from './test/app';
import { $, $$, until } from './test/dom';

const h = useApp();
const start = () => h.start();

describe('the desk', () => {
  it('goes to the sign-in screen with a sentence when the engine ends the session', async () => {
    h.backend.signInAs('agent');
    start();
    await until(() => $('inbox'));
    h.backend.emit('connection', { state: 'signed_out' });
    await until(() => $('signin-form'));
    expect($('signin-error')?.textContent).toMatch(/^Your session ended: it expired or was signed out on the server/);
  });

  it('explains an ended session found on start', async () => {
    h.backend.failNext.RestoreSession = new BridgeError('not_found', 'Your session has ended …', 'session_ended');
    start();
    await until(() => $('signin-form'));
    expect($('signin-error')?.textContent).toMatch(/^Your session ended/);
  });

  it('shows a clear banner while offline and the last known activity as such', async () => {
    h.backend.signInAs('agent');
    start();
    await until(() => $('inbox'));
    expect($('offline-banner')).toBeNull();
    h.backend.emit('connection', { state: 'offline' });
    const banner = await until(() => $('offline-banner'));
    expect(banner.textContent).toContain('Replies and notes you write wait on this computer');
    const activity = await until(() => $('activity'));
    expect(activity.dataset.stale).toBe('true');
    expect($<HTMLSelectElement>('activity-select')!.disabled).toBe(true);
    h.backend.emit('connection', { state: 'online' });
    await until(() => !$('offline-banner'));
  });

  it('shows a missed offer, opens its conversation and dismisses it', async () => {
    h.backend.signInAs('agent');
    h.backend.missed = [
      {
        reservationId: 'r-missed',
        taskId: 't3',
        conversationId: 'c3',
        channel: 'webchat',
        taskChannel: 'chat',
        contactName: 'Website visitor 5521',
        preview: 'hello?',
        queueName: 'Support',
        offeredAt: new Date(Date.now() - 60_000).toISOString(),
        expiredAt: new Date(Date.now() - 30_000).toISOString(),
      },
    ];
    start();
    const card = await until(() => $('missed-offer'));
    expect(card.textContent).toContain('Website visitor 5521 on Web chat: the offer expired at');
    $<HTMLButtonElement>('missed-open')!.click();
    await until(() => $('conversation-view'));
    $<HTMLButtonElement>('missed-dismiss')!.click();
    await until(() => !$('missed-offer'));
    expect(h.backend.calls.find((c) => c.method === 'DismissMissedOffer')?.args).toEqual(['r-missed']);
  });

  it('keeps the list still during a long first sync and shows how far it is', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    h.backend.emit('progress', { done: 1200, total: 3400 });
    const bar = await until(() => $('sync-progress'));
    expect(bar.textContent).toContain('Loading your inbox: 1,200 of 3,400 updates');
    const lists = () => h.backend.calls.filter((c) => c.method === 'Conversations').length;
    const before = lists();
    h.backend.emit('sync', { lastSeq: 10 });
    h.backend.emit('sync', { lastSeq: 20 });
    await new Promise((r) => setTimeout(r, 50));
    expect(lists()).toBe(before);
    h.backend.emit('progress', { done: 3400, total: 3400 });
    await until(() => !$('sync-progress') && lists() === before + 1);
  });

  it('shows the customer typing in the open conversation', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    const item = $$('conversation-item')[2];
    item.click();
    await until(() => $('conversation-view'));
    h.backend.emit('typing', { conversationId: item.dataset.id, who: 'customer', name: 'Wendy' });
    expect((await until(() => $('typing-indicator'))).textContent).toBe('Wendy is typing…');
    h.backend.emit('typing', { conversationId: 'somewhere-else', who: 'customer', name: 'Other' });
    expect($('typing-indicator')?.textContent).toBe('Wendy is typing…');
  });

  it('speaks Spanish: activities, outcomes and errors', async () => {
    // The language is a setting the app applies on start.
    h.backend.info.settings.language = 'es';
    h.backend.signInAs('agent');
    start();
    const select = await until(() => $<HTMLSelectElement>('activity-select'));
    expect([...select.options].map((o) => o.textContent)).toEqual(['Disponible', 'Descanso', 'Desconectado']);
    expect([...select.options].map((o) => o.value)).toEqual(['Available', 'Break', 'Offline']);
    h.backend.failNext.SetActivity = new BridgeError('invalid', 'Activity "Break" does not exist.');
    select.value = 'Break';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    expect((await until(() => $('activity-error'))).textContent).toBe('Esa actividad ya no existe.');
  });

  it('words a reply the engine refused, without its internal ids', async () => {
    h.backend.signInAs('admin');
    const conv = h.backend.data[0];
    conv.messages.push({
      id: 'local:cl-9', conversationId: conv.conversation.id, direction: 'out', authorName: 'Ada Admin', text: 'Queued earlier',
      status: 'failed', error: 'Task task_9 is held by wk_2.', errorCode: 'conflict', errorReason: 'task_taken',
      createdAt: new Date().toISOString(), attachments: [],
    });
    start();
    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item').find((el) => el.dataset.id === conv.conversation.id)!.click();
    const why = await until(() => $('message-error'));
    expect(why.textContent?.trim()).toBe('Another agent is already handling this conversation.');
  });
});
