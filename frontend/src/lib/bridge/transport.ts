import { BridgeError, decodeError } from './errors';
import { t } from '../i18n';

/** Transport is how bridge calls and events reach the Go app: Wails bindings or the loopback bridge. */
export interface Transport {
  readonly kind: 'wails' | 'browser';
  call<T>(method: string, args: unknown[]): Promise<T>;
  /** on subscribes to a named event; the returned function unsubscribes. */
  on(event: string, cb: (data: unknown) => void): () => void;
}

// ---------------------------------------------------------------- Wails

type Bound = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface WailsWindow {
  go?: { app?: { App?: Bound } };
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => (() => void) | void;
    EventsOff?: (name: string, ...more: string[]) => void;
  };
}

/** wailsTransport calls window.go.app.App[method] and listens through window.runtime.EventsOn. */
export function wailsTransport(w: WailsWindow): Transport {
  return {
    kind: 'wails',
    async call<T>(method: string, args: unknown[]): Promise<T> {
      const fn = w.go?.app?.App?.[method];
      if (typeof fn !== 'function') {
        throw new BridgeError('internal', `The app does not provide ${method}.`);
      }
      try {
        return (await fn(...args)) as T;
      } catch (e) {
        throw decodeError(e);
      }
    },
    on(event, cb) {
      const off = w.runtime?.EventsOn?.(event, (data: unknown) => cb(data));
      return typeof off === 'function' ? off : () => w.runtime?.EventsOff?.(event);
    },
  };
}

// ---------------------------------------------------------------- browser (loopback)

export const TOKEN_KEY = 'switchboard.bridgeToken';
export const TOKEN_HEADER = 'X-Bridge-Token';
export const CALL_PATH = '/bridge/call';
export const EVENTS_PATH = '/bridge/events';

/** Minimal EventSource surface, so tests can pass a fake. */
export interface EventSourceLike {
  addEventListener(type: string, cb: (ev: MessageEvent) => void): void;
  removeEventListener(type: string, cb: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface BrowserOptions {
  token: string;
  /** Origin prefix for the bridge paths; "" for the page's own origin. */
  base?: string;
  fetch?: typeof fetch;
  eventSource?: (url: string) => EventSourceLike;
}

function statusCode(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return 'internal';
  }
}

/** browserTransport posts calls to /bridge/call and reads events from /bridge/events (SSE). */
export function browserTransport(opts: BrowserOptions): Transport {
  const base = opts.base ?? '';
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const openSource =
    opts.eventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);

  let source: EventSourceLike | null = null;
  const listeners = new Map<string, Set<(data: unknown) => void>>();
  const handlers = new Map<string, (ev: MessageEvent) => void>();

  function ensureSource(): EventSourceLike {
    if (!source) {
      source = openSource(`${base}${EVENTS_PATH}?token=${encodeURIComponent(opts.token)}`);
    }
    return source;
  }

  return {
    kind: 'browser',
    async call<T>(method: string, args: unknown[]): Promise<T> {
      let res: Response;
      try {
        res = await doFetch(`${base}${CALL_PATH}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: opts.token },
          body: JSON.stringify({ method, args }),
        });
      } catch (e) {
        // The loopback server is gone (app closed) or the network failed.
        void e;
        throw new BridgeError('unavailable', t('error.unavailable'));
      }
      const text = await res.text();
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      if (!res.ok) {
        if (typeof body === 'object' && body !== null) throw decodeError(body);
        throw new BridgeError(statusCode(res.status), (typeof body === 'string' && body.trim()) || res.statusText || `HTTP ${res.status}`);
      }
      if (typeof body === 'object' && body !== null && 'result' in body) {
        return (body as { result: T }).result;
      }
      return undefined as T;
    },
    on(event, cb) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
        const handler = (ev: MessageEvent) => {
          let data: unknown = ev.data;
          try {
            data = JSON.parse(ev.data as string);
          } catch {
            // leave as text
          }
          for (const fn of listeners.get(event) ?? []) fn(data);
        };
        handlers.set(event, handler);
        ensureSource().addEventListener(event, handler);
      }
      set.add(cb);
      return () => {
        const s = listeners.get(event);
        if (!s) return;
        s.delete(cb);
        if (s.size === 0) {
          listeners.delete(event);
          const h = handlers.get(event);
          handlers.delete(event);
          if (h && source) source.removeEventListener(event, h);
          if (listeners.size === 0 && source) {
            source.close();
            source = null;
          }
        }
      };
    },
  };
}

/**
 * takeToken reads ?token= from the address, keeps it in sessionStorage and strips it from
 * the address bar. Without one in the address it returns the stored token ("" if none).
 */
export function takeToken(loc: Location = window.location, storage: Storage = window.sessionStorage): string {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      storage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // storage may be unavailable; the token still works for this page
    }
    url.searchParams.delete('token');
    try {
      window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    } catch {
      // ignore: only cosmetic
    }
    return fromUrl;
  }
  try {
    return storage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** detectTransport picks Wails bindings when window.go exists, else the loopback bridge. */
export function detectTransport(): Transport {
  const w = window as unknown as WailsWindow;
  if (w.go) return wailsTransport(w);
  return browserTransport({ token: takeToken() });
}
