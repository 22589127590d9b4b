// Mounting the whole app against a fresh FakeBackend for each test.
import { afterEach, beforeEach } from 'vitest';
import { mount, unmount } from 'svelte';
import App from '../App.svelte';
import { setTransport } from '../lib/bridge';
import { setLocale } from '../lib/i18n';
import { FakeBackend } from './fakeBackend';

/** AppHarness gives each test its own backend; start mounts the app on it. */
export interface AppHarness {
  backend: FakeBackend;
  start: () => void;
}

/** useApp registers the per-test setup and teardown and returns the harness. */
export function useApp(): AppHarness {
  let app: Record<string, unknown> | null = null;
  const h: AppHarness = {
    backend: new FakeBackend(),
    start: () => {
      app = mount(App, { target: document.body });
    },
  };
  beforeEach(() => {
    h.backend = new FakeBackend();
    setTransport(h.backend);
  });
  afterEach(() => {
    if (app) unmount(app);
    app = null;
    setTransport(null);
    setLocale('en');
    document.body.innerHTML = '';
  });
  return h;
}
