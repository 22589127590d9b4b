// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { THEME_KEY, applyTheme, loadTheme, nextTheme, saveTheme } from './theme';

afterEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

describe('theme', () => {
  it('defaults to the system and ignores junk', () => {
    expect(loadTheme()).toBe('system');
    localStorage.setItem(THEME_KEY, 'purple');
    expect(loadTheme()).toBe('system');
  });

  it('remembers light and dark, and forgets system', () => {
    saveTheme('dark');
    expect(loadTheme()).toBe('dark');
    saveTheme('system');
    expect(localStorage.getItem(THEME_KEY)).toBeNull();
  });

  it('overrides the system preference through data-theme', () => {
    applyTheme('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    applyTheme('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it('cycles system → light → dark → system', () => {
    expect([nextTheme('system'), nextTheme('light'), nextTheme('dark')]).toEqual(['light', 'dark', 'system']);
  });

  it('survives storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {},
    } as unknown as Storage;
    expect(loadTheme(broken)).toBe('system');
    expect(() => saveTheme('dark', broken)).not.toThrow();
  });
});
