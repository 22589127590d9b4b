// An in-memory stand-in for the Go app, for unit tests only (never imported by the bundle).
import { BridgeError } from '../lib/bridge/errors';
import type { Transport } from '../lib/bridge/transport';
import type { ChannelStatus, ConnectorInfo, Label } from '../lib/bridge/admin';
import type {
  AgentStatus,
  AppInfo,
  AudioDeviceList,
  Settings,
  SyncInfo,
  CannedResponse,
  ConversationDetail,
  ConversationFilter,
  ConversationSummary,
  FlowInstance,
  FlowTestResult,
  HeldReply,
  Message,
  MissedOffer,
  Offer,
  SearchHit,
  Session,
  SignInRequest,
  Task,
  TimelineItem,
  TransferChoices,
  TransferTarget,
} from '../lib/bridge/types';

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

const ME = 'w1';

function mkConversation(
  id: string,
  name: string,
  channel: string,
  status: string,
  unread: number,
  texts: [string, 'in' | 'out'][],
  opts: { contactId?: string; minutesAgo?: number } = {},
): ConversationDetail {
  const base = opts.minutesAgo ?? 60;
  const contactId = opts.contactId ?? `ct-${id}`;
  const messages: Message[] = texts.map(([text, direction], i) => ({
    id: `${id}-m${i}`,
    conversationId: id,
    direction,
    authorName: direction === 'in' ? name : 'Ada Admin',
    text,
    status: direction === 'in' ? 'received' : 'delivered',
    createdAt: at(base - i),
    attachments: [],
  }));
  const last = messages[messages.length - 1];
  return {
    conversation: {
      id,
      contactId,
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
      id: contactId,
      name,
      email: '',
      phone: '',
      attributes: {},
      identities: [{ channel, externalId: `${id}-ext`, displayName: name }],
    },
    messages,
    timeline: null,
    contactConversations: null,
  };
}

/** seedConversations returns three conversations on different channels. */
export function seedConversations(): ConversationDetail[] {
  return [
    mkConversation('c1', 'Maria Garcia', 'whatsapp.cloud', 'open', 2, [['Hi, my order has not arrived', 'in']]),
    mkConversation('c2', 'John Smith', 'sms.twilio', 'pending', 0, [
      ['Can I change my delivery address?', 'in'],
      ['Sure, what is the new address?', 'out'],
    ]),
    mkConversation('c3', 'Kenji Sato', 'line', 'resolved', 0, [['Thanks!', 'in']]),
  ];
}

/**
 * seedHistory returns an older, resolved SMS conversation of Maria Garcia (the contact of c1),
 * three days ago: with it, her timeline runs SMS then WhatsApp.
 */
export function seedHistory(): ConversationDetail[] {
  const d = mkConversation(
    'c0',
    'Maria Garcia',
    'sms.twilio',
    'resolved',
    0,
    [
      ['Do you ship to Valencia?', 'in'],
      ['Yes, in 2 days.', 'out'],
    ],
    { contactId: 'ct-c1', minutesAgo: 3 * 24 * 60 },
  );
  return [d];
}

/** seedCanned returns canned responses with placeholders. */
export function seedCanned(): CannedResponse[] {
  return [
    { id: 'k1', shortcut: 'hello', title: 'Greeting', text: 'Hi {{contact.firstName}}, this is {{agent.name}}. How can I help?' },
    { id: 'k2', shortcut: 'refund', title: 'Refund policy', text: 'Refunds take 5 days, {{ contact.name }}.' },
    { id: 'k3', shortcut: 'bye', title: 'Goodbye', text: 'Thanks for writing to us!' },
  ];
}

