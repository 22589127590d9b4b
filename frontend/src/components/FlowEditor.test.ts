// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount, unmount } from 'svelte';
import App from '../App.svelte';
import FlowEditor from './FlowEditor.svelte';
import { setTransport } from '../lib/bridge';
import { FakeBackend } from '../test/fakeBackend';
import { $, $$, choose, type, until } from '../test/dom';

let app: Record<string, unknown> | null = null;
let backend: FakeBackend;

beforeEach(() => {
  backend = new FakeBackend();
  backend.signInAs('admin');
  setTransport(backend);
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

async function open() {
  const onClose = vi.fn();
  app = mount(FlowEditor, { target: document.body, props: { onClose } });
  const json = await until(() => {
    const el = $<HTMLTextAreaElement>('flow-json');
    return el && el.value && !el.disabled ? el : null;
  }, 2000, 'the flow');
  return { onClose, json };
}

const methods = () => backend.calls.map((c) => c.method);

describe('FlowEditor', () => {
  it('loads the default flow of the first instance and switches instances', async () => {
    backend.flows['whatsapp.cloud/main'] = { flow: { name: 'WA', widgets: [] }, revision: 4 };
    const { json } = await open();
    expect(JSON.parse(json.value)).toEqual(backend.defaultFlow);
    expect(json.value).toBe(JSON.stringify(backend.defaultFlow, null, 2));
    expect($('flow-revision')?.textContent).toContain('Default flow');
    expect($$<HTMLOptionElement>('flow-instance')[0].querySelectorAll('option')).toHaveLength(2);

    choose($<HTMLSelectElement>('flow-instance')!, 'whatsapp.cloud/main');
    await until(() => $('flow-revision')?.textContent?.includes('Revision 4'));
    expect(JSON.parse($<HTMLTextAreaElement>('flow-json')!.value)).toEqual({ name: 'WA', widgets: [] });
    expect(backend.calls.filter((c) => c.method === 'GetFlow').map((c) => c.args)).toEqual([['sms.twilio/main'], ['whatsapp.cloud/main']]);
  });

  it('explains malformed JSON without calling Go, and puts the caret there', async () => {
    const { json } = await open();
    const before = backend.calls.length;
    type(json, '{\n  "name": "x",\n  "widgets": [\n}');
    $<HTMLButtonElement>('flow-save')!.click();
    const box = await until(() => $('flow-problems'));
    expect(box.textContent).toMatch(/not valid JSON at line 4, column 1/);
    expect(json.selectionStart).toBe(json.value.length - 1);
    $<HTMLButtonElement>('flow-validate')!.click();
    type($<HTMLInputElement>('flow-test-message')!, 'hi');
    $<HTMLButtonElement>('flow-test-run')!.click();
    expect(backend.calls.length).toBe(before);

    type(json, '[]');
    $<HTMLButtonElement>('flow-validate')!.click();
    await until(() => $('flow-problems')?.textContent?.includes('must be a JSON object'));
    expect(backend.calls.length).toBe(before);
  });

  it('validates with no messages and saves, listing the problems Go reports', async () => {
    const { json } = await open();
    $<HTMLButtonElement>('flow-validate')!.click();
    await until(() => $('flow-status')?.textContent === 'Valid');
    expect(backend.calls.findLast((c) => c.method === 'TestFlow')?.args).toEqual([json.value, []]);

    const bad = { name: 'x', widgets: [{ name: 'trigger', type: 'trigger', transitions: { incomingMessage: 'nowhere' } }, { name: 'b', type: 'end', transitions: { x: 'gone' } }] };
    type(json, JSON.stringify(bad));
    expect($('flow-status')).toBeNull();
    $<HTMLButtonElement>('flow-save')!.click();
    const items = await until(() => $('flow-problems')?.querySelectorAll('li'));
    expect([...items].map((li) => li.textContent)).toEqual([
      'widget "trigger": transition "incomingMessage" goes to unknown widget "nowhere"',
      'widget "b": transition "x" goes to unknown widget "gone"',
    ]);

    type(json, JSON.stringify(backend.defaultFlow));
    $<HTMLButtonElement>('flow-save')!.click();
    await until(() => $('flow-status')?.textContent === 'Saved as revision 1');
    expect($('flow-problems')).toBeNull();
    expect($('flow-revision')?.textContent).toContain('Revision 1');
    expect(backend.calls.findLast((c) => c.method === 'SaveFlow')?.args).toEqual(['sms.twilio/main', JSON.stringify(backend.defaultFlow)]);
  });

  it('renders the trace of a dry run', async () => {
    backend.flowTest = {
      runs: [
        {
          message: 'I want an agent',
          steps: [
            { widget: 'trigger', type: 'trigger', event: 'incomingMessage', actions: null, status: '', error: '' },
            { widget: 'greet', type: 'send-message', event: 'sent', actions: ['send "Hello!"'], status: '', error: '' },
            { widget: 'ask', type: 'send-and-wait-for-reply', event: '', actions: ['send "Order number?"'], status: 'waiting', error: '' },
            { widget: 'agent', type: 'send-to-agent', event: '', actions: ['create task department=support'], status: 'agent', error: '' },
            { widget: 'hook', type: 'make-http-request', event: '', actions: [], status: 'failed', error: 'bad template' },
            { widget: 'bye', type: 'end', event: '', actions: [], status: 'ended', error: '' },
          ],
        },
      ],
    };
    await open();
    expect($('flow-dry-run')?.textContent).toBe('Dry run: nothing is sent and no task is created.');
    type($<HTMLInputElement>('flow-test-message')!, '  I want an agent ');
    $<HTMLButtonElement>('flow-test-run')!.click();
    await until(() => $$('flow-step').length === 6);
    expect(backend.calls.findLast((c) => c.method === 'TestFlow')?.args[1]).toEqual(['I want an agent']);
    expect($('flow-trace')?.textContent).toContain('Customer writes “I want an agent”');
    const rows = $$('flow-step');
    expect(rows.map((r) => r.dataset.widget)).toEqual(['trigger', 'greet', 'ask', 'agent', 'hook', 'bye']);
    expect(rows.map((r) => r.dataset.outcome)).toEqual(['next', 'next', 'waiting', 'agent', 'failed', 'ended']);
    expect(rows.map((r) => $('flow-outcome', r)?.textContent)).toEqual([
      '→ incomingMessage',
      '→ sent',
      '⏸ waiting',
      '☎ handed to a live agent',
      '✗ error: bad template',
      '■ ended',
    ]);
    expect(rows[1].textContent).toContain('send-message');
    expect($$('flow-action', rows[3]).map((a) => a.textContent)).toEqual(['create task department=support']);
    expect(rows[0].textContent).toContain('no actions');
  });

  it('closes on Close', async () => {
    const { onClose } = await open();
    $<HTMLButtonElement>('flow-close')!.click();
    expect(onClose).toHaveBeenCalled();
  });
});

describe('the Flows button', () => {
  it('is shown to admins and opens the editor', async () => {
    app = mount(App, { target: document.body });
    const btn = await until(() => $('open-flows'));
    expect($('flow-editor')).toBeNull();
    btn.click();
    await until(() => $('flow-editor'));
    $<HTMLButtonElement>('flow-close')!.click();
    await until(() => !$('flow-editor'));
  });

  for (const role of ['agent', 'supervisor'] as const) {
    it(`is not shown to a ${role}`, async () => {
      backend.signInAs(role);
      app = mount(App, { target: document.body });
      await until(() => $('inbox') && $('user-name'));
      expect($('open-flows')).toBeNull();
    });
  }
});

describe('FlowEditor without instances', () => {
  it('says so, or why they could not be listed', async () => {
    backend.flowInstances = [];
    app = mount(FlowEditor, { target: document.body, props: { onClose: () => {} } });
    await until(() => $('flow-no-instances')?.textContent === 'No channel instances are configured yet.');
    expect($('flow-json')).toBeNull();
    unmount(app);
    backend.signInAs('agent');
    app = mount(FlowEditor, { target: document.body, props: { onClose: () => {} } });
    await until(() => $('flow-no-instances')?.textContent === 'Your role does not allow this.');
  });
});
