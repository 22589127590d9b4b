// What the flow editor shows about each widget type: a one-line summary on the canvas.
import type { FlowWidget } from './flowgraph';

/** summary is a short description of what a widget does, from its properties. */
export function summary(w: FlowWidget): string {
  const p = (w.properties ?? {}) as Record<string, unknown>;
  switch (w.type) {
    case 'send-message':
    case 'send-and-wait-for-reply':
      return String(p.body ?? '');
    case 'split': {
      const cases = (p.cases as { event?: string; op?: string; value?: string; values?: string[] }[] | undefined) ?? [];
      return cases.map((c) => `${c.event}: ${c.op} ${c.values?.join(', ') ?? c.value ?? ''}`.trim()).join(' · ');
    }
    case 'business-hours': {
      const hours = (p.hours as { days?: string[]; open?: string; close?: string }[] | undefined) ?? [];
      return `${p.timeZone ?? ''} ${hours.map((h) => `${(h.days ?? []).join(',')} ${h.open}–${h.close}`).join('; ')}`.trim();
    }
    case 'make-http-request':
      return `${p.method ?? 'GET'} ${p.url ?? ''}`;
    case 'send-to-agent':
      return Object.entries((p.attributes as Record<string, unknown>) ?? {})
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
    case 'set-variables':
      return ((p.variables as { key: string }[] | undefined) ?? []).map((v) => v.key).join(', ');
  }
  return '';
}
