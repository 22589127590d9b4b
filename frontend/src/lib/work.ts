// Clocks of the agent's work: the wrap-up timer and how long a task has waited in its queue.
import type { ConversationSummary, Task } from './bridge';
import { waitedFor } from './format';

/** DEFAULT_SLA_SECONDS is a queue's answer-time target when it sets none (the engine's DefaultSLA). */
export const DEFAULT_SLA_SECONDS = 20;

/** mmss formats a duration in milliseconds as "m:ss" (negative counts as 0). */
export function mmss(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** WrapUpClock is what the wrap-up timer shows. */
export interface WrapUpClock {
  /** "m:ss": time left when the workflow limits wrap-up, else time spent. */
  text: string;
  /** Whether text is time left (the workflow sets a limit). */
  left: boolean;
  /** The limit has passed (the engine completes the task on its own). */
  over: boolean;
}

/** wrapUpClock reads a wrapping task's timer at now (milliseconds since the epoch); null without a start. */
export function wrapUpClock(task: Pick<Task, 'wrapUpAt' | 'wrapUpEndsAt'>, now: number): WrapUpClock | null {
  const end = task.wrapUpEndsAt ? new Date(task.wrapUpEndsAt).getTime() : NaN;
  if (!Number.isNaN(end)) return { text: mmss(end - now), left: true, over: now >= end };
  const start = task.wrapUpAt ? new Date(task.wrapUpAt).getTime() : NaN;
  if (Number.isNaN(start)) return null;
  return { text: mmss(now - start), left: false, over: false };
}

/** Waiting says how long a conversation's task has waited, and whether past its queue's target. */
export interface Waiting {
  text: string;
  overdue: boolean;
  slaSeconds: number;
}

/** waiting reads a waiting (pending or offered) task's wait at now; null for other tasks. */
export function waiting(c: ConversationSummary, now: Date): Waiting | null {
  if ((c.taskState !== 'pending' && c.taskState !== 'reserved') || !c.taskCreatedAt) return null;
  const since = new Date(c.taskCreatedAt).getTime();
  if (Number.isNaN(since)) return null;
  const sla = c.queueSlaSeconds && c.queueSlaSeconds > 0 ? c.queueSlaSeconds : DEFAULT_SLA_SECONDS;
  return { text: waitedFor(c.taskCreatedAt, now), overdue: now.getTime() - since > sla * 1000, slaSeconds: sla };
}
