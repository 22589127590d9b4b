import { describe, expect, it } from 'vitest';
import { History, alarmed, clock, hhmm, lastDays, loads, seconds, waitNow } from './supervisor';
import type { AgentLive, LiveView, QueueLive } from './bridge';

const figures = { volume: 0, answered: 0, abandoned: 0, handled: 0, avgWaitSeconds: 0, avgHandleSeconds: 0, avgFirstResponseSeconds: 0, withinSla: 0, slaPercent: 0 };

function queue(over: Partial<QueueLive> = {}): QueueLive {
  return { queueId: 'q1', name: 'Support', tasks: {}, waiting: 0, longestWaitSeconds: 0,
    agents: { available: 0, busy: 0, away: 0, offline: 0 }, today: figures, slaSeconds: 20, alert: [], ...over };
}

function view(at: string, q: Partial<QueueLive>): LiveView {
  return { at, queues: [queue(q)], agents: [] };
}

describe('History', () => {
  it('keeps one point per view over the last hour, SLA empty until a task left', () => {
    const h = new History();
    h.add(view('2026-03-02T09:00:00Z', { waiting: 1, tasks: { pending: 1 } }));
    // Offered tasks count as not yet answered, as the engine's past samples do.
    h.add(view('2026-03-02T09:30:00Z', { waiting: 2, tasks: { pending: 2, reserved: 1, assigned: 4 }, today: { ...figures, answered: 3, abandoned: 1, slaPercent: 75 } }));
    h.add(view('2026-03-02T10:10:00.123456789Z', { waiting: 0, today: { ...figures, answered: 4, abandoned: 1, slaPercent: 80 } }));
    const [t, waiting, sla] = h.series('q1');
    // 09:00 is more than an hour before 10:10.
    expect(t).toEqual([Date.parse('2026-03-02T09:30:00Z') / 1000, Date.parse('2026-03-02T10:10:00.123Z') / 1000]);
    expect(waiting).toEqual([3, 0]);
    expect(sla).toEqual([75, 80]);
    expect(h.series('nope')).toEqual([[], [], []]);
  });

  it('replaces a point of the same second', () => {
    const h = new History();
    h.add(view('2026-03-02T09:00:00Z', { tasks: { pending: 1 } }));
    h.add(view('2026-03-02T09:00:00Z', { tasks: { pending: 2 } }));
    expect(h.series('q1')[1]).toEqual([2]);
    expect(h.series('q1')[2]).toEqual([null]);
  });
});

describe('History from the engine', () => {
  const sample = (at: string, unanswered: number, slaPercent: number | null) => ({ at, unanswered, slaPercent });

  it('starts with the engine’s past hour and goes on with the pushed views', () => {
    const h = new History();
    h.seed({ from: '2026-03-02T09:00:00Z', to: '2026-03-02T10:00:00Z', stepSeconds: 60, queues: {
      q1: [sample('2026-03-02T09:00:00Z', 2, null), sample('2026-03-02T09:59:00Z', 1, 50), sample('2026-03-02T10:00:00.5Z', 1, 50)],
      q2: null,
    } });
    h.add(view('2026-03-02T10:00:30Z', { tasks: { pending: 4 }, today: { ...figures, answered: 2, slaPercent: 100 } }));
    const [t, waiting, sla] = h.series('q1');
    // 09:00 fell out of the hour when the view of 10:00:30 came.
    expect(t).toEqual([1772445540, 1772445600.5, 1772445630]);
    expect(waiting).toEqual([1, 1, 4]);
    expect(sla).toEqual([50, 50, 100]);
    expect(h.series('q2')).toEqual([[], [], []]);
  });

  it('keeps pushed views that arrived before the engine’s samples, and only the last hour', () => {
    const h = new History();
    h.add(view('2026-03-02T10:00:30Z', { tasks: { pending: 4 } }));
    h.seed({ from: '', to: '', stepSeconds: 60, queues: {
      q1: [sample('2026-03-02T08:59:00Z', 9, null), sample('2026-03-02T09:30:00Z', 2, null), sample('2026-03-02T10:00:31Z', 7, null)],
    } });
    expect(h.series('q1')[1]).toEqual([2, 4]);
  });

  it('reads the engine’s times in seconds, nanoseconds and all, and labels them as a time of day', () => {
    expect(seconds('2026-03-02T10:00:00.123456789Z')).toBe(1772445600.123);
    expect(seconds('2026-03-02T10:00:00+01:00')).toBe(1772442000);
    const t = seconds('2026-03-02T10:05:00Z');
    const d = new Date(t * 1000);
    expect(hhmm(t)).toBe(`${String(d.getHours()).padStart(2, '0')}:05`);
    expect(hhmm(t)).toMatch(/^\d\d:\d\d$/);
  });
});

describe('live figures', () => {
  it('counts the longest wait on from the view, only while tasks wait', () => {
    const at = '2026-03-02T09:00:00Z';
    expect(waitNow(queue({ waiting: 2, longestWaitSeconds: 30 }), at, Date.parse(at) + 5000)).toBe(35);
    expect(waitNow(queue({ waiting: 0, longestWaitSeconds: 30 }), at, Date.parse(at) + 5000)).toBe(0);
  });

  it('turns a queue red past a threshold', () => {
    expect(alarmed(queue({ alert: ['waiting'] }))).toBe(true);
    expect(alarmed(queue({ alert: [] }))).toBe(false);
    expect(alarmed(queue({ alert: null }))).toBe(false);
  });

  it('formats durations', () => {
    expect(clock(5)).toBe('0:05');
    expect(clock(65.9)).toBe('1:05');
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(-3)).toBe('0:00');
  });

  it('lists load against capacity, held channels first, channels the agent never takes left out', () => {
    const a = { load: { chat: 2 }, capacity: { chat: 3, voice: 1, email: 0 } } as unknown as AgentLive;
    expect(loads(a)).toEqual([
      { channel: 'chat', held: 2, capacity: 3 },
      { channel: 'voice', held: 0, capacity: 1 },
    ]);
  });

  it('gives the range of the last days', () => {
    expect(lastDays(7, new Date(2026, 2, 2))).toEqual({ from: '2026-02-24', to: '2026-03-02' });
    expect(lastDays(1, new Date(2026, 0, 9))).toEqual({ from: '2026-01-09', to: '2026-01-09' });
  });
});

describe('the locale guard', () => {
  it('tells a language tag Intl takes from one it refuses', async () => {
    const { localeUsable } = await import('./locale-guard');
    expect(localeUsable('es-MX')).toBe(true);
    // What WebKitGTK may report under LANG=C or C.UTF-8.
    expect(localeUsable('c')).toBe(false);
    expect(localeUsable('C.UTF-8')).toBe(false);
    expect(localeUsable('en_US.UTF-8')).toBe(false);
  });
});
