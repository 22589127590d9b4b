import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError } from './bridge/errors';
import { errorCodes, errorReasons, errorText } from './errors';
import { setLocale, t, translated, type MessageKey } from './i18n';

afterEach(() => setLocale('en'));

describe('errorText', () => {
  it('has a sentence for every error code and reason, in English and Spanish', () => {
    for (const key of [...errorCodes.map((c) => `error.code.${c}`), ...errorReasons.map((r) => `error.reason.${r}`)]) {
      expect(t(key), key).not.toBe(key);
      expect(translated('es', key as MessageKey), key).toBe(true);
    }
  });

  it('prefers the reason, then the action, then the code', () => {
    const taken = new BridgeError('conflict', 'Task task_01H is held by wk_9.', 'task_taken');
    expect(errorText(taken, 'take')).toBe('Another agent is already handling this conversation.');
    expect(errorText(new BridgeError('unauthorized', 'The email or password is not correct.'), 'signin')).toBe(
      'The email or password is not correct.',
    );
    expect(errorText(new BridgeError('conflict', 'Task task_01H is assigned, not pending.'), 'wrapup')).toBe(
      t('error.code.conflict'),
    );
    expect(errorText(new BridgeError('teapot', 'x'))).toBe(t('error.generic'));
    expect(errorText(null)).toBe(t('error.code.internal'));
  });

  it('never shows the engine’s sentence, which may name internal ids', () => {
    const e = new BridgeError('not_found', 'Task task_01HXYZ does not exist or has ended.');
    expect(errorText(e)).not.toContain('task_01HXYZ');
  });

  it('speaks the UI language', () => {
    setLocale('es');
    expect(errorText(new BridgeError('conflict', 'x', 'no_capacity'), 'take')).toBe(
      'Ya tienes tantas conversaciones de este tipo como puedes atender. Termina una primero.',
    );
    expect(errorText(new BridgeError('unavailable', 'x'))).toBe(
      'Switchboard no está disponible ahora mismo. Inténtalo de nuevo en un momento.',
    );
  });
});
