// An in-memory stand-in for the Go app, for unit tests only (never imported by the bundle).
import { BridgeError } from '../lib/bridge/errors';
import type { Transport } from '../lib/bridge/transport';
import type {
  AppInfo,
  ConversationDetail,
  ConversationFilter,
  ConversationSummary,
  Message,
  Session,
  SignInRequest,
} from '../lib/bridge/types';

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

/** seedConversations returns three conversations on different channels. */
export function seedConversations(): ConversationDetail[] {
  const mk = (
    id: string,
    name: string,
    channel: string,
    status: string,
    unread: number,
    texts: [string, 'in' | 'out'][],
  ): ConversationDetail => {
    const messages: Message[] = texts.map(([text, direction], i) => ({
      id: `${id}-m${i}`,
      conversationId: id,
      direction,
      authorName: direction === 'in' ? name : 'Ada Admin',
      text,
      status: direction === 'in' ? 'received' : 'delivered',
      createdAt: at(60 - i),
      attachments: [],
    }));
    const last = messages[messages.length - 1];
    return {
      conversation: {
        id,
        contactId: `ct-${id}`,
        contactName: name,
        channel,
        instance: `${channel}.main`,
        status,
        subject: '',
        lastMessageAt: last.createdAt,
        lastMessageText: last.text,
        unread,
      },
      contact: {
        id: `ct-${id}`,
        name,
        email: '',
        phone: '',
        attributes: {},
        identities: [{ channel, externalId: `${id}-ext`, displayName: name }],
      },
      messages,
    };
  };
  return [
    mk('c1', 'Maria Garcia', 'whatsapp', 'open', 2, [['Hi, my order has not arrived', 'in']]),
    mk('c2', 'John Smith', 'sms.twilio', 'pending', 0, [
      ['Can I change my delivery address?', 'in'],
      ['Sure, what is the new address?', 'out'],
    ]),
    mk('c3', 'Kenji Sato', 'line', 'resolved', 0, [['Thanks!', 'in']]),
  ];
}

/** FakeBackend implements Transport over in-memory data. */
export class FakeBackend implements Transport {
  readonly kind = 'browser' as const;
  info: AppInfo = {
    version: '0.0.0-test',
    mode: 'browser',
    demo: true,
    demoAccounts: [{ email: 'admin@example.com', password: 'switchboard', role: 'admin' }],
  };
  session: Session | null = null;
  data = seedConversations();
  calls: { method: string; args: unknown[] }[] = [];
  private listeners = new Map<string, Set<(d: unknown) => void>>();
  private seq = 0;

  async call<T>(method: string, args: unknown[]): Promise<T> {
    this.calls.push({ method, args });
    const fn = (this.methods as Record<string, (...a: unknown[]) => unknown>)[method];
    if (!fn) throw new BridgeError('internal', `no method ${method}`);
    return fn(...args) as T;
  }

  on(event: string, cb: (data: unknown) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(cb);
    this.listeners.set(event, set);
    return () => set.delete(cb);
  }

  emit(event: string, data: unknown) {
    for (const cb of this.listeners.get(event) ?? []) cb(data);
  }

  private requireSession(): Session {
    if (!this.session) throw new BridgeError('unauthorized', 'Sign in first.');
    return this.session;
  }

  private methods = {
    Ready: () => this.info,
    SignIn: (req: SignInRequest) => {
      if (req.email !== 'admin@example.com' || req.password !== 'switchboard') {
        throw new BridgeError('unauthorized', 'Wrong email or password.');
      }
      this.session = {
        server: req.server,
        embedded: req.server === '',
        user: { id: 'u1', name: 'Ada Admin', email: req.email, role: 'admin' },
      };
      return this.session;
    },
    RestoreSession: () => {
      if (!this.session) throw new BridgeError('not_found', 'Nobody is signed in.');
      return this.session;
    },
    SignOut: () => {
      this.session = null;
      return null;
    },
    Conversations: (f: ConversationFilter): ConversationSummary[] => {
      this.requireSession();
      const q = (f.query ?? '').toLowerCase();
      return this.data
        .map((d) => d.conversation)
        .filter((c) => !f.status || c.status === f.status)
        .filter((c) => !f.channel || c.channel === f.channel)
        .filter((c) => !q || c.contactName.toLowerCase().includes(q) || c.lastMessageText.toLowerCase().includes(q))
        .map((c) => ({ ...c }));
    },
    Conversation: (id: string): ConversationDetail => {
      this.requireSession();
      const d = this.data.find((x) => x.conversation.id === id);
      if (!d) throw new BridgeError('not_found', 'No such conversation.');
      d.conversation.unread = 0;
      return structuredClone(d);
    },
    SendReply: (conversationId: string, text: string): Message => {
      const s = this.requireSession();
      const d = this.data.find((x) => x.conversation.id === conversationId);
      if (!d) throw new BridgeError('not_found', 'No such conversation.');
      const m: Message = {
        id: `${conversationId}-r${++this.seq}`,
        conversationId,
        direction: 'out',
        authorName: s.user.name,
        text,
        status: 'queued',
        createdAt: new Date().toISOString(),
        attachments: [],
      };
      d.messages.push(m);
      d.conversation.lastMessageText = text;
      d.conversation.lastMessageAt = m.createdAt;
      return { ...m };
    },
    SyncStatus: () => ({ state: 'online', lastSeq: this.seq }),
  };
}
