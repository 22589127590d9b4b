import { describe, expect, it } from 'vitest';
import { lastInboundAt, timelineOf, timelineRows } from './timeline';
import type { Message, TimelineItem } from './bridge';
import { seedConversations } from '../test/fakeBackend';

function item(id: string, channel: string, over: Partial<TimelineItem> = {}): TimelineItem {
  return {
    id,
    conversationId: `conv-${channel}`,
    direction: 'in',
    authorName: '',
    text: id,
    status: 'received',
    createdAt: '2025-06-15T10:00:00Z',
    attachments: [],
    channel,
    ...over,
  };
}

describe('timelineRows', () => {
  it('puts a divider where the platform changes, not before the first message', () => {
    const rows = timelineRows([
      item('a', 'sms.twilio'),
      item('b', 'sms.twilio'),
      item('c', 'whatsapp.cloud'),
      item('d', 'whatsapp.cloud'),
      item('e', 'voice'),
      item('f', 'sms.twilio'),
    ]);
    expect(rows.map((r) => (r.kind === 'divider' ? `|${r.channel}` : r.kind === 'day' ? '#' : r.item.id))).toEqual([
      '#',
      'a',
      'b',
      '|whatsapp.cloud',
      'c',
      'd',
      '|voice',
      'e',
      '|sms.twilio',
      'f',
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('treats two connectors of one platform as one channel', () => {
    const rows = timelineRows([item('a', 'sms.twilio'), item('b', 'sms.vonage')]);
    expect(rows.filter((r) => r.kind === 'divider')).toEqual([]);
  });

  it('is empty for no messages', () => expect(timelineRows([])).toEqual([]));

  it('starts every day with a separator, by the platform’s own time', () => {
    const local = (d: number, h: number) => new Date(2025, 5, d, h, 0).toISOString();
    const rows = timelineRows([
      item('a', 'sms.twilio', { createdAt: local(16, 9), platformAt: local(14, 23) }), // written on the 14th, stored later
      item('b', 'sms.twilio', { createdAt: local(15, 8) }),
      item('c', 'sms.twilio', { createdAt: local(15, 18) }),
      item('d', 'sms.twilio', { createdAt: local(16, 7) }),
    ]);
    expect(rows.map((r) => (r.kind === 'day' ? `#${r.day}` : r.kind === 'item' ? r.item.id : '|'))).toEqual([
      '#2025-6-14',
      'a',
      '#2025-6-15',
      'b',
      'c',
      '#2025-6-16',
      'd',
    ]);
  });
});

describe('timelineOf', () => {
  it('falls back to the conversation’s own messages on its channel', () => {
    const d = seedConversations()[1];
    const items = timelineOf(d);
    expect(items.map((m) => [m.id, m.channel])).toEqual([
      ['c2-m0', 'sms.twilio'],
      ['c2-m1', 'sms.twilio'],
    ]);
  });

  it('uses the timeline when the app sent one', () => {
    const d = seedConversations()[0];
    d.timeline = [item('x', 'sms.twilio')];
    expect(timelineOf(d).map((m) => m.id)).toEqual(['x']);
  });
});

describe('lastInboundAt', () => {
  const msgs: Message[] = [
    item('1', 'sms', { conversationId: 'A', createdAt: '2025-06-10T10:00:00Z' }),
    item('2', 'sms', { conversationId: 'A', createdAt: '2025-06-12T10:00:00Z' }),
    item('3', 'sms', { conversationId: 'A', createdAt: '2025-06-13T10:00:00Z', direction: 'out' }),
    item('4', 'sms', { conversationId: 'B', createdAt: '2025-06-14T10:00:00Z' }),
    item('5', 'sms', { conversationId: 'A', createdAt: '2025-06-14T11:00:00Z', private: true }),
  ];
  it('takes the newest inbound message of that conversation', () => {
    expect(lastInboundAt(msgs, 'A')).toBe('2025-06-12T10:00:00Z');
    expect(lastInboundAt(msgs, 'B')).toBe('2025-06-14T10:00:00Z');
    expect(lastInboundAt(msgs, 'C')).toBeNull();
  });
});
