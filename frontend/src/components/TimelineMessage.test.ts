// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount } from 'svelte';
import TimelineMessage from './TimelineMessage.svelte';
import { setTransport, type TimelineItem } from '../lib/bridge';
import { $, until } from '../test/dom';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';
let asked: string[] = [];
let app: Record<string, unknown> | null = null;

// The app reads kept files with the session; here it answers a picture
// for /media/me_* and refuses the rest as the engine would.
beforeEach(() => {
  asked = [];
  setTransport({
    kind: 'browser',
    on: () => () => {},
    async call<T>(method: string, args: unknown[]): Promise<T> {
      const path = String(args[0]);
      asked.push(`${method} ${path}`);
      if (method === 'Media' && path.startsWith('/media/me_')) return PNG as T;
      throw new Error(JSON.stringify({ code: 'not_found', message: 'The file does not exist.' }));
    },
  });
});

afterEach(() => {
  if (app) unmount(app);
  app = null;
  setTransport(null);
  document.body.innerHTML = '';
});

type Att = { url: string; type: string; name: string; size?: number; state?: string; error?: string };

function message(atts: Att[], extra: Record<string, unknown> = {}): TimelineItem {
  return {
    id: 'm1', conversationId: 'c1', contactId: 'ct1', channel: 'custom', direction: 'in', text: 'look', authorName: 'Mallory',
    attachments: atts.map((a) => ({ size: 0, ...a })), status: 'received', createdAt: '2026-01-01T10:00:00Z', updatedAt: '2026-01-01T10:00:00Z',
    ...extra,
  } as unknown as TimelineItem;
}

describe('TimelineMessage attachments', () => {
  it('links and shows web addresses only; names anything else as plain text', async () => {
    app = mount(TimelineMessage, {
      target: document.body,
      props: {
        now: new Date('2026-01-01T12:00:00Z'),
        m: message([
          { url: 'javascript:alert(document.domain)', type: 'image/png', name: 'evil.png' },
          { url: 'javascript:alert(1)', type: 'application/pdf', name: 'evil.pdf' },
          { url: 'data:text/html,<script>alert(1)</script>', type: 'text/html', name: 'page.html' },
          { url: '/media/me_1', type: 'image/png', name: 'kept.png' },
          { url: 'https://cdn.example.com/ok.png', type: 'image/png', name: 'ok.png' },
          { url: 'https://cdn.example.com/ok.pdf', type: 'application/pdf', name: 'ok.pdf', size: 2048 },
          { url: 'https://cdn.example.com/pic.svg', type: 'image/svg+xml', name: 'pic.svg' },
        ]),
      },
    });
    // The kept picture comes through the app as data, never as an address.
    await until(() => document.querySelectorAll('img').length === 2);
    expect(asked).toEqual(['Media /media/me_1']);
    for (const el of document.querySelectorAll('a[href], img')) {
      const url = el.getAttribute('href') ?? el.getAttribute('src') ?? '';
      expect(url, el.outerHTML).toMatch(/^https:\/\/cdn\.example\.com\/|^blob:/);
    }
    // The kept picture shows from the page's own blob, the web one from its address.
    const srcs = [...document.querySelectorAll('img')].map((i) => i.getAttribute('src') ?? '');
    expect(srcs).toHaveLength(2);
    expect(srcs[0]).toMatch(/^blob:/);
    expect(srcs[1]).toBe('https://cdn.example.com/ok.png');
    const unlinked = [...document.querySelectorAll('[data-testid="attachment-unlinked"]')].map((e) => e.textContent?.trim());
    expect(unlinked).toEqual(['evil.png', 'evil.pdf', 'page.html']);
    expect(document.querySelectorAll('[data-testid="attachment-file"]').length).toBe(2); // ok.pdf, pic.svg as a file
    expect(document.body.innerHTML).not.toContain('javascript:');
  });
});

describe('TimelineMessage kept files', () => {
  it('opens a kept picture full size, saves other files through the app and says what is pending', async () => {
    app = mount(TimelineMessage, {
      target: document.body,
      props: {
        now: new Date('2026-01-01T12:00:00Z'),
        m: message(
          [
            { url: '/media/me_photo', type: 'image/jpeg', name: 'dent.jpg' },
            { url: '/media/me_pdf', type: 'application/pdf', name: 'invoice.pdf', size: 2048 },
            { url: '/media/gone', type: 'application/pdf', name: 'other.pdf' },
            { url: '/media/me_wait', type: 'image/png', name: 'later.png', state: 'fetching' },
            { url: '/media/me_bad', type: 'image/png', name: 'expired.png', state: 'failed', error: 'The platform no longer has the file.' },
          ],
          { cc: ['ivan@partner.example'], problem: 'The mail has no blank line after its headers.', automatic: true },
        ),
      },
    });
    const thumb = await until(() => $('attachment-image'));
    thumb.click();
    const full = await until(() => $('image-full'));
    // The picture's bytes are the page's own blob, never a data: address.
    expect(full.getAttribute('src')).toMatch(/^blob:/);

    const files = [...document.querySelectorAll<HTMLButtonElement>('[data-testid="attachment-file"]')];
    expect(files.map((f) => f.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['invoice.pdf 2 KB', 'other.pdf']);
    files[0].click();
    await until(() => asked.includes('Media /media/me_pdf'));
    files[1].click();
    const err = await until(() => $('attachment-error'));
    expect(err.textContent).toContain('The file does not exist.');
    // Pending and failed files are named with their state; nothing is asked for them.
    const pending = [...document.querySelectorAll<HTMLElement>('[data-testid="attachment-pending"]')];
    expect(pending.map((p) => p.dataset.state)).toEqual(['fetching', 'failed']);
    expect(pending[1].textContent).toContain('The platform no longer has the file.');
    expect(asked.some((a) => a.includes('me_wait') || a.includes('me_bad'))).toBe(false);

    expect($('message-cc')?.textContent).toContain('ivan@partner.example');
    expect($('message-problem')?.textContent).toContain('no blank line');
    expect($('automatic-label')).toBeTruthy();
  });
});
