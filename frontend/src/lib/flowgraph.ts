// The visual flow editor's model: a flow's widgets as canvas nodes, its transitions as edges,
// and back. Pure functions, so they are unit-tested without a canvas.

export interface FlowPosition {
  x: number;
  y: number;
}

export interface FlowWidget {
  name: string;
  type: string;
  transitions?: Record<string, string>;
  properties?: Record<string, unknown>;
  position?: FlowPosition;
}

export interface FlowDef {
  name: string;
  description?: string;
  start?: string;
  widgets: FlowWidget[];
  [k: string]: unknown;
}

/** The widget types the palette offers, in palette order. */
export const widgetTypes = [
  'send-message',
  'send-and-wait-for-reply',
  'split',
  'business-hours',
  'set-variables',
  'make-http-request',
  'faq-bot',
  'send-to-agent',
  'end',
] as const;

const fixedEvents: Record<string, string[]> = {
  trigger: ['incomingMessage', 'incomingCall', 'incomingRequest'],
  'send-message': ['sent', 'failed'],
  'send-and-wait-for-reply': ['incomingMessage', 'timeout', 'failed'],
  'set-variables': ['next'],
  'make-http-request': ['success', 'failed', 'timeout'],
  'faq-bot': ['answered', 'noMatch', 'handover'],
  'send-to-agent': ['failed'],
  'business-hours': ['open', 'closed'],
  end: [],
};

/** eventsOf lists the transitions a widget can take (a split's come from its cases). */
export function eventsOf(w: FlowWidget): string[] {
  if (w.type === 'split') {
    const cases = (w.properties?.cases as { event?: string }[] | undefined) ?? [];
    return [...cases.map((c) => c.event ?? '').filter(Boolean), 'noMatch'];
  }
  return fixedEvents[w.type] ?? Object.keys(w.transitions ?? {});
}

/** defaultProperties are what a widget dropped from the palette starts with. */
export function defaultProperties(type: string): Record<string, unknown> | undefined {
  switch (type) {
    case 'send-message':
      return { body: 'Hello! How can we help?' };
    case 'send-and-wait-for-reply':
      return { body: 'What can we do for you?', timeout: 3600 };
    case 'split':
      return { input: '{{trigger.message.body}}', cases: [{ event: 'match', op: 'containsAny', values: ['agent'] }] };
    case 'business-hours':
      return {
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
        hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], open: '09:00', close: '17:00' }],
      };
    case 'set-variables':
      return { variables: [{ key: 'topic', value: '{{trigger.message.body}}' }] };
    case 'make-http-request':
      return { method: 'POST', url: 'https://example.com/bot', body: '{"text": {{trigger.message.body | to_json}}}', contentType: 'application/json' };
    case 'send-to-agent':
      return { channel: 'chat', attributes: {} };
    case 'faq-bot':
      return { entries: [{ patterns: ['opening hours'], answer: 'We are open 9:00 to 17:00.' }], fallback: 'Sorry, I did not get that.' };
  }
  return undefined;
}

/** uniqueName makes a widget name from its type that no widget of the flow has. */
export function uniqueName(flow: FlowDef, type: string): string {
  const base = type.replace(/[^A-Za-z0-9_-]+/g, '_');
  const taken = new Set(flow.widgets.map((w) => w.name));
  for (let i = 1; ; i++) {
    const n = `${base}_${i}`;
    if (!taken.has(n)) return n;
  }
}

/** startOf names the widget a flow starts at. */
export function startOf(flow: FlowDef): string {
  return flow.start || 'trigger';
}

/** layout gives every widget without a position one, in columns by distance from the start. */
export function layout(flow: FlowDef): FlowDef {
  const byName = new Map(flow.widgets.map((w) => [w.name, w]));
  const depth = new Map<string, number>();
  const queue = [startOf(flow)];
  depth.set(startOf(flow), 0);
  while (queue.length) {
    const n = queue.shift()!;
    for (const next of Object.values(byName.get(n)?.transitions ?? {})) {
      if (next && byName.has(next) && !depth.has(next)) {
        depth.set(next, depth.get(n)! + 1);
        queue.push(next);
      }
    }
  }
  const rows = new Map<number, number>();
  const widgets = flow.widgets.map((w) => {
    if (w.position) return w;
    const d = depth.get(w.name) ?? (depth.size ? Math.max(...depth.values()) + 1 : 0);
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    return { ...w, position: { x: d * 280, y: row * 150 } };
  });
  return { ...flow, widgets };
}

export interface WidgetNodeData extends Record<string, unknown> {
  widget: FlowWidget;
  events: string[];
  start: boolean;
  problems: string[];
  onPath: boolean;
}

export interface GraphNode {
  id: string;
  type: 'widget';
  position: FlowPosition;
  data: WidgetNodeData;
  selected?: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  label: string;
  animated?: boolean;
  class?: string;
}

