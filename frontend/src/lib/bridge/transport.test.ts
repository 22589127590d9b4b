// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { BridgeError } from './errors';
import { browserTransport, takeToken, wailsTransport, type EventSourceLike } from './transport';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

describe('browserTransport.call', () => {
  it('posts the method and positional args with the token header', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { result: { id: 'm1' } }));
    const tr = browserTransport({ token: 'XYZ', fetch });
    const out = await tr.call('SendReply', ['c1', 'hello']);
    expect(out).toEqual({ id: 'm1' });
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/bridge/call');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['X-Bridge-Token']).toBe('XYZ');
    expect(JSON.parse(init.body as string)).toEqual({ method: 'SendReply', args: ['c1', 'hello'] });
  });

  it('returns undefined for an empty or null result', async () => {
    const tr = browserTransport({ token: 't', fetch: async () => jsonResponse(200, { result: null }) });
    expect(await tr.call('SignOut', [])).toBeNull();
    const tr2 = browserTransport({ token: 't', fetch: async () => new Response('', { status: 204 }) });
    expect(await tr2.call('SignOut', [])).toBeUndefined();
  });

  it('decodes a JSON error body', async () => {
    const tr = browserTransport({
      token: 't',
      fetch: async () => jsonResponse(401, { error: { code: 'unauthorized', message: 'Wrong email or password.' } }),
    });
    await expect(tr.call('SignIn', [{}])).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'Wrong email or password.',
    });
  });

  it('maps a non-JSON error body by status', async () => {
    const tr = browserTransport({ token: 'bad', fetch: async () => new Response('forbidden\n', { status: 403 }) });
    const err = (await tr.call('Ready', []).catch((e: unknown) => e)) as BridgeError;
    expect(err).toBeInstanceOf(BridgeError);
    expect(err.code).toBe('forbidden');
    expect(err.message).toBe('forbidden');
  });

  it('reports a network failure as unavailable', async () => {
    const tr = browserTransport({
      token: 't',
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(tr.call('Ready', [])).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('browserTransport.on', () => {
  it('opens one EventSource with the token and dispatches parsed data by name', () => {
    const handlers = new Map<string, (ev: MessageEvent) => void>();
    const closed = vi.fn();
    const urls: string[] = [];
    const es: EventSourceLike = {
      addEventListener: (type, cb) => handlers.set(type, cb),
      removeEventListener: (type) => handlers.delete(type),
      close: closed,
    };
    const tr = browserTransport({
      token: 'a b',
      fetch: vi.fn(),
      eventSource: (url) => {
        urls.push(url);
        return es;
      },
    });
    const got: unknown[] = [];
    const off1 = tr.on('sync', (d) => got.push(d));
    const off2 = tr.on('connection', (d) => got.push(d));
    expect(urls).toEqual(['/bridge/events?token=a%20b']);
    handlers.get('sync')!({ data: '{"lastSeq":7}' } as MessageEvent);
    handlers.get('connection')!({ data: '{"state":"offline"}' } as MessageEvent);
    expect(got).toEqual([{ lastSeq: 7 }, { state: 'offline' }]);
    off1();
    expect(closed).not.toHaveBeenCalled();
    off2();
    expect(closed).toHaveBeenCalledTimes(1);
  });
});

describe('wailsTransport', () => {
  it('calls window.go.app.App[method] with positional args', async () => {
    const SendReply = vi.fn(async (id: unknown, text: unknown) => ({ id: 'm', conversationId: id, text }));
    const tr = wailsTransport({ go: { app: { App: { SendReply } } } });
    expect(await tr.call('SendReply', ['c1', 'hi'])).toEqual({ id: 'm', conversationId: 'c1', text: 'hi' });
    expect(SendReply).toHaveBeenCalledWith('c1', 'hi');
  });

  it('decodes the rejected JSON string', async () => {
    const RestoreSession = vi.fn(() => Promise.reject('{"code":"not_found","message":"Nobody is signed in."}'));
    const tr = wailsTransport({ go: { app: { App: { RestoreSession } } } });
    await expect(tr.call('RestoreSession', [])).rejects.toMatchObject({ code: 'not_found' });
  });

  it('subscribes through runtime.EventsOn', () => {
    const off = vi.fn();
    let fire: (d: unknown) => void = () => {};
    const tr = wailsTransport({
      runtime: {
        EventsOn: (_name, cb) => {
          fire = cb;
          return off;
        },
      },
    });
    const got: unknown[] = [];
    const unsubscribe = tr.on('sync', (d) => got.push(d));
    fire({ lastSeq: 3 });
    expect(got).toEqual([{ lastSeq: 3 }]);
    unsubscribe();
    expect(off).toHaveBeenCalled();
  });
});

describe('takeToken', () => {
  it('keeps the token from the address, strips it, and finds it again later', () => {
    window.history.replaceState(null, '', '/?token=XYZ&x=1#h');
    sessionStorage.clear();
    expect(takeToken(window.location, sessionStorage)).toBe('XYZ');
    expect(window.location.search).toBe('?x=1');
    expect(window.location.hash).toBe('#h');
    expect(sessionStorage.getItem('switchboard.bridgeToken')).toBe('XYZ');
    expect(takeToken(window.location, sessionStorage)).toBe('XYZ');
  });
});
