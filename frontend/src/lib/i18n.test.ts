import { afterEach, describe, expect, it } from 'vitest';
import { locale, messageKeys, pickLocale, setLocale, t, tOr, translated } from './i18n';

afterEach(() => setLocale('en'));

describe('i18n', () => {
  it('picks a supported locale from a BCP 47 tag', () => {
    expect(pickLocale('es-MX')).toBe('es');
    expect(pickLocale('ES')).toBe('es');
    expect(pickLocale('en-GB')).toBe('en');
    expect(pickLocale('fr-FR')).toBe('en');
    expect(pickLocale('')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });

  it('looks up the current language', () => {
    setLocale('es-ES');
    expect(locale()).toBe('es');
    expect(t('signin.submit')).toBe('Iniciar sesión');
  });

  it('falls back to English, then to the key', () => {
    setLocale('es');
    expect(t('channel.whatsapp')).toBe('WhatsApp'); // not in the Spanish table
    expect(t('no.such.key')).toBe('no.such.key');
    expect(tOr('channel.carrier-pigeon', 'carrier-pigeon')).toBe('carrier-pigeon');
  });

  it('fills placeholders', () => {
    expect(t('inbox.unread', { count: 3 })).toBe('3 unread');
    expect(t('time.minutes', {})).toBe('{n}m');
  });
});

describe('the Spanish table', () => {
  // Brand and platform names read the same in both languages.
  const same = new Set(['app.name', 'signin.title', 'signin.serverPlaceholder']);
  it('translates every sentence the UI shows', () => {
    const missing = messageKeys().filter((k) => !k.startsWith('channel.') && !same.has(k) && !translated('es', k));
    expect(missing).toEqual([]);
  });
});
