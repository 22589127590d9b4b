// What the supervisor's screen computes from live views: the last hour's history for the chart,
// waits that keep ticking between views, load against capacity, and report ranges.
import type { AgentLive, LiveView, QueueHistory, QueueLive } from './bridge';

/** HOUR is how far back the chart looks, in seconds. */
export const HOUR = 3600;

export interface Point {
  /** Unix seconds (uPlot's time unit). */
  t: number;
  /** Tasks not yet answered: waiting or offered. */
  waiting: number;
  /** Today's SLA share in percent, or null before any task left the queue. */
  sla: number | null;
}

/** seconds reads a time from the engine (RFC 3339, nanoseconds and all) as Unix seconds. */
export function seconds(iso: string): number {
  // Some engines' Date.parse refuse more than three digits of a second.
  return Date.parse(iso.replace(/(\.\d{3})\d+/, '$1')) / 1000;
}

/** unanswered counts a queue's tasks waiting or offered, as the engine's past samples do. */
export function unanswered(q: QueueLive): number {
  return (q.tasks?.pending ?? 0) + (q.tasks?.reserved ?? 0);
}

/** History keeps, per queue, the last hour: the engine's samples, then one point per live view. */
export class History {
  private points = new Map<string, Point[]>();

  /** seed puts the engine's samples of the past hour before the points live views added. */
  seed(h: QueueHistory): void {
    for (const [id, samples] of Object.entries(h.queues ?? {})) {
      const list = this.points.get(id) ?? [];
      const first = list.length ? list[0].t : Infinity;
      const past = (samples ?? [])
        .map((s) => ({ t: seconds(s.at), waiting: s.unanswered, sla: s.slaPercent }))
        .filter((p) => p.t < first);
      this.points.set(id, trim([...past, ...list]));
    }
  }

  add(view: LiveView): void {
    const t = seconds(view.at);
    if (Number.isNaN(t)) return;
    for (const q of view.queues) {
      const list = this.points.get(q.queueId) ?? [];
      const left = q.today.answered + q.today.abandoned;
      const p = { t, waiting: unanswered(q), sla: left > 0 ? q.today.slaPercent : null };
      if (list.length && list[list.length - 1].t >= t) list[list.length - 1] = p;
      else list.push(p);
      this.points.set(q.queueId, trim(list));
    }
  }

  /** series returns uPlot's columns: times, unanswered tasks and SLA share. */
  series(queueId: string): [number[], (number | null)[], (number | null)[]] {
    const list = this.points.get(queueId) ?? [];
    return [list.map((p) => p.t), list.map((p) => p.waiting), list.map((p) => p.sla)];
  }
}

/** trim drops the points more than an hour older than the newest. */
function trim(list: Point[]): Point[] {
  const newest = list.length ? list[list.length - 1].t : 0;
  while (list.length && list[0].t < newest - HOUR) list.shift();
  return list;
}

/** hhmm labels a time axis in seconds with the local time of day, 24-hour clock. */
export function hhmm(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
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
