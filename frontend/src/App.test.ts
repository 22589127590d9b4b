// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { BridgeError } from './lib/bridge/errors';
import { flushSync } from 'svelte';
import { useApp } from './test/app';
import { $, $$, type, until } from './test/dom';

const h = useApp();
const start = () => h.start();

describe('App', () => {
  it('signs in, lists, opens a conversation and replies', async () => {
    start();
    const form = await until(() => $('signin-form'));
    expect(h.backend.calls.map((c) => c.method)).toEqual(['Ready', 'RestoreSession', 'SetupStatus']);
    expect($('signin-demo')?.textContent).toContain('admin@example.com');

    type($<HTMLInputElement>('signin-email')!, 'admin@example.com');
    type($<HTMLInputElement>('signin-password')!, 'nope');
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    const err = await until(() => $('signin-error'));
    // The app's own sentence for a refused sign-in, not the engine's wording.
    expect(err.textContent).toBe('The email or password is not correct.');

    type($<HTMLInputElement>('signin-password')!, 'switchboard');
    $<HTMLButtonElement>('signin-submit')!.click();
    await until(() => $('inbox'));
    expect(h.backend.calls.findLast((c) => c.method === 'SignIn')?.args).toEqual([
      { server: '', email: 'admin@example.com', password: 'switchboard' },
    ]);
    expect($('connection-state')?.dataset.state).toBe('online');

    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[1].click();
    await until(() => $$('message').length === 2);
    expect($$('message').map((m) => m.dataset.direction)).toEqual(['in', 'out']);
    expect($$('message-status').map((s) => s.textContent)).toEqual(['Delivered']);

    const input = $<HTMLTextAreaElement>('reply-input')!;
    type(input, 'On my way');
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await until(() => $$('message').length === 3);
    const last = $$('message')[2];
    expect(last.dataset.direction).toBe('out');
    expect(last.textContent).toContain('On my way');
    expect(h.backend.calls.find((c) => c.method === 'SendReply')?.args).toEqual(['c2', 'On my way']);
    expect(input.value).toBe('');
  });

  it('goes straight to the inbox when a session is restored, and follows events', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    expect($('signin-form')).toBeNull();

    h.backend.emit('connection', { state: 'reconnecting' });
    await until(() => $('connection-state')?.dataset.state === 'reconnecting');

    h.backend.data[2].conversation.lastMessageText = 'New message arrived';
    h.backend.emit('sync', { lastSeq: 9 });
    await until(() => $$('conversation-item')[2].textContent?.includes('New message arrived'));
  });

  it('tells a supervisor in the inbox when a queue turns red, until the supervisor’s view is opened', async () => {
    h.backend.signInAs('supervisor');
    const methods = (h.backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
    methods.SupervisorLive = () => ({ at: new Date().toISOString(), queues: [], agents: [] });
    methods.SupervisorHistory = () => ({ from: '', to: '', stepSeconds: 60, queues: {} });
    methods.Activities = () => [];
    start();
    await until(() => $$('conversation-item').length === 3);
    expect($('queue-alert-notice')).toBeNull();
    h.backend.emit('queueAlert', { queueId: 'q1', name: 'Support', alert: ['waiting'] });
    const notice = await until(() => $('queue-alert-notice'));
    expect(notice.textContent).toContain('Support is past its threshold: waiting tasks');
    $<HTMLButtonElement>('queue-alert-open')!.click();
    // The view's module (and uPlot) load on first use.
    await until(() => $('supervisor-view'), 20_000, 'the supervisor view');
    expect($('queue-alert-notice')).toBeNull();
  });

  it('passes filters through to Conversations', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    const status = $<HTMLSelectElement>('status-filter')!;
    status.value = 'pending';
    status.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => $$('conversation-item').length === 1);
    expect(h.backend.calls.filter((c) => c.method === 'Conversations').at(-1)?.args).toEqual([{ scope: 'all', status: 'pending' }]);
    const channel = $<HTMLSelectElement>('channel-filter')!;
    channel.value = 'line';
    channel.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => $('conversation-list-empty'));
    expect($('conversation-list-empty')!.textContent).toContain('No conversations match');
  });

  it('shows the scope tabs a role may use', async () => {
    h.backend.signInAs('agent');
    start();
    // Agents start on their own work: only c1 is assigned to them.
    await until(() => $$('conversation-item').length === 1);
    expect($('scope-all')).toBeNull();
    expect($('scope-mine')!.getAttribute('aria-selected')).toBe('true');
    expect($$('conversation-item')[0].dataset.id).toBe('c1');
    expect($('task-state')!.dataset.state).toBe('assigned');
    expect(h.backend.calls.find((c) => c.method === 'Conversations')?.args).toEqual([{ scope: 'mine' }]);

    $<HTMLButtonElement>('scope-queues')!.click();
    await until(() => $$('conversation-item').length === 2);
    expect($$('conversation-item').map((i) => i.dataset.taskState)).toEqual(['assigned', 'pending']);
    expect($$('conversation-item')[1].textContent).toContain('Waiting');
    expect($$('conversation-item')[1].textContent).toContain('Support');
  });

  it('lets supervisors and admins see all', async () => {
    h.backend.signInAs('supervisor');
    start();
    await until(() => $$('conversation-item').length === 3);
    expect($('scope-all')!.getAttribute('aria-selected')).toBe('true');
    $<HTMLButtonElement>('scope-mine')!.click();
    await until(() => $$('conversation-item').length === 1);
    $<HTMLButtonElement>('scope-all')!.click();
    await until(() => $$('conversation-item').length === 3);
  });

  it('searches messages and opens a hit', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    type($<HTMLInputElement>('search-input')!, 'order');
    const results = await until(() => $('search-results'));
    await until(() => $$('search-hit').length === 1);
    expect($('conversation-list')).toBeNull();
    expect($('search-summary')!.textContent?.trim()).toBe('1 result in 0.4 ms');
    const hit = $$('search-hit')[0];
    expect(hit.querySelector('mark')?.textContent).toBe('order');
    expect(hit.textContent).toContain('Maria Garcia');
    expect(h.backend.calls.find((c) => c.method === 'SearchMessages')?.args).toEqual(['order']);
    hit.click();
    await until(() => $('contact-name')?.textContent === 'Maria Garcia');
    expect(results.isConnected).toBe(true);

    type($<HTMLInputElement>('search-input')!, 'zzz');
    await until(() => $('search-empty'));
    type($<HTMLInputElement>('search-input')!, '');
    await until(() => $('conversation-list'));
  });

  it('shows the contact’s whole history in one timeline with channel dividers', async () => {
    h.backend.data.push(...(await import('./test/fakeBackend')).seedHistory());
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 4);
    $$('conversation-item')[0].click();
    await until(() => $$('timeline-item').length === 3);
    expect($$('timeline-item').map((i) => [i.dataset.channel, i.dataset.direction])).toEqual([
      ['sms.twilio', 'in'],
      ['sms.twilio', 'out'],
      ['whatsapp.cloud', 'in'],
    ]);
    expect($$('channel-divider').map((d) => [d.dataset.channel, d.textContent?.trim()])).toEqual([['whatsapp.cloud', 'WhatsApp']]);
    // The divider sits right before the first WhatsApp message.
    expect($('channel-divider')!.nextElementSibling?.getAttribute('data-channel')).toBe('whatsapp.cloud');

    const panel = $('contact-panel')!;
    expect(panel.textContent).toContain('Maria Garcia');
    const past = $$('past-conversation', panel);
    expect(past.map((p) => p.dataset.id)).toEqual(['c1', 'c0']);
    expect(past[0].getAttribute('aria-current')).toBe('true');
    past[1].click();
    await until(() => $('past-conversation[aria-current]') ?? $$('past-conversation').find((p) => p.dataset.id === 'c0' && p.getAttribute('aria-current')));
    expect(h.backend.calls.findLast((c) => c.method === 'Conversation')?.args).toEqual(['c0']);
  });

  it('fills a canned response picked with /', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[0].click();
    const input = await until(() => $<HTMLTextAreaElement>('reply-input'));
    await until(() => h.backend.calls.some((c) => c.method === 'CannedResponses'));

    type(input, '/');
    await until(() => $$('canned-option').length === 3);
    type(input, '/ref');
    await until(() => $$('canned-option').length === 1);
    expect($('canned-option')!.textContent).toContain('Refunds take 5 days, Maria Garcia.');
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await until(() => !$('canned-menu'));
    expect(input.value).toBe('Refunds take 5 days, Maria Garcia.');
    expect(h.backend.calls.some((c) => c.method === 'SendReply')).toBe(false);

    type(input, '/');
    await until(() => $('canned-menu'));
    $$('canned-option')[0].click();
    await until(() => input.value === 'Hi Maria, this is Ada Admin. How can I help?');

    type(input, '/nothing-like-this');
    await until(() => $('canned-menu')?.textContent?.includes('No canned response matches'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    await until(() => !$('canned-menu'));
  });

  it('adds private notes and replies on another channel of the contact', async () => {
    h.backend.data.push(...(await import('./test/fakeBackend')).seedHistory());
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 4);
    $$('conversation-item')[0].click();
    await until(() => $$('timeline-item').length === 3);

    const via = $<HTMLSelectElement>('send-via')!;
    expect([...via.options].map((o) => o.value)).toEqual(['c1', 'c0']);
    expect(via.value).toBe('c1');

    $<HTMLButtonElement>('note-toggle')!.click();
    await until(() => !$('send-via'));
    const input = $<HTMLTextAreaElement>('reply-input')!;
    type(input, 'VIP customer, be nice');
    $<HTMLButtonElement>('reply-send')!.click();
    await until(() => $$('timeline-item').length === 4);
    const note = $$('timeline-item')[3];
    expect(note.dataset.private).toBe('true');
    expect(note.textContent).toContain('Note');
    expect(note.querySelector('[data-testid="message-status"]')).toBeNull();
    expect(h.backend.calls.find((c) => c.method === 'SendNote')?.args).toEqual(['c1', 'VIP customer, be nice']);

    $<HTMLButtonElement>('note-toggle')!.click();
    const via2 = await until(() => $<HTMLSelectElement>('send-via'));
    via2.value = 'c0';
    via2.dispatchEvent(new Event('change', { bubbles: true }));
    type(input, 'Sent by SMS instead');
    $<HTMLButtonElement>('reply-send')!.click();
    await until(() => $$('timeline-item').length === 5);
    expect(h.backend.calls.find((c) => c.method === 'SendReply')?.args).toEqual(['c0', 'Sent by SMS instead']);
    expect($$('timeline-item')[4].dataset.channel).toBe('sms.twilio');
    expect($$('channel-divider').length).toBe(2);
  });

  it('warns about channel limits before sending', async () => {
    h.backend.data.push(...(await import('./test/fakeBackend')).seedHistory());
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 4);
    $$('conversation-item')[0].click();
    const input = await until(() => $<HTMLTextAreaElement>('reply-input'));
    expect($('limit-warning')).toBeNull();

    // Maria last wrote on WhatsApp 30 hours ago.
    h.backend.data[0].messages[0].createdAt = new Date(Date.now() - 30 * 3_600_000 - 60_000).toISOString();
    h.backend.emit('sync', { lastSeq: 2 });
    const w = await until(() => $('limit-warning'));
    expect(w.dataset.kind).toBe('template');
    expect(w.textContent).toContain('The customer last wrote 30 hours ago, so WhatsApp only allows template messages.');

    // On SMS there is no window, but there is a length limit.
    const via = $<HTMLSelectElement>('send-via')!;
    via.value = 'c0';
    via.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => !$('limit-warning'));
    type(input, 'x'.repeat(1601));
    const len = await until(() => $('limit-warning'));
    expect(len.dataset.kind).toBe('length');
    expect(len.textContent).toContain('1601');
    expect(len.textContent).toContain('1600');
    expect($<HTMLButtonElement>('reply-send')!.disabled).toBe(false);

    // Notes go nowhere near the customer: no warnings.
    $<HTMLButtonElement>('note-toggle')!.click();
    await until(() => !$('limit-warning'));
  });

  it('wraps up with a timer and an outcome, transfers, snoozes and resolves', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[0].click();
    (await until(() => $<HTMLButtonElement>('task-wrapup')))!.click();
    await until(() => !$('task-wrapup'));
    expect(h.backend.calls.find((c) => c.method === 'WrapUp')?.args).toEqual(['t1', '']);
    expect($('conversation-view')!.querySelector('[data-testid="task-state"]')?.getAttribute('data-state')).toBe('wrapping');
    // Wrap-up: a running timer, and outcomes that read unlike the actions beside them.
    expect((await until(() => $('wrapup-timer'))).textContent).toMatch(/^Wrap-up 0:0\d$/);
    const disp = await until(() => $<HTMLSelectElement>('task-disposition'));
    expect([...disp.options].map((o) => [o.value, o.textContent])).toEqual([
      ['issue_solved', 'Problem fixed'],
      ['needs_follow_up', 'Needs a follow-up'],
      ['spam', 'Spam'],
    ]);
    disp.value = 'needs_follow_up';
    disp.dispatchEvent(new Event('change', { bubbles: true }));
    $<HTMLButtonElement>('task-complete')!.click();
    await until(() => !$('task-complete'));
    expect(h.backend.calls.find((c) => c.method === 'CompleteTask')?.args).toEqual(['t1', 'needs_follow_up']);

    $<HTMLButtonElement>('task-more')!.click();
    (await until(() => $<HTMLButtonElement>('conv-snooze')))!.click();
    await until(() => $('conversation-view')!.querySelector('[data-status="snoozed"]'));
    expect(h.backend.calls.find((c) => c.method === 'SetConversationStatus')?.args).toEqual(['c1', 'snoozed']);
    $<HTMLButtonElement>('conv-resolve')!.click();
    await until(() => $('conv-reopen') && !$('conv-resolve'));

    // John waits in a queue: a supervisor can take him or assign him to an agent.
    $$('conversation-item')[1].click();
    await until(() => $('contact-name')?.textContent === 'John Smith');
    expect(await until(() => $('task-take'))).not.toBeNull();
    expect($('task-transfer')).toBeNull();
    (await until(() => $<HTMLButtonElement>('task-assign')))!.click();
    const dialog = await until(() => $('transfer-dialog'));
    await until(() => $$('transfer-worker').length === 1);
    expect($$('transfer-queue')).toEqual([]);
    $$('transfer-worker')[0].querySelector('input')!.click();
    flushSync();
    $<HTMLButtonElement>('transfer-confirm')!.click();
    await until(() => !dialog.isConnected);
    expect(h.backend.calls.find((c) => c.method === 'AssignTask')?.args).toEqual(['t2', 'w2']);
  });

  it('transfers an assigned task to a queue', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[0].click();
    (await until(() => $<HTMLButtonElement>('task-more')))!.click();
    (await until(() => $<HTMLButtonElement>('task-transfer')))!.click();
    const dialog = await until(() => $('transfer-dialog'));
    await until(() => $$('transfer-queue').length === 2);
    expect($$('transfer-worker').map((w) => w.textContent)).toEqual([expect.stringContaining('Bob Agent')]);
    $$('transfer-queue')[1].querySelector('input')!.click();
    flushSync();
    $<HTMLButtonElement>('transfer-confirm')!.click();
    await until(() => !dialog.isConnected);
    expect(h.backend.calls.find((c) => c.method === 'TransferTask')?.args).toEqual(['t1', { queueId: 'q2' }]);
  });

  it('takes a waiting conversation, or says in the user’s language why not', async () => {
    h.backend.signInAs('agent');
    start();
    (await until(() => $<HTMLButtonElement>('scope-queues')))!.click();
    const john = await until(() => $$('conversation-item').find((el) => el.textContent?.includes('John Smith')));
    john.click();
    (await until(() => $<HTMLButtonElement>('task-take')))!.click();
    await until(() => !$('task-take'));
    expect(h.backend.calls.find((c) => c.method === 'TakeTask')?.args).toEqual(['t2']);
    expect($('task-assign')).toBeNull(); // agents do not assign
    // Someone else took it first: the reason, translated, and no internal id.
    h.backend.tasks.c2.state = 'pending';
    h.backend.emit('sync', { lastSeq: 99 });
    h.backend.failNext.TakeTask = new BridgeError('conflict', 'Task t2 is held by wk_7.', 'task_taken');
    (await until(() => $<HTMLButtonElement>('task-take')))!.click();
    const err = await until(() => $('action-error'));
    expect(err.textContent).toBe('Another agent is already handling this conversation.');
    expect(err.textContent).not.toContain('t2');
  });

  it('says so when offline, and still queues replies', async () => {
    h.backend.signInAs('admin');
    start();
    await until(() => $$('conversation-item').length === 3);
    $$('conversation-item')[1].click();
    await until(() => $('conv-resolve'));
    h.backend.online = false;
    h.backend.emit('connection', { state: 'offline' });
    await until(() => $('connection-state')?.dataset.state === 'offline');

    $<HTMLButtonElement>('conv-resolve')!.click();
    const err = await until(() => $('action-error'));
    expect(err.textContent).toContain('offline');
    expect(h.backend.calls.some((c) => c.method === 'SetConversationStatus')).toBe(false);
    expect($('reply-offline')).not.toBeNull();

    type($<HTMLTextAreaElement>('reply-input')!, 'Sent while offline');
    $<HTMLButtonElement>('reply-send')!.click();
    await until(() => $$('message').length === 3);
    expect($$('message-status').at(-1)!.textContent).toBe('Queued');
    expect($$('message-status').at(-1)!.dataset.status).toBe('queued');
  });

  it('switches activity and theme from the header', async () => {
    h.backend.signInAs('agent');
    start();
    const sel = await until(() => $<HTMLSelectElement>('activity-select'));
    await until(() => sel.value === 'Available');
    expect(sel.dataset.available).toBe('true');
    expect([...sel.options].map((o) => o.value)).toEqual(['Available', 'Break', 'Offline']);
    sel.value = 'Break';
    sel.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => sel.dataset.available === 'false');
    expect(h.backend.calls.find((c) => c.method === 'SetActivity')?.args).toEqual(['Break']);

    const theme = $<HTMLButtonElement>('theme-toggle')!;
    expect(theme.dataset.theme).toBe('system');
    theme.click();
    await until(() => document.documentElement.dataset.theme === 'light');
    theme.click();
    await until(() => document.documentElement.dataset.theme === 'dark');
    expect(localStorage.getItem('switchboard.theme')).toBe('dark');
    theme.click();
    await until(() => document.documentElement.dataset.theme === undefined);
    expect(localStorage.getItem('switchboard.theme')).toBeNull();
  });

  it('opens the conversation of an accepted offer', async () => {
    h.backend.signInAs('agent');
    start();
    await until(() => $$('conversation-item').length === 1);
    h.backend.addOffer('c2', 30_000);
    await until(() => $('offer-card'));
    $<HTMLButtonElement>('offer-accept')!.click();
    await until(() => $('contact-name')?.textContent === 'John Smith');
    await until(() => !$('offer-card'));
    await until(() => $$('conversation-item').length === 2);
  });
});
