// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import TimelineMessage from './TimelineMessage.svelte';
import type { TimelineItem } from '../lib/bridge';

let app: Record<string, unknown> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
});

type Att = { url: string; type: string; name: string; size?: number };

function message(atts: Att[]): TimelineItem {
  return {
    id: 'm1', conversationId: 'c1', contactId: 'ct1', channel: 'custom', direction: 'in', text: 'look', authorName: 'Mallory',
    attachments: atts.map((a) => ({ size: 0, ...a })), status: 'received', createdAt: '2026-01-01T10:00:00Z', updatedAt: '2026-01-01T10:00:00Z',
  } as unknown as TimelineItem;
}

describe('TimelineMessage attachments', () => {
  it('links and shows web addresses only; names anything else as plain text', () => {
    app = mount(TimelineMessage, {
      target: document.body,
      props: {
        now: new Date('2026-01-01T12:00:00Z'),
        m: message([
          { url: 'javascript:alert(document.domain)', type: 'image/png', name: 'evil.png' },
          { url: 'javascript:alert(1)', type: 'application/pdf', name: 'evil.pdf' },
          { url: 'data:text/html,<script>alert(1)</script>', type: 'text/html', name: 'page.html' },
          { url: '/media/me_1', type: 'image/png', name: 'relative.png' },
          { url: 'https://cdn.example.com/ok.png', type: 'image/png', name: 'ok.png' },
          { url: 'https://cdn.example.com/ok.pdf', type: 'application/pdf', name: 'ok.pdf', size: 2048 },
          { url: 'https://cdn.example.com/pic.svg', type: 'image/svg+xml', name: 'pic.svg' },
        ]),
      },
    });
    for (const el of document.querySelectorAll('a, img')) {
      const url = el.getAttribute('href') ?? el.getAttribute('src') ?? '';
      expect(url, el.outerHTML).toMatch(/^https:\/\/cdn\.example\.com\//);
    }
    expect([...document.querySelectorAll('img')].map((i) => i.getAttribute('src'))).toEqual(['https://cdn.example.com/ok.png']);
    const unlinked = [...document.querySelectorAll('[data-testid="attachment-unlinked"]')].map((e) => e.textContent?.trim());
    expect(unlinked).toEqual(['evil.png', 'evil.pdf', 'page.html', 'relative.png']);
    expect(document.querySelectorAll('[data-testid="attachment-file"]').length).toBe(2); // ok.pdf, pic.svg as a file
    expect(document.body.innerHTML).not.toContain('javascript:');
  });
});