/** FakeBackend implements Transport over in-memory data. */
export class FakeBackend implements Transport {
  readonly kind = 'browser' as const;
  info: AppInfo = {
    version: '0.0.0-test',
    build: { version: '0.0.0-test', commit: 'abc123def456', date: '2025-05-20', go: 'go1.26', platform: 'linux/amd64' },
    settings: {
      serverUrl: '',
      audio: { input: '', output: '', ringing: '' },
      notifications: true,
      sound: true,
      theme: 'system',
      language: '',
      startAtLogin: false,
    },
    mode: 'browser',
    demo: true,
    demoAccounts: [
      { email: 'admin@example.com', password: 'switchboard', role: 'admin' },
      { email: 'agent@example.com', password: 'switchboard', role: 'agent' },
    ],
  };
  session: Session | null = null;
  data = seedConversations();
  /** Open tasks by conversation id. */
  tasks: Record<string, Task> = {
    c1: this.task('t1', 'c1', 'assigned', ME),
    c2: this.task('t2', 'c2', 'pending', ''),
  };
  offers: Offer[] = [];
  canned = seedCanned();
  agent: AgentStatus = {
    worker: { id: ME, name: 'Ada Admin', activity: 'Available', available: true },
    activities: [
      { name: 'Available', available: true },
      { name: 'Break', available: false },
      { name: 'Offline', available: false },
    ],
    dispositions: ['issue_solved', 'needs_follow_up', 'spam'],
  };
  /** Missed offers MissedOffers returns (newest first) and held replies HeldReplies returns. */
  missed: MissedOffer[] = [];
  held: HeldReply[] = [];
  targets: TransferChoices = {
    workers: [{ id: 'w2', name: 'Bob Agent', available: true }],
    queues: [
      { id: 'q1', name: 'Support' },
      { id: 'q2', name: 'Billing' },
    ],
  };
  flowInstances: FlowInstance[] = [
    { key: 'sms.twilio/main', connector: 'sms.twilio', instance: 'main' },
    { key: 'whatsapp.cloud/main', connector: 'whatsapp.cloud', instance: 'main' },
  ];
  /** Saved flows by instance key; instances without one get defaultFlow at revision 0. */
  flows: Record<string, { flow: unknown; revision: number }> = {};
  defaultFlow: unknown = {
    name: 'Default',
    widgets: [
      { name: 'trigger', type: 'trigger', transitions: { incomingMessage: 'agent' } },
      { name: 'agent', type: 'send-to-agent', properties: { attributes: { department: 'support' } } },
    ],
  };
  /** When set, TestFlow answers with it instead of walking the flow. */
  flowTest: FlowTestResult | null = null;
  /** Extra SyncStatus fields (retryAt, pending, …). */
  sync: Partial<SyncInfo> = {};
  audioDevices: AudioDeviceList = { inputs: ['Built-in Microphone', 'USB Headset Mic'], outputs: ['Speakers', 'USB Headset'] };
  /** False makes AcceptOffer, RejectOffer and the task actions fail with code unavailable. */
  online = true;
  calls: { method: string; args: unknown[] }[] = [];
  private listeners = new Map<string, Set<(d: unknown) => void>>();
  private seq = 0;

  private task(id: string, conversationId: string, state: Task['state'], workerId: string): Task {
    return {
      id,
      channel: 'chat',
      state,
      queueId: 'q1',
      queueName: 'Support',
      workerId,
      attributes: {},
      priority: 0,
      createdAt: at(30),
      assignedAt: workerId ? at(20) : undefined,
    };
  }

  /** failNext makes the next call of a method fail with the given error (as if the engine refused it). */
  failNext: Record<string, BridgeError> = {};

