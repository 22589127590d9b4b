// Helpers of the admin's flow editor: checking the JSON before Go sees it, and wording a dry run's trace.
import type { FlowTraceStep } from './bridge';
import { t } from './i18n';

export type ParsedFlow =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; message: string; offset: number | null };

/** lineColumn turns a 0-based offset into 1-based line and column. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * syntaxErrorOffset finds where JSON text first goes wrong (null when it is valid JSON).
 * Engines word JSON.parse errors differently and WebKit gives no position, so we find it ourselves.
 */
export function syntaxErrorOffset(s: string): number | null {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i])) i++;
  };
  const str = () => {
    i++;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') return void i++;
      if (c < ' ') fail();
      if (c !== '\\') {
        i++;
        continue;
      }
      const n = s[i + 1] ?? '';
      if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
      else if (n && '"\\/bfnrt'.includes(n)) i += 2;
      else {
        i++;
        fail();
      }
    }
    fail();
  };
  const list = (close: string, item: () => void) => {
    i++;
    ws();
    if (s[i] === close) return void i++;
    for (;;) {
      item();
      ws();
      if (s[i] === close) return void i++;
      if (s[i] !== ',') fail();
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      return list('}', () => {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
      });
    }
    if (c === '[') return list(']', value);
    if (c === '"') return str();
    for (const lit of ['true', 'false', 'null']) {
      if (s.startsWith(lit, i)) return void (i += lit.length);
    }
    const num = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    num.lastIndex = i;
    const m = num.exec(s);
    if (!m || !m[0] || m[0] === '-') fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return null;
  } catch (p) {
    if (typeof p === 'number') return Math.min(p, s.length);
    throw p;
  }
}

/** parseFlow checks the editor's text before it goes to Go: JSON, and an object. */
export function parseFlow(text: string): ParsedFlow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(detail);
    const offset = m ? Math.min(Number(m[1]), text.length) : syntaxErrorOffset(text) ?? text.length;
    const { line, column } = lineColumn(text, offset);
    return { ok: false, offset, message: t('flows.badJSON', { line, column, detail }) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, offset: null, message: t('flows.notObject') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** problemLines splits a rejection's message (one problem per line) into a list. */
export function problemLines(message: string): string[] {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export type OutcomeKind = 'next' | 'waiting' | 'agent' | 'ended' | 'failed';

/** outcome words where a step led: the next event, a wait, a handoff, the end or an error. */
export function outcome(step: FlowTraceStep): { kind: OutcomeKind; text: string } {
  if (step.status === 'failed' || step.error) {
    return { kind: 'failed', text: t('flows.failed', { error: step.error || t('error.generic') }) };
  }
  const via = step.event ? `${t('flows.event', { event: step.event })} · ` : '';
  if (step.status === 'waiting') return { kind: 'waiting', text: via + t('flows.waiting') };
  if (step.status === 'agent') return { kind: 'agent', text: via + t('flows.agent') };
  if (step.status === 'ended') return { kind: 'ended', text: via + t('flows.ended') };
  return { kind: 'next', text: t('flows.event', { event: step.event || '?' }) };
}
