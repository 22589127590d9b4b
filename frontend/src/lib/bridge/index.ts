// The only module that talks to Go. Every bound method of app.App has one typed function here.
import { decodeError } from './errors';
import { detectTransport, type Transport } from './transport';
import type {
  AppInfo,
  BridgeEvents,
  ConversationDetail,
  ConversationFilter,
  ConversationSummary,
  Message,
  Session,
  SignInRequest,
  SyncInfo,
} from './types';

export * from './types';
export { BridgeError, decodeError } from './errors';
export { browserTransport, wailsTransport, takeToken, type Transport } from './transport';

let transport: Transport | null = null;

/** setTransport replaces the transport (tests); null goes back to detection on next use. */
export function setTransport(t: Transport | null): void {
  transport = t;
}

function current(): Transport {
  if (!transport) transport = detectTransport();
  return transport;
}

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  try {
    return await current().call<T>(method, args);
  } catch (e) {
    throw decodeError(e);
  }
}

/** Ready tells the app the UI is up and returns what the UI needs to know about it. */
export const Ready = () => call<AppInfo>('Ready');
/** SignIn signs in to the embedded engine (server "") or to a team server by URL. */
export const SignIn = (req: SignInRequest) => call<Session>('SignIn', req);
/** RestoreSession returns the saved session; rejects with code not_found when nobody is signed in. */
export const RestoreSession = () => call<Session>('RestoreSession');
/** SignOut ends the session. */
export const SignOut = () => call<void>('SignOut');
/** Conversations lists conversations from the local cache. */
export const Conversations = (filter: ConversationFilter) =>
  call<ConversationSummary[] | null>('Conversations', filter).then((r) => r ?? []);
/** Conversation returns one conversation with its contact and messages. */
export const Conversation = (id: string) => call<ConversationDetail>('Conversation', id);
/** SendReply sends an agent reply; it may come back queued while offline. */
export const SendReply = (conversationId: string, text: string) => call<Message>('SendReply', conversationId, text);
/** SyncStatus returns the connection state and the last applied change sequence. */
export const SyncStatus = () => call<SyncInfo>('SyncStatus');

/** on subscribes to an app event ("sync", "connection"); the returned function unsubscribes. */
export function on<K extends keyof BridgeEvents>(event: K, cb: (data: BridgeEvents[K]) => void): () => void {
  return current().on(event, (d) => cb(d as BridgeEvents[K]));
}
