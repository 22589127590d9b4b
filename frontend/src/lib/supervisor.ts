// What the supervisor's screen computes from live views: the last hour's history for the chart,
// waits that keep ticking between views, load against capacity, and report ranges.
import type { AgentLive, LiveView, QueueLive } from './bridge';

/** HOUR is how far back the chart looks, in seconds. */
export const HOUR = 3600;

export interface Point {
  /** Unix seconds. */
  t: number;
  waiting: number;
  /** Today's SLA share in percent, or null before any task left the queue. */
  sla: number | null;
}

/** History keeps, per queue, one point per live view over the last hour. */
export class History {
  private points = new Map<string, Point[]>();

  add(view: LiveView): void {
    const t = Date.parse(view.at) / 1000;
    for (const q of view.queues) {
      const list = this.points.get(q.queueId) ?? [];
      const left = q.today.answered + q.today.abandoned;
      const p = { t, waiting: q.waiting, sla: left > 0 ? q.today.slaPercent : null };
      if (list.length && list[list.length - 1].t >= t) list[list.length - 1] = p;
      else list.push(p);
      while (list.length && list[0].t < t - HOUR) list.shift();
      this.points.set(q.queueId, list);
    }
  }

  /** series returns uPlot's columns: times, waiting tasks and SLA share. */
  series(queueId: string): [number[], (number | null)[], (number | null)[]] {
    const list = this.points.get(queueId) ?? [];
    return [list.map((p) => p.t), list.map((p) => p.waiting), list.map((p) => p.sla)];
  }
}

/** waitNow is a queue's longest wait at now, counting on from the view's time. */
export function waitNow(q: QueueLive, at: string, now: number): number {
  if (q.waiting === 0) return 0;
  return q.longestWaitSeconds + Math.max(0, (now - Date.parse(at)) / 1000);
}

/** alarmed reports whether a queue is past one of its thresholds. */
export function alarmed(q: QueueLive): boolean {
  return (q.alert?.length ?? 0) > 0;
}

/** clock formats seconds as m:ss, or h:mm:ss past an hour. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** since returns the seconds from an ISO time to now. */
export function since(iso: string, now: number): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, (now - t) / 1000);
}

/** loads lists an agent's channels with what they hold against their capacity, held ones first. */
export function loads(a: AgentLive): { channel: string; held: number; capacity: number }[] {
  return Object.keys(a.capacity)
    .map((channel) => ({ channel, held: a.load[channel] ?? 0, capacity: a.capacity[channel] }))
    .filter((l) => l.held > 0 || l.capacity > 0)
    .sort((x, y) => y.held - x.held || x.channel.localeCompare(y.channel));
}

/** day formats a date as YYYY-MM-DD in local time. */
export function day(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** lastDays returns the range of the n days ending today. */
export function lastDays(n: number, today = new Date()): { from: string; to: string } {
  const from = new Date(today);
  from.setDate(today.getDate() - (n - 1));
  return { from: day(from), to: day(today) };
}
