// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { setTransport, type Settings } from './bridge';
import { locale, setLocale } from './i18n';
import { applySettings } from './settings';
import { saveTheme } from './theme';
import { FakeBackend } from '../test/fakeBackend';
import { until } from '../test/dom';

const base: Settings = {
  serverUrl: '',
  audio: { input: '', output: '', ringing: '' },
  notifications: true,
  sound: true,
  theme: 'system',
  language: '',
  startAtLogin: false,
};

afterEach(() => {
  setTransport(null);
  setLocale('en');
  delete document.documentElement.dataset.theme;
});

describe('applySettings', () => {
  it('applies the theme and the language, and says when the language changed', () => {
    expect(applySettings({ ...base, theme: 'dark', language: 'es' })).toBe(true);
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(locale()).toBe('es');
    expect(document.documentElement.lang).toBe('es');
    expect(applySettings({ ...base, theme: 'dark', language: 'es' })).toBe(false);
  });

  it('keeps the header toggle’s theme in the settings file', async () => {
    const backend = new FakeBackend();
    setTransport(backend);
    applySettings({ ...base });
    saveTheme('light');
    await until(() => backend.calls.some((c) => c.method === 'SaveSettings'));
    expect(backend.info.settings.theme).toBe('light');
  });
});
