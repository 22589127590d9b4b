import { tOr, t } from './i18n';

/** What the user was doing when a call failed; it picks a more precise sentence. */
export type Action =
  | 'signin'
  | 'take'
  | 'assign'
  | 'accept'
  | 'reject'
  | 'wrapup'
  | 'complete'
  | 'transfer'
  | 'status'
  | 'activity'
  | 'send'
  | 'monitor';

/**
 * errorText turns a rejected bridge call into a sentence in the user's language: by the
 * error's reason when the engine named one, else by what the user was doing and the code,
 * else by the code alone. The engine's own English sentence is never shown: it may name
 * internal ids.
 */
export function errorText(e: unknown, action?: Action): string {
  const err = e as { code?: string; reason?: string } | null;
  const code = err?.code || 'internal';
  if (err?.reason) {
    const byReason = tOr(`error.reason.${err.reason}`, '');
    if (byReason) return byReason;
  }
  if (action) {
    const byAction = tOr(`error.${action}.${code}`, '');
    if (byAction) return byAction;
  }
  return tOr(`error.code.${code}`, t('error.generic'));
}

/** errorCodes lists the backend's error codes; each has a sentence in every language. */
export const errorCodes = ['invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'too_large', 'unavailable', 'internal'];

/** errorReasons lists the reasons the engine and the app give; each has a sentence too. */
export const errorReasons = ['no_capacity', 'task_taken', 'task_ended', 'not_in_queue', 'offer_gone', 'session_ended', 'no_keyring'];

/**
 * errorDetail is errorText for the settings, account and admin screens, where the engine's
 * sentence names what to fix in a form (a field, a value, a connector's own check): it is
 * shown as the engine wrote it, unless the error carries a reason the app translates.
 */
export function errorDetail(e: unknown): string {
  const err = e as { reason?: string; message?: string } | null;
  if (err?.reason && tOr(`error.reason.${err.reason}`, '')) return errorText(e);
  if (err && typeof err.message === 'string' && err.message.trim()) return err.message;
  return errorText(e);
}
