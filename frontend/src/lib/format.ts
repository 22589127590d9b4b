import { locale, t, tOr } from './i18n';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * relativeTime formats an RFC 3339 timestamp for the conversation list: "now", "5m", "3h",
 * "yesterday", "4d", then a short date. Invalid input gives "".
 */
export function relativeTime(iso: string, now: Date = new Date(), loc: string = locale()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const diff = now.getTime() - d.getTime();
  if (diff < MIN) return t('time.now');
  if (diff < HOUR) return t('time.minutes', { n: Math.floor(diff / MIN) });
  const days = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (days <= 0 || diff < 6 * HOUR) return t('time.hours', { n: Math.floor(diff / HOUR) });
  if (days === 1) return t('time.yesterday');
  if (days < 7) return t('time.days', { n: days });
  const opts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return new Intl.DateTimeFormat(loc, opts).format(d);
}

/** absoluteTime formats a timestamp in full, for hovering over a relative one ("Monday, June 15, 2025 at 2:05 PM"). */
export function absoluteTime(iso: string, loc: string = locale()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(loc, { dateStyle: 'full', timeStyle: 'short' }).format(d);
}

/** dayLabel names a timeline day: "Today", "Yesterday", else the weekday and date. */
export function dayLabel(iso: string, now: Date = new Date(), loc: string = locale()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const days = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (days === 0) return t('time.today');
  if (days === 1) return t('time.yesterday.title');
  const opts: Intl.DateTimeFormatOptions = { weekday: 'long', month: 'long', day: 'numeric' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return new Intl.DateTimeFormat(loc, opts).format(d);
}

/** dayKey is the local calendar day of a timestamp, for grouping ("2025-6-15"). */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * messageTime is when a message was written, as people see it: the platform's time when it
 * sent one (never later than the engine stored it), else the engine's. It matches Message.At
 * on the Go side.
 */
export function messageTime(m: { createdAt: string; platformAt?: string }): string {
  if (m.platformAt) {
    const p = new Date(m.platformAt).getTime();
    if (!Number.isNaN(p) && p < new Date(m.createdAt).getTime()) return m.platformAt;
  }
  return m.createdAt;
}

/** shortTime is a message's time in the timeline: relative within the hour, else the time of day. */
export function shortTime(iso: string, now: Date = new Date(), loc: string = locale()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  if (now.getTime() - d.getTime() < HOUR) return relativeTime(iso, now, loc);
  return new Intl.DateTimeFormat(loc, { hour: 'numeric', minute: '2-digit' }).format(d);
}

/** waitedFor says how long something has waited since iso, in minutes or hours ("4 min", "2 h"). */
export function waitedFor(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const min = Math.max(0, Math.floor((now.getTime() - d.getTime()) / MIN));
  if (min < 1) return t('wait.seconds');
  if (min < 60) return t('wait.minutes', { n: min });
  return t('wait.hours', { n: Math.floor(min / 60) });
}

/** activityLabel names a routing activity in the UI language; custom ones keep their name. */
export function activityLabel(name: string): string {
  return tOr(`activity.${name}`, name);
}

/** dispositionLabel names a wrap-up outcome code in the UI language; unknown codes keep theirs. */
export function dispositionLabel(code: string): string {
  return tOr(`disposition.${code}`, code);
}

/** clockTime formats a timestamp as a short time of day, with the date when it is not today. */
export function clockTime(iso: string, now: Date = new Date(), loc: string = locale()): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const sameDay = startOfDay(d) === startOfDay(now);
  const opts: Intl.DateTimeFormatOptions = sameDay
    ? { hour: 'numeric', minute: '2-digit' }
    : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };
  return new Intl.DateTimeFormat(loc, opts).format(d);
}

/** channelBase reduces a connector id such as "sms.twilio" to its platform, "sms". */
export function channelBase(channel: string): string {
  return (channel ?? '').split('.')[0];
}

/** channelLabel gives a readable name for a channel or connector id ("whatsapp", "sms.twilio"). */
export function channelLabel(channel: string): string {
  return tOr(`channel.${channelBase(channel)}`, channel);
}

/** statusLabel gives a readable name for a conversation status. */
export function statusLabel(status: string): string {
  return tOr(`status.${status}`, status);
}

/** fileSize formats a byte count as "12 KB". */
export function fileSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** initials returns up to two initials of a name, for avatars. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const first = parts[0][0] ?? '';
  const last = parts.length > 1 ? (parts[parts.length - 1][0] ?? '') : '';
  return (first + last).toUpperCase();
}

/** Channels the UI knows by name, in the order the channel filter lists them. */
export const CHANNELS = [
  'sms',
  'whatsapp',
  'messenger',
  'instagram',
  'line',
  'telegram',
  'discord',
  'email',
  'webchat',
  'voice',
] as const;

/** Conversation statuses the status filter offers. */
export const STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;

/** SnippetPart is a run of a search snippet, marked when it is the match. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

/**
 * snippetParts splits a search snippet whose matches sit between [ and ] into runs; the
 * brackets are dropped. An unclosed [ is kept as text.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const push = (text: string, match: boolean) => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last && last.match === match) last.text += text;
    else parts.push({ text, match });
  };
  let i = 0;
  while (i < snippet.length) {
    const open = snippet.indexOf('[', i);
    if (open < 0) break;
    const close = snippet.indexOf(']', open + 1);
    if (close < 0) break;
    push(snippet.slice(i, open), false);
    push(snippet.slice(open + 1, close), true);
    i = close + 1;
  }
  push(snippet.slice(i), false);
  return parts;
}

/** Task states as the inbox shows them. */
export function taskStateLabel(state: string): string {
  return tOr(`task.${state}`, state);
}

/** wholeNumber reads a form's count or seconds: "" is 0, digits their number, anything else null. */
export function wholeNumber(text: string): number | null {
  const s = text.trim();
  if (s === '') return 0;
  return /^\d{1,9}$/.test(s) ? Number(s) : null;
}
