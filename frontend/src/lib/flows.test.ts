import { describe, expect, it } from 'vitest';
import { lineColumn, outcome, parseFlow, problemLines, syntaxErrorOffset } from './flows';
import type { FlowTraceStep } from './bridge';

const step = (over: Partial<FlowTraceStep>): FlowTraceStep => ({
  widget: 'w',
  type: 'split',
  event: '',
  actions: [],
  status: '',
  error: '',
  ...over,
});

describe('syntaxErrorOffset', () => {
  const cases: [string, number | null][] = [
    ['{"a": [1, -2.5e3, true, null, "x\\n\\u00e9"]}', null],
    ['  {}  ', null],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ['{"a": tru}', 6],
    ['{"a": "x\\q"}', 9],
    ['{"a": 01}', 7],
    ['[1 2]', 3],
    ['{"a": 1', 7],
    ['{} x', 3],
    ['', 0],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => {
      expect(syntaxErrorOffset(text)).toBe(want);
      expect(() => JSON.parse(text)).toSatisfy((fn: () => unknown) => {
        try {
          fn();
          return want === null;
        } catch {
          return want !== null;
        }
      });
    });
  }
});

describe('parseFlow', () => {
  it('accepts an object', () => {
    expect(parseFlow('{"name": "x", "widgets": []}')).toEqual({ ok: true, value: { name: 'x', widgets: [] } });
  });

  it('says where the JSON breaks', () => {
    const text = '{\n  "name": "x",\n  "widgets": [],\n}';
    const p = parseFlow(text);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.offset).toBe(text.lastIndexOf('}'));
    expect(p.message).toMatch(/^The flow is not valid JSON at line 4, column 1: /);
  });

  it('places an unexpected end at the end of the text', () => {
    const p = parseFlow('{"name": "x"');
    expect(p).toMatchObject({ ok: false, offset: 12 });
    if (!p.ok) expect(p.message).toContain('line 1, column 13');
  });

  it('wants an object', () => {
    expect(parseFlow('[1]')).toMatchObject({ ok: false, offset: null, message: expect.stringContaining('JSON object') });
  });
});

describe('helpers', () => {
  it('lineColumn', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });

  it('problemLines', () => {
    expect(problemLines('one\n\n  two  \n')).toEqual(['one', 'two']);
  });

  it('outcome', () => {
    expect(outcome(step({ event: 'noMatch' }))).toEqual({ kind: 'next', text: '→ noMatch' });
    expect(outcome(step({ status: 'waiting' }))).toEqual({ kind: 'waiting', text: '⏸ waiting' });
    expect(outcome(step({ status: 'agent' }))).toEqual({ kind: 'agent', text: '☎ handed to a live agent' });
    expect(outcome(step({ event: 'sent', status: 'ended' }))).toEqual({ kind: 'ended', text: '→ sent · ■ ended' });
    expect(outcome(step({ status: 'failed', error: 'boom' }))).toEqual({ kind: 'failed', text: '✗ error: boom' });
  });
});
