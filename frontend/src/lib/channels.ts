// What each platform allows in a reply, so the composer warns before sending rather than
// the platform refusing after.
import { channelBase, channelLabel } from './format';
import { t } from './i18n';

/** ReplyWindow is a platform's rule for replying long after the customer's last message. */
export type ReplyWindow =
  /** WhatsApp: free-form replies only within 24 hours; after that only template messages. */
  | 'template'
  /** Messenger, Instagram: after 24 hours replies go out tagged HUMAN_AGENT, up to 7 days. */
  | 'human_agent';

/** ChannelLimits is what one platform allows in an agent's reply. */
export interface ChannelLimits {
  /** Longest text in characters (Unicode code points); undefined means no limit. */
  maxLength?: number;
  window?: ReplyWindow;
}

/** CHANNEL_LIMITS is the static table by platform (the part of the connector id before the dot). */
export const CHANNEL_LIMITS: Readonly<Record<string, ChannelLimits>> = {
  sms: { maxLength: 1600 },
  whatsapp: { maxLength: 4096, window: 'template' },
  messenger: { maxLength: 2000, window: 'human_agent' },
  instagram: { maxLength: 1000, window: 'human_agent' },
  line: { maxLength: 5000 },
  telegram: { maxLength: 4096 },
  discord: { maxLength: 2000 },
  webchat: { maxLength: 5000 },
  email: {},
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours after the customer's last message during which any reply is allowed. */
export const FREE_WINDOW_HOURS = 24;
/** Days after the customer's last message during which a HUMAN_AGENT reply is allowed. */
export const HUMAN_AGENT_DAYS = 7;

/** channelLimits returns the limits for a connector id such as "whatsapp.cloud"; unknown channels have none. */
export function channelLimits(channel: string): ChannelLimits {
  return CHANNEL_LIMITS[channelBase(channel)] ?? {};
}

/** textLength counts characters the way platforms do: Unicode code points, not UTF-16 units. */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** LimitWarning is one reason a reply may not go out as typed. */
export type LimitWarning =
  | { kind: 'length'; channel: string; length: number; max: number }
  | { kind: 'template'; channel: string; hours: number }
  | { kind: 'human_agent'; channel: string; hours: number }
  | { kind: 'closed'; channel: string; days: number }
  | { kind: 'no_inbound'; channel: string };

export interface LimitInput {
  /** Connector id of the conversation the reply goes out on. */
  channel: string;
  text: string;
  /** createdAt of the newest inbound message in that conversation; null or "" when there is none. */
  lastInboundAt?: string | null;
  now?: Date;
}

/**
 * limitWarnings lists what the reply breaks on its channel: a text longer than the platform
 * takes, and the 24-hour window of WhatsApp (template messages only) and Messenger/Instagram
 * (HUMAN_AGENT tag up to 7 days, then closed). The window warnings do not depend on the text.
 */
export function limitWarnings({ channel, text, lastInboundAt, now = new Date() }: LimitInput): LimitWarning[] {
  const limits = channelLimits(channel);
  const out: LimitWarning[] = [];
  if (limits.maxLength !== undefined) {
    const length = textLength(text);
    if (length > limits.maxLength) out.push({ kind: 'length', channel, length, max: limits.maxLength });
  }
  if (limits.window) {
    const last = lastInboundAt ? new Date(lastInboundAt).getTime() : NaN;
    if (Number.isNaN(last)) {
      out.push({ kind: 'no_inbound', channel });
    } else {
      const age = now.getTime() - last;
      const hours = Math.floor(age / HOUR);
      if (age >= FREE_WINDOW_HOURS * HOUR) {
        if (limits.window === 'template') out.push({ kind: 'template', channel, hours });
        else if (age < HUMAN_AGENT_DAYS * DAY) out.push({ kind: 'human_agent', channel, hours });
        else out.push({ kind: 'closed', channel, days: Math.floor(age / DAY) });
      }
    }
  }
  return out;
}

/** warningText is the sentence the composer shows for a warning. */
export function warningText(w: LimitWarning): string {
  const channel = channelLabel(w.channel);
  switch (w.kind) {
    case 'length':
      return t('limit.length', { length: w.length, max: w.max, channel, over: w.length - w.max });
    case 'template':
      return t('limit.template', { hours: w.hours, channel });
    case 'human_agent':
      return t('limit.humanAgent', { hours: w.hours, channel });
    case 'closed':
      return t('limit.closed', { days: w.days, channel });
    case 'no_inbound':
      return t(channelLimits(w.channel).window === 'template' ? 'limit.noInboundTemplate' : 'limit.noInbound', {
        channel,
      });
  }
}
