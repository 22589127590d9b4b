// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import CallPanel from './CallPanel.svelte';
import { setTransport, type CallInfo } from '../lib/bridge';
import { FakeBackend } from '../test/fakeBackend';
import { $, until } from '../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;
let methods: Record<string, (...a: unknown[]) => unknown>;

const quality = { jitterMs: 0, lossPercent: 0, rttMs: 0, mos: 0, warnings: null };

function callInfo(over: Partial<CallInfo>): CallInfo {
  return { id: 'call1', conversationId: 'c1', contactId: 'ct1', channel: 'voice.sip', direction: 'inbound', from: '+15551234567',
    to: '+15550100', state: 'offered', startedAt: new Date().toISOString(), ringing: false, muted: false, quality, ...over };
}

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('supervisor');
  methods = (backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
  methods.Calls = () => [];
  methods.MonitorCall = () => undefined;
  methods.LeaveCall = () => undefined;
  setTransport(backend);
});

/** mountPanel mounts the panel and waits until it listed the phone's calls. */
async function mountPanel() {
  app = mount(CallPanel, { target: document.body, props: {} });
  await until(() => backend.calls.some((c) => c.method === 'Calls'));
  await new Promise((r) => setTimeout(r, 0));
}

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('CallPanel', () => {
  it('rings with the caller, their contact, the queue and a countdown', async () => {
    await mountPanel();
    const expiresAt = new Date(Date.now() + 20_000).toISOString();
    backend.emit('call', { type: 'incoming', call: callInfo({ ringing: true, contactName: 'Carla Customer', queueName: 'Support', reservationId: 'r1', expiresAt }) });
    const card = await until(() => $('call-incoming'));
    expect($('call-caller', card)!.textContent).toBe('Carla Customer (+15551234567)');
    expect($('call-queue', card)!.textContent).toBe('Incoming call · Support');
    expect(Number($('call-countdown', card)!.textContent!.replace(/\D/g, ''))).toBeGreaterThan(15);
  });

  it('keeps a call that rang while it was listing the calls again', async () => {
    await mountPanel();
    // The connection changes, so the panel lists the phone's calls again;
    // the list is taken before the call rings and arrives after the ring.
    let answer: (calls: CallInfo[]) => void = () => {};
    methods.Calls = () => new Promise<CallInfo[]>((r) => (answer = r));
    backend.emit('connection', { state: 'online' });
    await until(() => backend.calls.filter((c) => c.method === 'Calls').length === 2);
    backend.emit('call', { type: 'incoming', call: callInfo({ ringing: true }) });
    await until(() => $('call-incoming'));
    answer([]);
    await new Promise((r) => setTimeout(r, 0));
    expect($('call-incoming')).not.toBeNull();
    // A call that ended while the list was on its way stays gone.
    methods.Calls = () => new Promise<CallInfo[]>((r) => (answer = r));
    backend.emit('connection', { state: 'online' });
    await until(() => backend.calls.filter((c) => c.method === 'Calls').length === 3);
    backend.emit('call', { type: 'ended', call: callInfo({}) });
    answer([callInfo({ ringing: true })]);
    await new Promise((r) => setTimeout(r, 0));
    expect($('call-incoming')).toBeNull();
  });

  it('shows a joined call with its mode, switches it and leaves, never hanging up the customer', async () => {
    await mountPanel();
    backend.emit('call', { type: 'state', call: callInfo({ state: 'connected', monitor: 'listen', userName: 'Ana' }) });
    const card = await until(() => $('call-live'));
    expect($('call-state', card)!.textContent).toBe('Listening to Ana’s call');
    expect($('call-hangup', card)).toBeNull();
    expect($('call-hold', card)).toBeNull();
    expect($('call-monitor-listen', card)!.getAttribute('aria-pressed')).toBe('true');
    $<HTMLButtonElement>('call-monitor-barge', card)!.click();
    await until(() => backend.calls.find((c) => c.method === 'MonitorCall'));
    expect(backend.calls.find((c) => c.method === 'MonitorCall')?.args).toEqual(['call1', 'barge']);
    $<HTMLButtonElement>('call-leave', card)!.click();
    await until(() => backend.calls.find((c) => c.method === 'LeaveCall'));
    expect(backend.calls.find((c) => c.method === 'LeaveCall')?.args).toEqual(['call1']);
  });
});
