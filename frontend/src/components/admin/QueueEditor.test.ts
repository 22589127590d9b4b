// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import QueueEditor from './QueueEditor.svelte';
import { BridgeError, setTransport } from '../../lib/bridge';
import { FakeBackend } from '../../test/fakeBackend';
import { $, type, until } from '../../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;
let saved: unknown[] = [];

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('admin');
  saved = [];
  const methods = (backend as unknown as { methods: Record<string, (...a: unknown[]) => unknown> }).methods;
  methods.PreviewQueue = () => ({ valid: true, workers: [] });
  methods.SaveQueue = (id: unknown, q: unknown) => {
    if ((q as { alertWaiting: number }).alertWaiting > 1000) throw new BridgeError('invalid', 'The engine refused it.');
    saved.push([id, q]);
    return q;
  };
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

const submit = () => $('queue-form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));

describe('QueueEditor', () => {
  it('edits the alert thresholds, refusing what is not a whole number and showing the engine’s refusal', async () => {
    let done = 0;
    const queue = { id: 'q1', name: 'Support', targetWorkers: '', slaSeconds: 30, alertWaitSeconds: 90, alertWaiting: 0 };
    app = mount(QueueEditor, { target: document.body, props: { queue, onSaved: () => done++, onCancel: () => {} } });
    const wait = await until(() => $<HTMLInputElement>('queue-alert-wait'));
    expect(wait.value).toBe('90');
    expect($<HTMLInputElement>('queue-alert-waiting')!.value).toBe('');

    type($<HTMLInputElement>('queue-alert-waiting')!, '-2');
    submit();
    const err = await until(() => $('queue-error'));
    expect(err.textContent).toBe('Alert at waiting tasks must be a whole number of 0 or more.');
    expect(saved).toEqual([]);

    type($<HTMLInputElement>('queue-alert-waiting')!, '5000');
    submit();
    await until(() => $('queue-error')?.textContent === 'The engine refused it.');

    type($<HTMLInputElement>('queue-alert-waiting')!, '4');
    type(wait, '');
    submit();
    await until(() => done === 1);
    expect(saved).toEqual([['q1', { name: 'Support', targetWorkers: '', orderBy: '', lifo: false, slaSeconds: 30, alertWaitSeconds: 0, alertWaiting: 4 }]]);
  });
});
