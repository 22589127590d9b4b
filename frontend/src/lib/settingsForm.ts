// The channel form, generated from a connector's own description of its settings: values for the inputs,
// and the configuration to save. Secrets are write-only: the form never holds their stored value.
import type { ChannelSetting, LocalText } from './bridge';
import { locale } from './i18n';

/** REDACTED is what the engine shows for a stored secret; sent back, it keeps the stored value. */
export const REDACTED = '********';

export type FormValue = string | boolean;

/** text picks the wording for the UI's language. */
export function text(t: LocalText | undefined): string {
  if (!t) return '';
  return (locale() === 'es' ? t.es : t.en) || t.en;
}

/** formValues fills the inputs from a (redacted) configuration; secrets start empty. */
export function formValues(settings: ChannelSetting[], config: Record<string, unknown> = {}): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const s of settings) {
    const v = config[s.key];
    switch (s.kind) {
      case 'secret':
        out[s.key] = '';
        break;
      case 'bool':
        out[s.key] = s.key === 'preChat' ? v !== false : v === true;
        break;
      case 'list':
        out[s.key] = Array.isArray(v) ? v.join('\n') : '';
        break;
      default:
        out[s.key] = v === undefined || v === null ? '' : String(v);
    }
  }
  return out;
}

/**
 * buildConfig turns the inputs into the configuration to save or test. An empty secret that is stored
 * already is sent as REDACTED (keep it); empty fields are left out so the connector's defaults apply.
 */
export function buildConfig(settings: ChannelSetting[], values: Record<string, FormValue>, secretsSet: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const v = values[s.key];
    if (s.kind === 'bool') {
      out[s.key] = v === true;
      continue;
    }
    const str = typeof v === 'string' ? v.trim() : '';
    if (s.kind === 'secret') {
      if (str) out[s.key] = str;
      else if (secretsSet.includes(s.key)) out[s.key] = REDACTED;
      continue;
    }
    if (!str) continue;
    if (s.kind === 'number') out[s.key] = Number(str);
    else if (s.kind === 'list') out[s.key] = str.split('\n').map((l) => l.trim()).filter(Boolean);
    else out[s.key] = str;
  }
  return out;
}

/** fieldProblem checks one input before the connector sees it: required, a number, an address. */
export function fieldProblem(s: ChannelSetting, v: FormValue, secretSet: boolean): string | null {
  const str = typeof v === 'string' ? v.trim() : '';
  if (s.kind === 'bool') return null;
  if (!str) return s.required && !(s.kind === 'secret' && secretSet) ? 'required' : null;
  if (s.kind === 'number' && !/^\d+$/.test(str)) return 'number';
  if (s.kind === 'url' && !/^https?:\/\/\S+$/.test(str)) return 'url';
  if (s.kind === 'email' && !/^[^@\s]+@[^@\s]+$/.test(str)) return 'email';
  if (s.kind === 'hostport' && !/^[^\s:]+:\d{1,5}$/.test(str)) return 'hostport';
  if (s.kind === 'select' && s.options && !s.options.includes(str)) return 'select';
  return null;
}
