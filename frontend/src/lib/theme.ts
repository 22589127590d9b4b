// Light, dark or follow the system: the choice is kept in localStorage and applied as
// data-theme on <html>, which app.css lets override prefers-color-scheme.

/** Theme is the user's choice; "system" follows prefers-color-scheme. */
export type Theme = 'system' | 'light' | 'dark';

export const THEME_KEY = 'switchboard.theme';
const ORDER: Theme[] = ['system', 'light', 'dark'];

function isTheme(v: unknown): v is Theme {
  return v === 'system' || v === 'light' || v === 'dark';
}

function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** loadTheme reads the saved choice ("system" when none or unreadable). */
export function loadTheme(storage: Storage | null = defaultStorage()): Theme {
  try {
    const v = storage?.getItem(THEME_KEY);
    return isTheme(v) ? v : 'system';
  } catch {
    return 'system';
  }
}

let persister: ((theme: Theme) => void) | null = null;

/** setThemePersister names who keeps the choice beyond this page (the app's settings file). */
export function setThemePersister(fn: ((theme: Theme) => void) | null): void {
  persister = fn;
}

/**
 * saveTheme keeps the choice: in localStorage (so the next start paints in it at once) and,
 * unless persist is false, through the persister; storage failures only mean it is not remembered.
 */
export function saveTheme(theme: Theme, storage: Storage | null = defaultStorage(), persist = true): void {
  if (persist) persister?.(theme);
  try {
    if (theme === 'system') storage?.removeItem(THEME_KEY);
    else storage?.setItem(THEME_KEY, theme);
  } catch {
    // not remembered; still applied
  }
}

/** applyTheme sets data-theme on the root element ("system" removes it). */
export function applyTheme(theme: Theme, root: HTMLElement | null = typeof document === 'undefined' ? null : document.documentElement): void {
  if (!root) return;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

/** nextTheme is what the toggle switches to: system → light → dark → system. */
export function nextTheme(theme: Theme): Theme {
  return ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length];
}
