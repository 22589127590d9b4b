// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import ConversationList from './ConversationList.svelte';
import { seedConversations } from '../test/fakeBackend';

let app: Record<string, unknown> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
});

describe('ConversationList', () => {
  it('renders one item per conversation with channel, status and unread count', () => {
    const items = seedConversations().map((d) => d.conversation);
    const onSelect = vi.fn();
    app = mount(ConversationList, { target: document.body, props: { items, selectedId: 'c2', onSelect } });
    const rows = document.querySelectorAll<HTMLElement>('[data-testid="conversation-item"]');
    expect([...rows].map((r) => r.dataset.id)).toEqual(['c1', 'c2', 'c3']);
    expect(rows[0].textContent).toContain('Maria Garcia');
    expect(rows[0].textContent).toContain('WhatsApp');
    expect(rows[0].textContent).toContain('Open');
    expect(rows[0].querySelector('[data-testid="unread-count"]')?.textContent).toBe('2');
    expect(rows[1].querySelector('[data-testid="unread-count"]')).toBeNull();
    expect(rows[1].getAttribute('aria-current')).toBe('true');
    expect(rows[1].querySelector('[data-testid="channel-badge"]')?.textContent).toBe('SMS');
    expect(rows[2].textContent).toContain('LINE');
    expect(rows[2].textContent).toContain('Resolved');

    rows[2].click();
    flushSync();
    expect(onSelect).toHaveBeenCalledWith('c3');
  });

  it('shows the empty sentence', () => {
    app = mount(ConversationList, { target: document.body, props: { items: [], emptyText: 'Nothing here.' } });
    expect(document.querySelector('[data-testid="conversation-list-empty"]')?.textContent).toBe('Nothing here.');
  });
});