/** toGraph turns a flow into canvas nodes and edges; path names the widgets a dry run went through. */
export function toGraph(
  flow: FlowDef,
  problems: Record<string, string[]> = {},
  path: { widgets: string[]; edges: string[] } = { widgets: [], edges: [] },
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const laid = layout(flow);
  const start = startOf(flow);
  const nodes: GraphNode[] = laid.widgets.map((w) => ({
    id: w.name,
    type: 'widget',
    position: { x: w.position!.x, y: w.position!.y },
    data: { widget: w, events: eventsOf(w), start: w.name === start, problems: problems[w.name] ?? [], onPath: path.widgets.includes(w.name) },
  }));
  const edges: GraphEdge[] = [];
  for (const w of laid.widgets) {
    for (const [event, target] of Object.entries(w.transitions ?? {})) {
      if (!target) continue;
      const id = edgeId(w.name, event);
      const on = path.edges.includes(id);
      edges.push({ id, source: w.name, sourceHandle: event, target, label: event, animated: on, class: on ? 'on-path' : undefined });
    }
  }
  return { nodes, edges };
}

/** edgeId names the edge of one widget's transition. */
export function edgeId(source: string, event: string): string {
  return `${source}:${event}`;
}

/** connect returns the flow with widget source's event leading to target (replacing what it led to). */
export function connect(flow: FlowDef, source: string, event: string, target: string): FlowDef {
  return {
    ...flow,
    widgets: flow.widgets.map((w) => (w.name === source ? { ...w, transitions: { ...(w.transitions ?? {}), [event]: target } } : w)),
  };
}

/** disconnect removes a transition. */
export function disconnect(flow: FlowDef, source: string, event: string): FlowDef {
  return {
    ...flow,
    widgets: flow.widgets.map((w) => {
      if (w.name !== source || !w.transitions) return w;
      const transitions = { ...w.transitions };
      delete transitions[event];
      return { ...w, transitions };
    }),
  };
}

/** removeWidget deletes a widget and every transition into it (never the start widget). */
export function removeWidget(flow: FlowDef, name: string): FlowDef {
  if (name === startOf(flow)) return flow;
  return {
    ...flow,
    widgets: flow.widgets
      .filter((w) => w.name !== name)
      .map((w) => {
        if (!w.transitions) return w;
        const transitions = Object.fromEntries(Object.entries(w.transitions).filter(([, to]) => to !== name));
        return { ...w, transitions };
      }),
  };
}

/** renameWidget renames a widget and every transition into it. */
export function renameWidget(flow: FlowDef, from: string, to: string): FlowDef {
  const ren = (n: string) => (n === from ? to : n);
  return {
    ...flow,
    start: flow.start ? ren(flow.start) : flow.start,
    widgets: flow.widgets.map((w) => ({
      ...w,
      name: ren(w.name),
      transitions: w.transitions ? Object.fromEntries(Object.entries(w.transitions).map(([e, t]) => [e, ren(t)])) : w.transitions,
    })),
  };
}

/** updateWidget replaces one widget (found by its current name). */
export function updateWidget(flow: FlowDef, name: string, next: FlowWidget): FlowDef {
  return { ...flow, widgets: flow.widgets.map((w) => (w.name === name ? next : w)) };
}

/** moveWidgets records the canvas positions of nodes in the flow. */
export function moveWidgets(flow: FlowDef, positions: Record<string, FlowPosition>): FlowDef {
  return {
    ...flow,
    widgets: flow.widgets.map((w) =>
      positions[w.name] ? { ...w, position: { x: Math.round(positions[w.name].x), y: Math.round(positions[w.name].y) } } : w,
    ),
  };
}

/**
 * problemsByWidget splits the engine's "The flow is invalid: widget "a": …; widget "b": …; …." sentence into
 * problems per widget; problems of the whole flow go under "".
 */
export function problemsByWidget(message: string): Record<string, string[]> {
  const body = message.replace(/^The flow is invalid:\s*/, '').replace(/\.$/, '');
  const out: Record<string, string[]> = {};
  for (const part of body.split(/;\s+(?=widget ")/)) {
    const m = /^widget "([^"]+)":\s*([\s\S]*)$/.exec(part.trim());
    const [name, text] = m ? [m[1], m[2]] : ['', part.trim()];
    if (!text) continue;
    (out[name] ??= []).push(text);
  }
  return out;
}

export interface TraceStep {
  widget: string;
  type?: string;
  event?: string;
  status?: string;
}

/** pathOf is the widgets and edges a dry run's steps went through. */
export function pathOf(steps: TraceStep[]): { widgets: string[]; edges: string[] } {
  const widgets: string[] = [];
  const edges: string[] = [];
  for (const s of steps) {
    if (!widgets.includes(s.widget)) widgets.push(s.widget);
    if (s.event) edges.push(edgeId(s.widget, s.event));
  }
  return { widgets, edges };
}

/** History keeps snapshots of the flow for undo and redo. */
export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  constructor(private limit = 100) {}

  /** push records the state before a change. */
  push(before: T): void {
    this.past.push(before);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  /** undo returns the state to go back to, given the current one (null when there is none). */
  undo(current: T): T | null {
    const prev = this.past.pop();
    if (prev === undefined) return null;
    this.future.push(current);
    return prev;
  }

  /** redo returns the state undone last (null when there is none). */
  redo(current: T): T | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(current);
    return next;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }
}
