// The softphone's calls as the call panel shows them: merging events, the
// timer, the ringing countdown and the quality line.
import type { CallEvent, CallInfo, CallQuality } from './bridge';

/** applyEvent returns the calls after a softphone event. */
export function applyEvent(calls: CallInfo[], ev: CallEvent): CallInfo[] {
  const rest = calls.filter((c) => c.id !== ev.call.id);
  if (ev.type === 'ended') return rest;
  if (ev.type === 'dtmf' || ev.type === 'error') {
    return calls.some((c) => c.id === ev.call.id) ? calls : rest;
  }
  const old = calls.find((c) => c.id === ev.call.id);
  const merged = old ? { ...old, ...ev.call } : ev.call;
  return [...rest, merged].sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
}

/** timer formats the time on a call as m:ss (h:mm:ss past an hour). */
export function timer(since: string | undefined, now: number): string {
  const start = since ? new Date(since).getTime() : NaN;
  if (Number.isNaN(start) || start <= 0) return '0:00';
  const s = Math.max(0, Math.floor((now - start) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** secondsLeft is how long a ringing offer has left, in whole seconds. */
export function secondsLeft(c: Pick<CallInfo, 'expiresAt'>, now: number): number {
  const end = c.expiresAt ? new Date(c.expiresAt).getTime() : NaN;
  return Number.isNaN(end) ? 0 : Math.max(0, Math.ceil((end - now) / 1000));
}

/** qualityLine summarizes the figures, such as "MOS 4.4 · 12 ms jitter · 0.0% loss · 40 ms RTT". */
export function qualityLine(q: CallQuality | undefined): string {
  if (!q || !q.mos) return '';
  return `MOS ${q.mos.toFixed(1)} · ${Math.round(q.jitterMs)} ms jitter · ${q.lossPercent.toFixed(1)}% loss · ${Math.round(q.rttMs)} ms RTT`;
}

/** callerName is who the call is with, as best known. */
export function callerName(c: CallInfo): string {
  if (c.direction === 'outbound') return c.to;
  return c.contactName && c.contactName !== c.from ? `${c.contactName} (${c.from})` : c.from;
}

/** DTMF keys of the dial pad, in its layout. */
export const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
