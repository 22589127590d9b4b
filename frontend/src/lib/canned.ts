// Canned responses: the "/" picker's matching and the placeholders filled in before inserting.
import type { CannedResponse } from './bridge';

/** CannedContext holds the values the placeholders stand for. */
export interface CannedContext {
  contactName: string;
  agentName: string;
}

function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? '';
}

/**
 * fillCanned replaces {{contact.name}}, {{contact.firstName}}, {{agent.name}} and
 * {{agent.firstName}} (spaces inside the braces allowed); unknown placeholders stay as written.
 */
export function fillCanned(text: string, ctx: CannedContext): string {
  const values: Record<string, string> = {
    'contact.name': ctx.contactName.trim(),
    'contact.firstName': firstName(ctx.contactName),
    'agent.name': ctx.agentName.trim(),
    'agent.firstName': firstName(ctx.agentName),
  };
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => (key in values ? values[key] : whole));
}

/**
 * cannedQuery returns what follows a "/" typed at the very start of the draft (the picker's
 * filter), or null when the draft does not open the picker.
 */
export function cannedQuery(draft: string): string | null {
  if (!draft.startsWith('/')) return null;
  const rest = draft.slice(1);
  if (rest.includes('\n')) return null;
  return rest;
}

function bare(shortcut: string): string {
  return shortcut.replace(/^\//, '').toLowerCase();
}

/**
 * matchCanned filters canned responses by the query: shortcuts starting with it first, then
 * shortcuts or titles containing it, then texts containing it. An empty query keeps them all.
 */
export function matchCanned(list: readonly CannedResponse[], query: string): CannedResponse[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...list];
  const rank = (c: CannedResponse): number => {
    const s = bare(c.shortcut);
    if (s.startsWith(q)) return 0;
    if (s.includes(q) || c.title.toLowerCase().includes(q)) return 1;
    if (c.text.toLowerCase().includes(q)) return 2;
    return -1;
  };
  return list
    .map((c, i) => ({ c, i, r: rank(c) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
}
