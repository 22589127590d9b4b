import { describe, expect, it } from 'vitest';
import {
  History, connect, disconnect, edgeId, eventsOf, pathOf, problemsByWidget, removeWidget, renameWidget, toGraph, type FlowDef,
} from './flowgraph';

const flow: FlowDef = {
  name: 'Support',
  widgets: [
    { name: 'trigger', type: 'trigger', transitions: { incomingMessage: 'hours' } },
    { name: 'hours', type: 'business-hours', transitions: { open: 'agent', closed: 'away' } },
    { name: 'agent', type: 'send-to-agent', transitions: { failed: 'away' } },
    { name: 'away', type: 'send-message', transitions: { sent: 'end', failed: 'end' }, properties: { body: 'Closed' } },
    { name: 'end', type: 'end' },
  ],
};

describe('the flow graph', () => {
  it('draws widgets as nodes and transitions as edges, laying out the unplaced', () => {
    const g = toGraph(flow, { away: ['a message body is required'] });
    expect(g.nodes.map((n) => n.id)).toEqual(['trigger', 'hours', 'agent', 'away', 'end']);
    expect(g.nodes[0].data.start).toBe(true);
    expect(g.nodes[3].data.problems).toEqual(['a message body is required']);
    expect(g.nodes[1].position.x).toBeGreaterThan(g.nodes[0].position.x);
    expect(g.edges.map((e) => e.id)).toContain('hours:closed');
    expect(g.edges.find((e) => e.id === 'hours:open')).toMatchObject({ source: 'hours', sourceHandle: 'open', target: 'agent' });
  });

  it('knows each widget type\'s events; a split\'s come from its cases', () => {
    expect(eventsOf({ name: 's', type: 'split', properties: { cases: [{ event: 'billing' }, { event: 'sales' }] } })).toEqual(['billing', 'sales', 'noMatch']);
    expect(eventsOf({ name: 'h', type: 'business-hours' })).toEqual(['open', 'closed']);
  });

  it('connects, disconnects, renames and removes without dangling transitions', () => {
    let f = connect(flow, 'trigger', 'incomingMessage', 'away');
    expect(f.widgets[0].transitions).toEqual({ incomingMessage: 'away' });
    f = disconnect(f, 'away', 'failed');
    expect(f.widgets[3].transitions).toEqual({ sent: 'end' });
    f = renameWidget(f, 'away', 'closed_reply');
    expect(f.widgets[0].transitions?.incomingMessage).toBe('closed_reply');
    f = removeWidget(f, 'closed_reply');
    expect(f.widgets.map((w) => w.name)).toEqual(['trigger', 'hours', 'agent', 'end']);
    expect(f.widgets[0].transitions).toEqual({});
    expect(removeWidget(f, 'trigger')).toBe(f);
    expect(flow.widgets[0].transitions).toEqual({ incomingMessage: 'hours' }); // the original is untouched
  });

  it('reads the engine\'s validation sentence per widget', () => {
    expect(problemsByWidget('The flow is invalid: widget "away": a message body is required; widget "x": no transition leads here (unreachable); the flow needs a trigger.'))
      .toEqual({ away: ['a message body is required'], x: ['no transition leads here (unreachable); the flow needs a trigger'] });
    expect(problemsByWidget('The flow is invalid: the flow has no widgets.')).toEqual({ '': ['the flow has no widgets'] });
  });

  it('highlights the path of a dry run', () => {
    const p = pathOf([
      { widget: 'trigger', event: 'incomingMessage' }, { widget: 'hours', event: 'closed' }, { widget: 'away', event: 'sent' }, { widget: 'end', event: '' },
    ]);
    expect(p.widgets).toEqual(['trigger', 'hours', 'away', 'end']);
    expect(p.edges).toEqual([edgeId('trigger', 'incomingMessage'), 'hours:closed', 'away:sent']);
    const g = toGraph(flow, {}, p);
    expect(g.nodes.filter((n) => n.data.onPath).map((n) => n.id)).toEqual(['trigger', 'hours', 'away', 'end']);
    expect(g.edges.filter((e) => e.animated).map((e) => e.id)).toEqual(['trigger:incomingMessage', 'hours:closed', 'away:sent']);
  });

  it('undoes and redoes', () => {
    const h = new History<number>();
    h.push(1);
    h.push(2);
    expect(h.undo(3)).toBe(2);
    expect(h.undo(2)).toBe(1);
    expect(h.undo(1)).toBeNull();
    expect(h.redo(1)).toBe(2);
    h.push(2);
    expect(h.canRedo).toBe(false);
  });
});
