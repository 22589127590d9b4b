import { t } from './i18n';

/** errorText turns a rejected bridge call into the sentence the user sees. */
export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string } | null;
  if (err && typeof err.message === 'string' && err.message.trim()) return err.message;
  if (err?.code === 'unavailable') return t('error.unavailable');
  return t('error.generic');
}
