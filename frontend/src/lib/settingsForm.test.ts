import { describe, expect, it } from 'vitest';
import type { ChannelSetting } from './bridge';
import { REDACTED, buildConfig, fieldProblem, formValues } from './settingsForm';

const t = { en: 'x', es: 'x' };
const settings: ChannelSetting[] = [
  { key: 'botToken', kind: 'secret', required: true, label: t, help: t },
  { key: 'secretToken', kind: 'secret', label: t, help: t },
  { key: 'mode', kind: 'select', options: ['webhook', 'polling'], label: t, help: t },
  { key: 'pollTimeout', kind: 'number', label: t, help: t },
  { key: 'guildChannels', kind: 'list', label: t, help: t },
  { key: 'noIdle', kind: 'bool', label: t, help: t },
  { key: 'preChat', kind: 'bool', label: t, help: t },
];

describe('the generated channel form', () => {
  it('never shows a stored secret', () => {
    const v = formValues(settings, { botToken: REDACTED, mode: 'polling', pollTimeout: 30, guildChannels: ['1', '2'] });
    expect(v).toEqual({ botToken: '', secretToken: '', mode: 'polling', pollTimeout: '30', guildChannels: '1\n2', noIdle: false, preChat: true });
  });

  it('keeps a stored secret left empty and leaves out empty fields', () => {
    const v = formValues(settings, {});
    v.mode = 'webhook';
    v.guildChannels = ' 1 \n\n 2 ';
    v.pollTimeout = '25';
    expect(buildConfig(settings, v, ['botToken'])).toEqual({
      botToken: REDACTED, mode: 'webhook', pollTimeout: 25, guildChannels: ['1', '2'], noIdle: false, preChat: true,
    });
    v.botToken = ' new-token ';
    expect(buildConfig(settings, v, ['botToken']).botToken).toBe('new-token');
    expect(buildConfig(settings, { ...v, botToken: '' }, []).botToken).toBeUndefined();
  });

  it('checks fields before the connector does', () => {
    expect(fieldProblem(settings[0], '', false)).toBe('required');
    expect(fieldProblem(settings[0], '', true)).toBeNull(); // stored: may stay empty
    expect(fieldProblem(settings[3], '2x', false)).toBe('number');
    expect(fieldProblem(settings[2], 'carrier', false)).toBe('select');
    expect(fieldProblem({ key: 'u', kind: 'url', label: t, help: t }, 'ftp://x', false)).toBe('url');
    expect(fieldProblem({ key: 'h', kind: 'hostport', label: t, help: t }, 'imap.example.com:993', false)).toBeNull();
    expect(fieldProblem({ key: 'h', kind: 'hostport', label: t, help: t }, 'imap.example.com', false)).toBe('hostport');
  });
});
