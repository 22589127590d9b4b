import { describe, expect, it } from 'vitest';
import { cannedQuery, fillCanned, matchCanned } from './canned';
import type { CannedResponse } from './bridge';

describe('fillCanned', () => {
  const ctx = { contactName: 'Maria  Garcia Lopez', agentName: 'Ada Admin' };
  const cases: [string, string, string][] = [
    ['contact name', 'Hello {{contact.name}}!', 'Hello Maria  Garcia Lopez!'],
    ['first name', 'Hi {{contact.firstName}}', 'Hi Maria'],
    ['agent name', 'This is {{agent.name}}.', 'This is Ada Admin.'],
    ['agent first name', '— {{agent.firstName}}', '— Ada'],
    ['spaces inside braces', '{{ contact.firstName }} / {{  agent.name}}', 'Maria / Ada Admin'],
    ['repeated', '{{contact.firstName}} {{contact.firstName}}', 'Maria Maria'],
    ['unknown placeholder stays', 'Order {{order.id}}', 'Order {{order.id}}'],
    ['single braces are text', '{contact.name}', '{contact.name}'],
    ['no placeholders', 'Thanks!', 'Thanks!'],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => expect(fillCanned(text, ctx)).toBe(want));
  }

  it('fills empty names with nothing', () => {
    expect(fillCanned('Hi {{contact.firstName}}, {{contact.name}}.', { contactName: '', agentName: '' })).toBe('Hi , .');
  });
});

describe('cannedQuery', () => {
  it('opens on a slash at the very start', () => {
    expect(cannedQuery('/')).toBe('');
    expect(cannedQuery('/ref')).toBe('ref');
    expect(cannedQuery('/refund policy')).toBe('refund policy');
  });
  it('stays closed otherwise', () => {
    expect(cannedQuery('')).toBeNull();
    expect(cannedQuery('a/b')).toBeNull();
    expect(cannedQuery(' /x')).toBeNull();
    expect(cannedQuery('/x\nmore')).toBeNull();
  });
});

describe('matchCanned', () => {
  const list: CannedResponse[] = [
    { id: '1', shortcut: 'bye', title: 'Goodbye', text: 'Thanks for writing!' },
    { id: '2', shortcut: '/refund', title: 'Refund policy', text: 'Refunds take 5 days.' },
    { id: '3', shortcut: 'ship', title: 'Shipping refund times', text: 'We ship daily.' },
    { id: '4', shortcut: 'hello', title: 'Greeting', text: 'Hi! About your refund…' },
  ];
  const ids = (q: string) => matchCanned(list, q).map((c) => c.id);

  it('keeps all for an empty query', () => expect(ids('')).toEqual(['1', '2', '3', '4']));
  it('ranks shortcut prefixes, then titles, then texts', () => expect(ids('ref')).toEqual(['2', '3', '4']));
  it('ignores case and a leading slash in the shortcut', () => expect(ids('REF')[0]).toBe('2'));
  it('finds nothing', () => expect(ids('zzz')).toEqual([]));
});
