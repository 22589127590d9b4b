// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount, unmount } from 'svelte';
import SettingsDialog from './SettingsDialog.svelte';
import { setTransport } from '../lib/bridge';
import { setLocale } from '../lib/i18n';
import { FakeBackend } from '../test/fakeBackend';
import { $, $$, choose, until, type } from '../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  setLocale('en');
  document.body.innerHTML = '';
  delete document.documentElement.dataset.theme;
});

async function start() {
  const onClose = vi.fn();
  app = mount(SettingsDialog, { target: document.body, props: { info: backend.info, onClose } });
  await until(() => $('settings-form'));
  return onClose;
}

function check(id: string, on: boolean) {
  const box = $<HTMLInputElement>(id)!;
  if (box.checked !== on) box.click();
}

describe('SettingsDialog', () => {
  it('shows the saved settings and the audio devices the softphone sees', async () => {
    backend.info.settings.serverUrl = 'https://cc.example.com';
    backend.info.settings.audio.input = 'USB Headset Mic';
    await start();
    expect($<HTMLInputElement>('settings-server')!.value).toBe('https://cc.example.com');
    expect($<HTMLInputElement>('settings-mic')!.value).toBe('USB Headset Mic');
    expect($<HTMLInputElement>('settings-notifications')!.checked).toBe(true);
    await until(() => document.querySelectorAll('#audio-outputs option').length === 2);
    expect([...document.querySelectorAll<HTMLOptionElement>('#audio-inputs option')].map((o) => o.value)).toEqual([
      'Built-in Microphone',
      'USB Headset Mic',
    ]);
  });

  it('saves every field and applies the theme', async () => {
    await start();
    type($<HTMLInputElement>('settings-server')!, 'https://cc.example.com');
    choose($<HTMLSelectElement>('settings-theme')!, 'dark');
    type($<HTMLInputElement>('settings-speaker')!, 'USB Headset');
    type($<HTMLInputElement>('settings-ringer')!, 'Speakers');
    check('settings-notifications', false);
    check('settings-sound', false);
    check('settings-autostart', true);
    $<HTMLButtonElement>('settings-save')!.click();
    await until(() => $('settings-saved'));
    expect(backend.calls.find((c) => c.method === 'SaveSettings')?.args[0]).toEqual({
      serverUrl: 'https://cc.example.com',
      audio: { input: '', output: 'USB Headset', ringing: 'Speakers' },
      notifications: false,
      sound: false,
      theme: 'dark',
      language: '',
      startAtLogin: true,
    });
    expect(document.documentElement.dataset.theme).toBe('dark');
  });

  it('shows why a setting was refused and keeps the old ones', async () => {
    await start();
    type($<HTMLInputElement>('settings-server')!, 'ftp://nope');
    $<HTMLButtonElement>('settings-save')!.click();
    const err = await until(() => $('settings-error'));
    expect(err.textContent).toContain('is not a server address');
    expect(backend.info.settings.serverUrl).toBe('');
    expect($('settings-saved')).toBeNull();
  });

  it('shows the version and commit and copies diagnostics', async () => {
    await start();
    expect($('about-version')!.textContent).toBe('0.0.0-test');
    expect($('about-commit')!.textContent).toBe('abc123def456');
    $<HTMLButtonElement>('copy-diagnostics')!.click();
    await until(() => $('diagnostics-note'));
    expect($('diagnostics-note')!.textContent).toContain('Diagnostics copied');
    expect($<HTMLTextAreaElement>('diagnostics-text')!.value).toContain('Version: 0.0.0-test');
  });

  it('offers every translated language and closes on Escape', async () => {
    const onClose = await start();
    expect($$<HTMLOptionElement>('settings-language')[0].querySelectorAll('option').length).toBe(3);
    $('settings-dialog')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onClose).toHaveBeenCalled();
  });
});
