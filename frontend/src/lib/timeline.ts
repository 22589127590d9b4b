// The contact's history across channels as one list, with a divider where the channel changes.
import type { ConversationDetail, Message, TimelineItem } from './bridge';
import { channelBase, dayKey, messageTime } from './format';

/**
 * TimelineRow is what the conversation view renders: a message, a divider naming the channel,
 * or a day separator (at is the first message's time that day).
 */
export type TimelineRow =
  | { kind: 'day'; key: string; day: string; at: string }
  | { kind: 'divider'; key: string; channel: string }
  | { kind: 'item'; key: string; item: TimelineItem };

/**
 * timelineOf returns the detail's timeline; when the app sent none (older app), the
 * conversation's own messages on its channel.
 */
export function timelineOf(d: ConversationDetail): TimelineItem[] {
  if (d.timeline && d.timeline.length > 0) return d.timeline;
  return (d.messages ?? []).map((m) => ({
    ...m,
    conversationId: m.conversationId || d.conversation.id,
    channel: d.conversation.channel,
  }));
}

/**
 * timelineRows puts a day separator before the first message of every calendar day (by the
 * message's own time), and a divider before every message whose platform differs from the
 * previous message's ("sms.twilio" then "whatsapp.cloud"), not before the first one.
 */
export function timelineRows(items: readonly TimelineItem[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let prev: string | null = null;
  let prevDay = '';
  for (const item of items) {
    const at = messageTime(item);
    const day = dayKey(at);
    if (day && day !== prevDay) {
      rows.push({ kind: 'day', key: `day-${day}-${item.id}`, day, at });
      prevDay = day;
    }
    const base = channelBase(item.channel);
    if (prev !== null && base !== prev) {
      rows.push({ kind: 'divider', key: `div-${item.id}`, channel: item.channel });
    }
    prev = base;
    rows.push({ kind: 'item', key: item.id, item });
  }
  return rows;
}

/** lastInboundAt is the createdAt of the newest customer message in one conversation, or null. */
export function lastInboundAt(messages: readonly Message[], conversationId: string): string | null {
  let best: string | null = null;
  let bestT = -Infinity;
  for (const m of messages) {
    if (m.conversationId !== conversationId || m.direction !== 'in' || m.private) continue;
    const at = new Date(m.createdAt).getTime();
    if (!Number.isNaN(at) && at > bestT) {
      bestT = at;
      best = m.createdAt;
    }
  }
  return best;
}
