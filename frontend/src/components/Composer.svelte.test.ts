// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import Composer from './Composer.svelte';
import { setTransport, type ConversationSummary, type TimelineItem } from '../lib/bridge';
import { $ as byId, $$ as allById, type, until } from '../test/dom';

let calls: { method: string; args: unknown[] }[] = [];
let app: Record<string, unknown> | null = null;
let draft = '';

beforeEach(() => {
  calls = [];
  draft = '';
  setTransport({
    kind: 'browser',
    on: () => () => {},
    async call<T>(method: string, args: unknown[]): Promise<T> {
      calls.push({ method, args });
      if (method === 'CannedResponses') return [] as T;
      return { id: 'm9', conversationId: 'c1', direction: 'out', text: String(args[1]), status: 'queued', attachments: [] } as T;
    },
  });
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

const conversation = { id: 'c1', channel: 'email', status: 'open', lastMessageAt: '2026-01-01T10:00:00Z', contactName: 'Hana' } as unknown as ConversationSummary;

function start(cc: string[]) {
  const timeline = [
    { id: 'm1', conversationId: 'c1', channel: 'email', direction: 'in', text: 'We need it by Friday.', status: 'received', createdAt: '2026-01-01T10:00:00Z', attachments: [], cc },
  ] as unknown as TimelineItem[];
  const props = $state({
    conversation, options: [conversation], timeline, conn: 'online' as const, contactName: 'Hana', agentName: 'Ben',
    now: new Date('2026-01-01T11:00:00Z'), draft: '', onDraft: (t: string) => { draft = t; props.draft = t; }, onSent: () => {},
  });
  app = mount(Composer, { target: document.body, props });
}

describe('Composer', () => {
  it('replies to all on an email thread unless the agent unticks it', async () => {
    start(['hana@example.net']);
    const all = await until(() => byId('reply-all'));
    expect(all.textContent).toContain('hana@example.net');
    type(byId<HTMLTextAreaElement>('reply-input')!, 'To everyone');
    byId<HTMLButtonElement>('reply-send')!.click();
    await until(() => calls.some((c) => c.method === 'SendReply'));
    expect(calls.find((c) => c.method === 'SendReply')?.args).toEqual(['c1', 'To everyone']);
    await until(() => draft === '' && byId('reply-send')?.textContent?.trim() === 'Send'); // sent and done

    all.querySelector('input')!.click();
    type(byId<HTMLTextAreaElement>('reply-input')!, 'Just to you');
    byId<HTMLButtonElement>('reply-send')!.click();
    await until(() => calls.some((c) => c.method === 'SendReplyWith'));
    expect(calls.find((c) => c.method === 'SendReplyWith')?.args).toEqual(['c1', 'Just to you', [], []]);
  });

  it('sends attached files, even without text, and can remove one first', async () => {
    start([]);
    expect(byId('reply-all')).toBeNull();
    const input = await until(() => byId<HTMLInputElement>('attach-input'));
    const files = [new File(['%PDF-1.4'], 'invoice.pdf', { type: 'application/pdf' }), new File(['oops'], 'wrong.txt', { type: 'text/plain' })];
    Object.defineProperty(input, 'files', { value: files, configurable: true });
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await until(() => allById('attached-file').length === 2);
    expect(byId<HTMLButtonElement>('reply-send')!.disabled).toBe(false);
    allById('attached-file')[1].querySelector('button')!.click();
    await until(() => allById('attached-file').length === 1);
    byId<HTMLButtonElement>('reply-send')!.click();
    await until(() => calls.some((c) => c.method === 'SendReplyWith'));
    expect(calls.find((c) => c.method === 'SendReplyWith')?.args).toEqual(['c1', '', [{ name: 'invoice.pdf', type: 'application/pdf', data: btoa('%PDF-1.4') }], null]);
    await until(() => allById('attached-file').length === 0);
  });
});