  async call<T>(method: string, args: unknown[]): Promise<T> {
    this.calls.push({ method, args });
    const fail = this.failNext[method];
    if (fail) {
      delete this.failNext[method];
      throw fail;
    }
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

  /** signInAs puts a session in place, as if restored. */
  signInAs(role: 'agent' | 'admin' | 'supervisor' = 'admin'): Session {
    const name = role === 'agent' ? 'Alex Agent' : 'Ada Admin';
    this.session = { server: '', embedded: true, user: { id: 'u1', name, email: `${role}@example.com`, role } };
    if (this.agent.worker) this.agent.worker.name = name;
    return this.session;
  }

  /** addOffer makes a new offer for a conversation, expiring after ttlMs; emit sends the "offer" event. */
  addOffer(conversationId: string, ttlMs = 30_000, emit = true): Offer {
    const d = this.find(conversationId);
    const now = Date.now();
    const o: Offer = {
      reservationId: `r${++this.seq}`,
      taskId: this.tasks[conversationId]?.id ?? `t-${conversationId}`,
      conversationId,
      channel: d.conversation.channel,
      taskChannel: 'chat',
      contactName: d.conversation.contactName,
      preview: d.messages[0]?.text ?? '',
      queueName: 'Support',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
    };
    this.tasks[conversationId] ??= this.task(o.taskId, conversationId, 'reserved', '');
    this.tasks[conversationId].state = 'reserved';
    this.offers.push(o);
    if (emit) this.emit('offer', { offer: o });
    return o;
  }

  private requireSession(): Session {
    if (!this.session) throw new BridgeError('unauthorized', 'Sign in first.');
    return this.session;
  }

  private requireOnline() {
    if (!this.online) throw new BridgeError('unavailable', 'Switchboard is offline.');
  }

  private find(id: string): ConversationDetail {
    const d = this.data.find((x) => x.conversation.id === id);
    if (!d) throw new BridgeError('not_found', 'No such conversation.');
    return d;
  }

  private summary(c: ConversationSummary): ConversationSummary {
    const task = this.tasks[c.id];
    if (!task) return { ...c };
    return {
      ...c,
      taskId: task.id,
      taskState: task.state,
      queueName: task.queueName,
      assigneeName: task.workerId === ME ? this.agent.worker?.name : undefined,
    };
  }

  private inScope(c: ConversationSummary, scope: string | undefined): boolean {
    const task = this.tasks[c.id];
    if (scope === 'mine') return !!task && task.workerId === ME && (task.state === 'assigned' || task.state === 'wrapping');
    if (scope === 'queues') return !!task;
    return true;
  }

  private methods = {
    Ready: () => this.info,
    SignIn: (req: SignInRequest) => {
      const account = this.info.demoAccounts.find((a) => a.email === req.email && a.password === req.password);
      if (!account) throw new BridgeError('unauthorized', 'Wrong email or password.');
      const s = this.signInAs(account.role);
      s.server = req.server;
      s.embedded = req.server === '';
      return s;
    },
    RestoreSession: () => {
      if (!this.session) throw new BridgeError('not_found', 'Nobody is signed in.');
      return this.session;
    },
    SignOut: () => {
      this.session = null;
      return null;
    },
    ChangePassword: (req: { current: string; new: string }) => {
      const s = this.requireSession();
      this.requireOnline();
      const account = this.info.demoAccounts.find((a) => a.email === s.user.email);
      if (account && account.password !== req.current) throw new BridgeError('forbidden', 'The current password is not correct.');
      if (req.new.length < 8) throw new BridgeError('invalid', 'A password needs at least 8 characters.');
      if (account) account.password = req.new;
      return null;
    },
    Conversations: (f: ConversationFilter): ConversationSummary[] => {
      const s = this.requireSession();
      if (f.scope === 'all' && s.user.role === 'agent') throw new BridgeError('forbidden', 'Only supervisors see every conversation.');
      const q = (f.query ?? '').toLowerCase();
      return this.data
        .map((d) => d.conversation)
        .filter((c) => this.inScope(c, f.scope))
        .filter((c) => !f.status || c.status === f.status)
        .filter((c) => !f.channel || c.channel === f.channel || c.channel.startsWith(`${f.channel}.`))
        .filter((c) => !f.label || (c.labels ?? []).includes(f.label))
        .filter((c) => !q || c.contactName.toLowerCase().includes(q) || c.lastMessageText.toLowerCase().includes(q))
        .map((c) => this.summary(c));
    },
    Conversation: (id: string): ConversationDetail => {
      this.requireSession();
      const d = this.find(id);
      d.conversation.unread = 0;
      const mine = this.data.filter((x) => x.conversation.contactId === d.conversation.contactId);
      const timeline: TimelineItem[] = mine
        .flatMap((x) => x.messages.map((m) => ({ ...m, conversationId: x.conversation.id, channel: x.conversation.channel })))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const contactConversations = mine
        .map((x) => this.summary(x.conversation))
        .sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt));
      return structuredClone({
        conversation: this.summary(d.conversation),
        contact: d.contact,
        messages: d.messages,
        timeline,
        contactConversations,
        task: this.tasks[id] ?? null,
      });
    },
    SendReply: (conversationId: string, text: string): Message => this.addMessage(conversationId, text, false),
    SendNote: (conversationId: string, text: string): Message => this.addMessage(conversationId, text, true),
    SendReplyWith: (conversationId: string, text: string, files: { name: string; type: string; data: string }[]): Message => {
      this.requireOnline();
      const m = this.addMessage(conversationId, text, false);
      m.attachments = files.map((f, i) => ({ url: `/media/${m.id}-${i}`, name: f.name, type: f.type, size: atob(f.data).length }));
      return m;
    },
    SetConversationStatus: (conversationId: string, status: string): ConversationSummary => {
      this.requireSession();
      this.requireOnline();
      const d = this.find(conversationId);
      d.conversation.status = status;
      return this.summary(d.conversation);
    },
    SyncStatus: () => ({ state: this.online ? 'online' : 'offline', lastSeq: this.seq, ...this.sync }),
    ReconnectNow: () => null,
    Settings: () => structuredClone(this.info.settings),
    SaveSettings: (next: Settings) => {
      if (!['system', 'light', 'dark'].includes(next.theme)) throw new BridgeError('invalid', `The theme must be one of system, light, dark, not "${next.theme}".`);
      if (next.serverUrl && !/^https?:\/\/[^/]/.test(next.serverUrl)) throw new BridgeError('invalid', `"${next.serverUrl}" is not a server address.`);
      this.info.settings = structuredClone(next);
      return structuredClone(next);
    },
    AudioDevices: () => structuredClone(this.audioDevices),
    CopyDiagnostics: () => ({ text: `Switchboard diagnostics\nVersion: ${this.info.build.version}`, copied: true }),
    Offers: (): Offer[] => {
      this.requireSession();
      return this.offers.filter((o) => new Date(o.expiresAt).getTime() > Date.now()).map((o) => ({ ...o }));
    },
    AcceptOffer: (reservationId: string) => {
      this.requireSession();
      this.requireOnline();
      const o = this.takeOffer(reservationId);
      const task = this.tasks[o.conversationId];
      if (task) Object.assign(task, { state: 'assigned', workerId: ME, assignedAt: new Date().toISOString() });
      return null;
    },
    RejectOffer: (reservationId: string) => {
      this.requireSession();
      this.requireOnline();
      const o = this.takeOffer(reservationId);
      const task = this.tasks[o.conversationId];
      if (task) task.state = 'pending';
      return null;
    },
    AgentState: (): AgentStatus => {
      this.requireSession();
      return structuredClone(this.agent);
    },
    SetActivity: (name: string): AgentStatus => {
      this.requireSession();
      this.requireOnline();
      const a = this.agent.activities?.find((x) => x.name === name);
      if (!a || !this.agent.worker) throw new BridgeError('invalid', `No activity ${name}.`);
      this.agent.worker.activity = a.name;
      this.agent.worker.available = a.available;
      return structuredClone(this.agent);
    },
    WrapUp: (taskId: string, disposition: string) => {
      this.requireOnline();
      Object.assign(this.findTask(taskId), { state: 'wrapping', disposition, wrapUpAt: new Date().toISOString() });
      return null;
    },
    TakeTask: (taskId: string) => {
      this.requireOnline();
      const task = this.findTask(taskId);
      if (task.state === 'assigned' || task.state === 'wrapping') throw new BridgeError('conflict', `Task ${taskId} is taken.`, 'task_taken');
      Object.assign(task, { state: 'assigned', workerId: ME, assignedAt: new Date().toISOString() });
      return null;
    },
    AssignTask: (taskId: string, workerId: string) => {
      this.requireOnline();
      if (this.session?.user.role === 'agent') throw new BridgeError('forbidden', 'Supervisors assign.');
      Object.assign(this.findTask(taskId), { state: 'assigned', workerId, assignedAt: new Date().toISOString() });
      return null;
    },
    MissedOffers: (): MissedOffer[] => structuredClone(this.missed),
    DismissMissedOffer: (id: string) => {
      this.missed = this.missed.filter((m) => m.reservationId !== id);
      return null;
    },
    HeldReplies: (): HeldReply[] => structuredClone(this.held),
    DiscardHeldReply: (id: string) => {
      this.held = this.held.filter((h) => h.clientId !== id);
      return null;
    },
    Typing: () => null,
    CompleteTask: (taskId: string) => {
      this.requireOnline();
      const task = this.findTask(taskId);
      for (const [k, v] of Object.entries(this.tasks)) if (v === task) delete this.tasks[k];
      return null;
    },
    TransferTargets: (): TransferChoices => structuredClone(this.targets),
    TransferTask: (taskId: string, target: TransferTarget) => {
      this.requireOnline();
      const task = this.findTask(taskId);
      if (target.workerId) Object.assign(task, { state: 'reserved', workerId: target.workerId });
      else Object.assign(task, { state: 'pending', workerId: '', queueId: target.queueId });
      return null;
    },
    CannedResponses: (): CannedResponse[] => structuredClone(this.canned),
    SearchMessages: (query: string) => {
      this.requireSession();
      const q = query.trim().toLowerCase();
      const hits: SearchHit[] = [];
      for (const d of this.data) {
        for (const m of d.messages) {
          const i = m.text.toLowerCase().indexOf(q);
          if (!q || i < 0) continue;
          hits.push({
            messageId: m.id,
            conversationId: d.conversation.id,
            contactName: d.conversation.contactName,
            channel: d.conversation.channel,
            direction: m.direction,
            snippet: `${m.text.slice(0, i)}[${m.text.slice(i, i + q.length)}]${m.text.slice(i + q.length)}`,
            createdAt: m.createdAt,
          });
        }
      }
      return { hits, tookMs: 0.4 };
    },
    FlowInstances: (): FlowInstance[] => {
      this.requireAdmin();
      return structuredClone(this.flowInstances);
    },
    GetFlow: (key: string) => {
      this.requireAdmin();
      if (!this.flowInstances.some((i) => i.key === key)) throw new BridgeError('not_found', `No channel instance ${key}.`);
      const saved = this.flows[key];
      return structuredClone({ key, flow: saved?.flow ?? this.defaultFlow, revision: saved?.revision ?? 0, isDefault: !saved });
    },
    SaveFlow: (key: string, json: string) => {
      this.requireAdmin();
      this.checkFlow(json);
      const revision = (this.flows[key]?.revision ?? 0) + 1;
      this.flows[key] = { flow: JSON.parse(json), revision };
      return { revision };
    },
    SetupStatus: () => ({ needsAdmin: this.needsAdmin }),
    CreateFirstAdmin: (req: { server: string; name: string; email: string; password: string }) => {
      if (!this.needsAdmin) throw new BridgeError('conflict', 'This workspace already has an admin; sign in instead.');
      this.needsAdmin = false;
      const s = this.signInAs('admin');
      s.user = { ...s.user, name: req.name, email: req.email };
      return s;
    },
    SetConversationLabels: (id: string, labels: string[]) => {
      this.requireSession();
      this.find(id).conversation.labels = [...labels];
      return null;
    },
    Labels: () => {
      this.requireSession();
      return structuredClone(this.labels);
    },
    Connectors: () => {
      this.requireAdmin();
      return structuredClone(this.connectors);
    },
    ChannelStatuses: () => {
      this.requireAdmin();
      return structuredClone(this.channels);
    },
    EngineURL: () => 'http://127.0.0.1:8080',
    TestChannel: (connector: string, instance: string, config: Record<string, unknown> | null) => {
      this.requireAdmin();
      const ok = !config || config.botToken !== 'wrong';
      return { ok, detail: ok ? `${connector}/${instance} answered` : 'Telegram refused the credentials: Unauthorized', at: new Date().toISOString() };
    },
    SaveChannel: (connector: string, instance: string, config: Record<string, unknown>, enabled: boolean) => {
      this.requireAdmin();
      if (connector === 'telegram' && !config.botToken) throw new BridgeError('invalid', 'A Telegram channel needs botToken.');
      this.channels = this.channels.filter((c) => !(c.connector === connector && c.instance === instance));
      this.channels.push({
        connector, instance, enabled, title: connector, state: 'running', failedReplies: 0, retryingReplies: 0,
        config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, k.toLowerCase().includes('token') ? '********' : v])),
        secretsSet: Object.keys(config).filter((k) => k.toLowerCase().includes('token')), webhookUrl: `http://127.0.0.1:8080/hooks/${connector}/${instance}`,
      });
      return null;
    },
    TestFlow: (json: string, messages: string[]): FlowTestResult => {
      this.requireAdmin();
      const widgets = this.checkFlow(json);
      if (this.flowTest) return structuredClone(this.flowTest);
      const first = widgets[0];
      return {
        runs: messages.map((message) => ({
          message,
          steps: [{ widget: first.name, type: first.type, event: '', actions: [], status: 'ended', error: '' }],
        })),
      };
    },
  };

  /** Admin console state. */
  needsAdmin = false;
  labels: Label[] = [];
  connectors: ConnectorInfo[] = [
    {
      id: 'telegram', title: { en: 'Telegram', es: 'Telegram' }, webhook: true, testable: true,
      settings: [
        { key: 'botToken', kind: 'secret', required: true, label: { en: 'Bot token', es: 'Token del bot' }, help: { en: 'From @BotFather.', es: 'De @BotFather.' } },
        { key: 'mode', kind: 'select', options: ['webhook', 'polling'], label: { en: 'How messages arrive', es: 'Cómo llegan' }, help: { en: 'h', es: 'h' } },
        { key: 'pollTimeout', kind: 'number', label: { en: 'Long-poll wait', es: 'Espera' }, help: { en: 'h', es: 'h' } },
      ],
    },
  ];
  channels: ChannelStatus[] = [];

  private requireAdmin() {
    if (this.requireSession().user.role !== 'admin') throw new BridgeError('forbidden', 'Only admins edit flows.');
  }

  /** checkFlow parses flow JSON like SaveFlow does: code invalid with one problem per line. */
  private checkFlow(json: string): { name: string; type: string; transitions?: Record<string, string> }[] {
    let f: { widgets?: unknown };
    try {
      f = JSON.parse(json);
    } catch (e) {
      throw new BridgeError('invalid', `flow JSON: ${(e as Error).message}`);
    }
    const widgets = Array.isArray(f?.widgets) ? (f.widgets as { name: string; type: string; transitions?: Record<string, string> }[]) : [];
    const names = new Set(widgets.map((w) => w.name));
    const problems = widgets.length ? [] : ['flow has no widgets'];
    for (const w of widgets) {
      for (const [ev, to] of Object.entries(w.transitions ?? {})) {
        if (!names.has(to)) problems.push(`widget "${w.name}": transition "${ev}" goes to unknown widget "${to}"`);
      }
    }
    if (problems.length) throw new BridgeError('invalid', problems.join('\n'));
    return widgets;
  }

  private takeOffer(reservationId: string): Offer {
    const o = this.offers.find((x) => x.reservationId === reservationId);
    if (!o || new Date(o.expiresAt).getTime() <= Date.now()) throw new BridgeError('conflict', 'The offer is gone.');
    this.offers = this.offers.filter((x) => x !== o);
    return o;
  }

  private findTask(taskId: string): Task {
    const task = Object.values(this.tasks).find((x) => x.id === taskId);
    if (!task) throw new BridgeError('not_found', 'No such task.');
    return task;
  }

  private addMessage(conversationId: string, text: string, note: boolean): Message {
    const s = this.requireSession();
    const d = this.find(conversationId);
    const m: Message = {
      id: `${conversationId}-r${++this.seq}`,
      conversationId,
      direction: 'out',
      authorName: s.user.name,
      text,
      status: note ? 'sent' : this.online ? 'sent' : 'queued',
      createdAt: new Date().toISOString(),
      attachments: [],
      ...(note ? { private: true } : {}),
    };
    d.messages.push(m);
    if (!note) {
      d.conversation.lastMessageText = text;
      d.conversation.lastMessageAt = m.createdAt;
    }
    return { ...m };
  }
}
