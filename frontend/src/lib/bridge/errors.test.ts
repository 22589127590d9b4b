import { describe, expect, it } from 'vitest';
import { BridgeError, decodeError } from './errors';

describe('decodeError', () => {
  const cases: { name: string; input: unknown; code: string; message: string }[] = [
    {
      name: 'Wails bare string holding JSON',
      input: '{"code":"unauthorized","message":"Wrong email or password."}',
      code: 'unauthorized',
      message: 'Wrong email or password.',
    },
    {
      name: 'Wails Error whose message holds JSON',
      input: new Error('{"code":"not_found","message":"Nobody is signed in on this computer."}'),
      code: 'not_found',
      message: 'Nobody is signed in on this computer.',
    },
    {
      name: 'browser-mode JSON body',
      input: { error: { code: 'not_found', message: 'Nobody is signed in.' } },
      code: 'not_found',
      message: 'Nobody is signed in.',
    },
    {
      name: 'plain object with code and message',
      input: { code: 'conflict', message: 'Already assigned.' },
      code: 'conflict',
      message: 'Already assigned.',
    },
    { name: 'non-JSON string', input: 'database is locked', code: 'internal', message: 'database is locked' },
    { name: 'string that looks like JSON but is not', input: '{oops', code: 'internal', message: '{oops' },
    { name: 'JSON without a code', input: '{"message":"Boom."}', code: 'internal', message: 'Boom.' },
    { name: 'Error instance', input: new TypeError('bad'), code: 'internal', message: 'bad' },
    { name: 'undefined', input: undefined, code: 'internal', message: 'undefined' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const e = decodeError(tc.input);
      expect(e).toBeInstanceOf(BridgeError);
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe(tc.code);
      expect(e.message).toBe(tc.message);
    });
  }

  it('passes a BridgeError through', () => {
    const e = new BridgeError('forbidden', 'No.');
    expect(decodeError(e)).toBe(e);
  });
});
