import { afterEach, describe, expect, it } from 'vitest';
import {
  absoluteTime,
  activityLabel,
  channelLabel,
  dayLabel,
  dispositionLabel,
  fileSize,
  initials,
  messageTime,
  relativeTime,
  shortTime,
  snippetParts,
  taskStateLabel,
  wholeNumber,
} from './format';
import { setLocale } from './i18n';

afterEach(() => setLocale('en'));

describe('relativeTime', () => {
  const now = new Date(2025, 5, 15, 14, 0, 0); // 15 Jun 2025 14:00 local
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;

  const cases: [string, string, string][] = [
    ['seconds ago', ago(20_000), 'now'],
    ['in the future (clock skew)', ago(-30_000), 'now'],
    ['minutes', ago(5 * MIN), '5m'],
    ['59 minutes', ago(59 * MIN + 59_000), '59m'],
    ['hours today', ago(3 * HOUR), '3h'],
    ['late last night is hours, not yesterday', new Date(2025, 5, 15, 0, 0, 0).toISOString(), '14h'],
    ['yesterday', new Date(2025, 5, 14, 8, 0, 0).toISOString(), 'yesterday'],
    ['days', ago(4 * DAY), '4d'],
    ['a week or more shows the date', new Date(2025, 5, 1, 9, 0).toISOString(), 'Jun 1'],
    ['another year shows the year', new Date(2024, 11, 24, 9, 0).toISOString(), 'Dec 24, 2024'],
    ['invalid', 'not a date', ''],
    ['empty', '', ''],
  ];
  for (const [name, iso, want] of cases) {
    it(name, () => expect(relativeTime(iso, now, 'en-US')).toBe(want));
  }

  it('uses the UI language', () => {
    setLocale('es');
    expect(relativeTime(ago(5 * MIN), now, 'es')).toBe('5 min');
    expect(relativeTime(new Date(2025, 5, 14, 8, 0).toISOString(), now, 'es')).toBe('ayer');
  });
});

describe('labels', () => {
  it('gives readable channel names and passes unknown ones through', () => {
    expect(channelLabel('whatsapp')).toBe('WhatsApp');
    expect(channelLabel('line')).toBe('LINE');
    expect(channelLabel('webchat')).toBe('Web chat');
    expect(channelLabel('sms.twilio')).toBe('SMS');
    expect(channelLabel('whatsapp.cloud')).toBe('WhatsApp');
    expect(channelLabel('custom.acme')).toBe('custom.acme');
  });

  it('formats sizes and initials', () => {
    expect(fileSize(512)).toBe('512 B');
    expect(fileSize(2048)).toBe('2 KB');
    expect(fileSize(3 * 1024 * 1024)).toBe('3.0 MB');
    expect(fileSize(0)).toBe('');
    expect(initials('Ana María López')).toBe('AL');
    expect(initials('  ')).toBe('?');
  });
});

describe('snippetParts', () => {
  const cases: [string, string, { text: string; match: boolean }[]][] = [
    ['one match', 'my [order] is late', [
      { text: 'my ', match: false },
      { text: 'order', match: true },
      { text: ' is late', match: false },
    ]],
    ['two matches and an ellipsis', '…[order] [late]', [
      { text: '…', match: false },
      { text: 'order', match: true },
      { text: ' ', match: false },
      { text: 'late', match: true },
    ]],
    ['adjacent matches merge', '[a][b]c', [
      { text: 'ab', match: true },
      { text: 'c', match: false },
    ]],
    ['no match', 'plain', [{ text: 'plain', match: false }]],
    ['an unclosed bracket is text', 'x [y', [{ text: 'x [y', match: false }]],
    ['empty', '', []],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => expect(snippetParts(input)).toEqual(want));
  }
});

describe('taskStateLabel', () => {
  it('names task states and passes unknown ones through', () => {
    expect(taskStateLabel('wrapping')).toBe('Wrap-up');
    setLocale('es');
    expect(taskStateLabel('assigned')).toBe('Asignada');
    expect(taskStateLabel('weird')).toBe('weird');
  });
});

describe('times people see', () => {
  const now = new Date(2025, 5, 15, 14, 0, 0);
  it('uses the platform’s time when it is earlier than the engine’s', () => {
    expect(messageTime({ createdAt: '2025-06-15T12:00:00Z', platformAt: '2025-06-15T09:00:00Z' })).toBe('2025-06-15T09:00:00Z');
    expect(messageTime({ createdAt: '2025-06-15T12:00:00Z', platformAt: '2025-06-15T13:00:00Z' })).toBe('2025-06-15T12:00:00Z');
    expect(messageTime({ createdAt: '2025-06-15T12:00:00Z' })).toBe('2025-06-15T12:00:00Z');
  });
  it('is relative within the hour, a time of day after, absolute on hover', () => {
    expect(shortTime(new Date(2025, 5, 15, 13, 55).toISOString(), now, 'en-US')).toBe('5m');
    expect(shortTime(new Date(2025, 5, 15, 11, 0).toISOString(), now, 'en-US')).toBe('11:00 AM');
    expect(absoluteTime(new Date(2025, 5, 15, 11, 0).toISOString(), 'en-US')).toBe('Sunday, June 15, 2025 at 11:00 AM');
  });
  it('names days', () => {
    expect(dayLabel(new Date(2025, 5, 15, 8).toISOString(), now, 'en-US')).toBe('Today');
    expect(dayLabel(new Date(2025, 5, 14, 8).toISOString(), now, 'en-US')).toBe('Yesterday');
    expect(dayLabel(new Date(2025, 5, 10, 8).toISOString(), now, 'en-US')).toBe('Tuesday, June 10');
    expect(dayLabel(new Date(2024, 5, 10, 8).toISOString(), now, 'en-US')).toBe('Monday, June 10, 2024');
    setLocale('es');
    expect(dayLabel(new Date(2025, 5, 14, 8).toISOString(), now, 'es')).toBe('Ayer');
    expect(dayLabel(new Date(2025, 5, 10, 8).toISOString(), now, 'es')).toBe('martes, 10 de junio');
  });
});

describe('activities and outcomes', () => {
  it('are translated, custom names kept', () => {
    expect(activityLabel('Break')).toBe('Break');
    expect(dispositionLabel('needs_follow_up')).toBe('Needs a follow-up');
    expect(dispositionLabel('Custom outcome')).toBe('Custom outcome');
    setLocale('es');
    expect(activityLabel('Break')).toBe('Descanso');
    expect(activityLabel('Training')).toBe('Training');
    expect(dispositionLabel('spam')).toBe('Spam');
  });
});

describe('wholeNumber', () => {
  it('reads counts and seconds from a form, refusing what is not a whole number of 0 or more', () => {
    expect(wholeNumber('')).toBe(0);
    expect(wholeNumber(' 45 ')).toBe(45);
    expect(wholeNumber('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'ten', '1e3', '12 s', '9999999999']) expect(wholeNumber(bad)).toBeNull();
  });
});
