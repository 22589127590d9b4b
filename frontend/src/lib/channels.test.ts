import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_LIMITS, channelLimits, limitWarnings, textLength, warningText, type LimitWarning } from './channels';
import { setLocale } from './i18n';

afterEach(() => setLocale('en'));

const now = new Date('2025-06-15T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();

describe('channelLimits', () => {
  it('has the static table by platform', () => {
    expect(
      Object.fromEntries(Object.entries(CHANNEL_LIMITS).map(([k, v]) => [k, v.maxLength ?? null])),
    ).toEqual({
      sms: 1600,
      whatsapp: 4096,
      messenger: 2000,
      instagram: 1000,
      line: 5000,
      telegram: 4096,
      discord: 2000,
      webchat: 5000,
      email: null,
    });
  });

  it('looks a connector id up by its platform', () => {
    expect(channelLimits('whatsapp.cloud')).toEqual({ maxLength: 4096, window: 'template' });
    expect(channelLimits('whatsapp.twilio')).toEqual({ maxLength: 4096, window: 'template' });
    expect(channelLimits('sms.twilio').maxLength).toBe(1600);
    expect(channelLimits('carrier-pigeon')).toEqual({});
  });
});

describe('textLength', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(textLength('hello')).toBe(5);
    expect(textLength('👋🏽')).toBe(2);
    expect(textLength('')).toBe(0);
  });
});

describe('limitWarnings', () => {
  const cases: {
    name: string;
    channel: string;
    text?: string;
    last?: string | null;
    want: LimitWarning[];
  }[] = [
    { name: 'sms within the limit', channel: 'sms.twilio', text: 'x'.repeat(1600), want: [] },
    {
      name: 'sms over the limit',
      channel: 'sms.twilio',
      text: 'x'.repeat(1601),
      want: [{ kind: 'length', channel: 'sms.twilio', length: 1601, max: 1600 }],
    },
    {
      name: 'instagram over 1000',
      channel: 'instagram',
      text: 'y'.repeat(1200),
      last: hoursAgo(1),
      want: [{ kind: 'length', channel: 'instagram', length: 1200, max: 1000 }],
    },
    { name: 'email has no limit', channel: 'email.smtp', text: 'z'.repeat(100_000), want: [] },
    { name: 'unknown channel has no limit', channel: 'custom.acme', text: 'z'.repeat(100_000), want: [] },
    { name: 'whatsapp inside 24 hours', channel: 'whatsapp.cloud', last: hoursAgo(23.9), want: [] },
    {
      name: 'whatsapp at 24 hours',
      channel: 'whatsapp.cloud',
      last: hoursAgo(24),
      want: [{ kind: 'template', channel: 'whatsapp.cloud', hours: 24 }],
    },
    {
      name: 'whatsapp.twilio after 30 hours',
      channel: 'whatsapp.twilio',
      last: hoursAgo(30.5),
      want: [{ kind: 'template', channel: 'whatsapp.twilio', hours: 30 }],
    },
    {
      name: 'whatsapp with no inbound message',
      channel: 'whatsapp.cloud',
      last: null,
      want: [{ kind: 'no_inbound', channel: 'whatsapp.cloud' }],
    },
    {
      name: 'messenger after 2 days: HUMAN_AGENT',
      channel: 'messenger',
      last: hoursAgo(50),
      want: [{ kind: 'human_agent', channel: 'messenger', hours: 50 }],
    },
    {
      name: 'messenger after 8 days: closed',
      channel: 'messenger',
      last: hoursAgo(8 * 24 + 1),
      want: [{ kind: 'closed', channel: 'messenger', days: 8 }],
    },
    {
      name: 'instagram after 25 hours',
      channel: 'instagram',
      last: hoursAgo(25),
      want: [{ kind: 'human_agent', channel: 'instagram', hours: 25 }],
    },
    {
      name: 'both length and window',
      channel: 'whatsapp.cloud',
      text: 'w'.repeat(5000),
      last: hoursAgo(48),
      want: [
        { kind: 'length', channel: 'whatsapp.cloud', length: 5000, max: 4096 },
        { kind: 'template', channel: 'whatsapp.cloud', hours: 48 },
      ],
    },
    { name: 'sms has no window', channel: 'sms.twilio', text: 'hi', last: hoursAgo(500), want: [] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(limitWarnings({ channel: tc.channel, text: tc.text ?? 'hi', lastInboundAt: tc.last ?? null, now })).toEqual(tc.want);
    });
  }
});

describe('warningText', () => {
  it('says why in a sentence', () => {
    expect(warningText({ kind: 'template', channel: 'whatsapp.cloud', hours: 30 })).toBe(
      'The customer last wrote 30 hours ago, so WhatsApp only allows template messages.',
    );
    expect(warningText({ kind: 'human_agent', channel: 'messenger', hours: 30 })).toContain('HUMAN_AGENT');
    expect(warningText({ kind: 'human_agent', channel: 'messenger', hours: 30 })).toContain('7 days');
    expect(warningText({ kind: 'length', channel: 'sms.twilio', length: 1700, max: 1600 })).toBe(
      'This reply has 1700 characters; SMS allows at most 1600. Remove 100 before sending.',
    );
  });

  it('speaks Spanish', () => {
    setLocale('es');
    expect(warningText({ kind: 'template', channel: 'whatsapp.cloud', hours: 30 })).toBe(
      'El cliente escribió por última vez hace 30 horas, así que WhatsApp solo admite mensajes de plantilla.',
    );
  });
});
