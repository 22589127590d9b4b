// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import SupervisorView from './SupervisorView.svelte';
import { setTransport, type LiveView, type QueueLive } from '../../lib/bridge';
import { FakeBackend } from '../../test/fakeBackend';
import { BridgeError } from '../../lib/bridge/errors';
import { $, $$, until } from '../../test/dom';

const figures = { volume: 4, answered: 3, abandoned: 1, handled: 2, avgWaitSeconds: 12, avgHandleSeconds: 95, avgFirstResponseSeconds: 20, withinSla: 3, slaPercent: 75 };

function queue(over: Partial<QueueLive>): QueueLive {
  return { queueId: 'q1', name: 'Support', tasks: { pending: 1, reserved: 1, assigned: 2, wrapping: 0 }, waiting: 1,
    longestWaitSeconds: 8, agents: { available: 1, busy: 2, away: 0, offline: 1 }, today: figures, slaSeconds: 20, alert: [], ...over };
}

function live(at: string, q: Partial<QueueLive>): LiveView {
  return {
    at,
    queues: [queue(q)],
    agents: [{ workerId: 'w1', name: 'Ana', activity: 'Available', state: 'busy', activitySince: at, load: { chat: 2 },
      capacity: { chat: 3, voice: 1, email: 5 }, calls: [], today: { handled: 5, avgHandleSeconds: 61, rejected: 1, timedOut: 2 } }],
  };
}

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('supervisor');
  const methods = (backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
  methods.SupervisorLive = () => live(new Date().toISOString(), {});
  // The engine's past hour: a sample a minute up to a minute ago.
  methods.SupervisorHistory = () => ({ from: '', to: '', stepSeconds: 60, queues: { q1: Array.from({ length: 60 }, (_, i) => ({
    at: new Date(Date.now() - (60 - i) * 60_000).toISOString(), unanswered: i % 3, slaPercent: 80 })) } });
  methods.Activities = () => [{ name: 'Available', available: true }, { name: 'Break', available: false }, { name: 'Offline', available: false }];
  methods.SetAgentActivity = () => ({});
  methods.Report = () => ({ rows: [{ period: '2026-03-02', group: 'q1', ...figures }], names: { q1: 'Support' } });
  methods.Staffing = () => ({ windowMinutes: 60, queues: [{ queueId: 'q1', name: 'Support', arrivals: 30, perHour: 30, ahtSeconds: 180,
    trafficErlangs: 1.5, slaSeconds: 20, targetPercent: 80, agentsNeeded: 3, agentsLoggedIn: 2, serviceLevelPercent: 61 }] });
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

describe('SupervisorView', () => {
  it('shows the live view and follows the pushed views, turning a queue red', async () => {
    app = mount(SupervisorView, { target: document.body, props: { session: backend.signInAs('supervisor'), onClose: () => {} } });
    const row = await until(() => $('super-queue'));
    expect(row.dataset.queue).toBe('Support');
    expect(row.dataset.alarm).toBe('false');
    expect($('super-queue-waiting')!.textContent).toBe('1');
    expect(row.textContent).toContain('75%');
    expect(row.textContent).toContain('1 / 2 / 0 / 1');
    const agent = $('super-agent')!;
    expect(agent.dataset.state).toBe('busy');
    expect($('super-agent-load')!.textContent).toMatch(/2\/3/);
    expect($('super-agent-handled')!.textContent).toBe('5');
    expect($$('super-alerts')[0].textContent).toBe('');

    backend.emit('supervisor', live(new Date().toISOString(), { waiting: 4, longestWaitSeconds: 40, alert: ['longest wait', 'waiting'] }));
    await until(() => $('super-queue')?.dataset.alarm === 'true');
    expect($('super-queue-waiting')!.textContent).toBe('4');
    expect($('super-alerts')!.textContent).toContain('Support is past its threshold');
    // The engine's 60 samples (the first is an hour old), then the pushed views.
    await until(() => Number($('super-chart')!.dataset.points) >= 60);
    expect(Number($('super-chart')!.dataset.points)).toBeLessThanOrEqual(62);
  });

  it('keeps a pushed view that is newer than the answer to its first ask', async () => {
    const methods = (backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
    const asked = live(new Date(Date.now() - 1000).toISOString(), {});
    let answer = (_: LiveView) => {};
    methods.SupervisorLive = () => new Promise<LiveView>((resolve) => (answer = resolve));
    app = mount(SupervisorView, { target: document.body, props: { session: backend.signInAs('supervisor'), onClose: () => {} } });
    await until(() => backend.calls.find((c) => c.method === 'SupervisorLive'));
    const pushed = live(new Date().toISOString(), {});
    pushed.agents[0].calls = [{ callId: 'call1', conversationId: 'c1', startedAt: pushed.at }];
    backend.emit('supervisor', pushed);
    await until(() => $('super-call'));
    answer(asked);
    // One turn of the event loop runs the whole chain of promises behind the answer.
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect($('super-call')?.dataset.callId).toBe('call1');
  });

  it('sets an agent’s activity', async () => {
    app = mount(SupervisorView, { target: document.body, props: { session: backend.signInAs('supervisor'), onClose: () => {} } });
    const select = await until(() => $<HTMLSelectElement>('super-agent-activity'));
    await until(() => select.options.length === 3);
    select.value = 'Offline';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    await until(() => backend.calls.find((c) => c.method === 'SetAgentActivity'));
    expect(backend.calls.find((c) => c.method === 'SetAgentActivity')?.args).toEqual(['w1', 'Offline']);
  });

  it('joins an agent’s call to listen, whisper or barge, and leaves', async () => {
    const methods = (backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
    const view = live(new Date().toISOString(), {});
    view.agents[0].calls = [{ callId: 'call1', conversationId: 'c1', startedAt: view.at }];
    methods.SupervisorLive = () => view;
    methods.MonitorCall = () => undefined;
    methods.LeaveCall = () => undefined;
    app = mount(SupervisorView, { target: document.body, props: { session: backend.signInAs('supervisor'), onClose: () => {} } });
    const call = await until(() => $('super-call'));
    expect(call.dataset.callId).toBe('call1');
    expect($('super-call-leave')).toBeNull();
    expect(['listen', 'whisper', 'barge'].map((m) => $(`super-call-${m}`)!.textContent)).toEqual(['Listen', 'Whisper', 'Barge']);
    $<HTMLButtonElement>('super-call-whisper')!.click();
    await until(() => backend.calls.find((c) => c.method === 'MonitorCall'));
    expect(backend.calls.find((c) => c.method === 'MonitorCall')?.args).toEqual(['call1', 'whisper']);

    // The supervisor's phone reports how it is on the call.
    const info = { id: 'call1', state: 'connected', monitor: 'whisper', userName: 'Ana' };
    backend.emit('call', { type: 'state', call: info });
    await until(() => $('super-call')?.dataset.monitor === 'whisper');
    expect($('super-call-whisper')!.getAttribute('aria-pressed')).toBe('true');
    expect($('super-call-listen')!.getAttribute('aria-pressed')).toBe('false');
    $<HTMLButtonElement>('super-call-leave')!.click();
    await until(() => backend.calls.find((c) => c.method === 'LeaveCall'));
    expect(backend.calls.find((c) => c.method === 'LeaveCall')?.args).toEqual(['call1']);
    backend.emit('call', { type: 'ended', call: info });
    await until(() => $('super-call')?.dataset.monitor === '');
    expect($('super-call-leave')).toBeNull();

    // A call another supervisor is on says so, in words.
    methods.MonitorCall = () => {
      throw new BridgeError('conflict', 'Sue Supervisor is already on this call.');
    };
    $<HTMLButtonElement>('super-call-barge')!.click();
    const err = await until(() => $('super-call-error'));
    expect(err.textContent).toContain('another supervisor is on it');
  });

  it('shows a report and staffing', async () => {
    app = mount(SupervisorView, { target: document.body, props: { session: backend.signInAs('supervisor'), onClose: () => {} } });
    (await until(() => $<HTMLButtonElement>('super-tab-reports'))).click();
    const row = await until(() => $('report-row'));
    expect(row.textContent).toContain('2026-03-02');
    expect(row.textContent).toContain('75%');
    const staff = await until(() => $('staffing-row'));
    expect(staff.textContent).toContain('1.50');
    expect(staff.classList.contains('short')).toBe(true);
  });
});
