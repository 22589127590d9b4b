// The user's settings as the page uses them: theme, language and the offer sound follow the
// settings the Go side keeps in the user's config directory.
import { SaveSettings, type AppInfo, type Settings } from './bridge';
import { locale, setLocale } from './i18n';
import { setSoundEnabled } from './sound';
import { applyTheme, saveTheme, setThemePersister, type Theme } from './theme';

let current: Settings | null = null;
let info: AppInfo | null = null;

/** setAppInfo keeps what Ready answered, for the About box. */
export function setAppInfo(i: AppInfo | null): void {
  info = i;
}

/** appInfo is what Ready answered (null before). */
export function appInfo(): AppInfo | null {
  return info;
}

/** applySettings makes the page follow s; it returns whether the language changed (the page must re-render). */
export function applySettings(s: Settings): boolean {
  current = s;
  applyTheme(s.theme);
  saveTheme(s.theme, undefined, false);
  setSoundEnabled(s.sound);
  const before = locale();
  setLocale(s.language || (typeof navigator === 'undefined' ? 'en' : navigator.language));
  if (typeof document !== 'undefined') document.documentElement.lang = locale();
  return locale() !== before;
}

/** currentSettings is what applySettings last applied (null before the app answered). */
export function currentSettings(): Settings | null {
  return current;
}

/** saveSettings stores s through the app and applies what was saved; it rejects like SaveSettings. */
export async function saveSettings(s: Settings): Promise<{ saved: Settings; languageChanged: boolean }> {
  const saved = await SaveSettings(s);
  return { saved, languageChanged: applySettings(saved) };
}

// The header's theme toggle keeps its choice in the settings file too.
setThemePersister((theme: Theme) => {
  if (!current || current.theme === theme) return;
  const next = { ...current, theme };
  current = next;
  SaveSettings(next).catch(() => {
    // The theme still applies to this page; it is only not remembered.
  });
});
