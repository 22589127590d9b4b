/**
 * BridgeError is every failure of a bridge call, with one of the backend's error codes and,
 * when the engine named it, a reason (no_capacity, task_taken …) the UI translates.
 */
export class BridgeError extends Error {
  readonly code: string;
  readonly reason: string;

  constructor(code: string, message: string, reason = '') {
    super(message);
    this.name = 'BridgeError';
    this.code = code || 'internal';
    this.reason = reason;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function fromObject(v: Record<string, unknown>): BridgeError | null {
  // Browser mode wraps the error: {"error": {"code", "message"}}.
  if (isRecord(v.error)) return fromObject(v.error);
  if (typeof v.code === 'string' || typeof v.message === 'string') {
    const code = typeof v.code === 'string' && v.code ? v.code : 'internal';
    const message = typeof v.message === 'string' && v.message ? v.message : code;
    return new BridgeError(code, message, typeof v.reason === 'string' ? v.reason : '');
  }
  return null;
}

/**
 * decodeError turns whatever a bridge call rejected with into a BridgeError:
 * Wails' bare string holding JSON {code, message}, browser mode's {error: {code, message}},
 * a plain string (code "internal"), or any other thrown value.
 */
export function decodeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  if (typeof e === 'string') {
    const s = e.trim();
    if (s.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(s);
        if (isRecord(parsed)) {
          const be = fromObject(parsed);
          if (be) return be;
        }
      } catch {
        // not JSON: fall through
      }
    }
    return new BridgeError('internal', e);
  }
  if (isRecord(e) && !(e instanceof Error)) {
    const be = fromObject(e);
    if (be) return be;
  }
  // Wails' runtime may reject with an Error whose message is that JSON string.
  if (e instanceof Error) {
    if (e.message.trim().startsWith('{')) return decodeError(e.message);
    return new BridgeError('internal', e.message);
  }
  return new BridgeError('internal', String(e));
}
