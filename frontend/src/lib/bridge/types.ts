// Types shared with the Go side (app/). Field names match the JSON the bound methods return.

export type Role = 'agent' | 'supervisor' | 'admin';

export interface DemoAccount {
  email: string;
  password: string;
  role: Role;
}

export interface AppInfo {
  version: string;
  build: BuildInfo;
  mode: 'desktop' | 'browser';
  demo: boolean;
  demoAccounts: DemoAccount[];
  settings: Settings;
  /** The screen to open once signed in (demo only): "supervisor". */
  startScreen?: string;
}

/** BuildInfo describes the running binary (the About box). */
export interface BuildInfo {
  version: string;
  commit: string;
  /** The commit's date, YYYY-MM-DD; "" for a development build. */
  date: string;
  go: string;
  platform: string;
}

export type ThemeSetting = 'system' | 'light' | 'dark';

/** Settings are the user's preferences, kept by the Go side in the user's config directory. */
export interface Settings {
  /** The team server the sign-in screen offers; "" for none. */
  serverUrl: string;
  /** Device names for the softphone; "" is the system default. */
  audio: { input: string; output: string; ringing: string };
  notifications: boolean;
  sound: boolean;
  theme: ThemeSetting;
  /** "" follows the system. */
  language: string;
  startAtLogin: boolean;
}

export interface AudioDeviceList {
  inputs: string[];
  outputs: string[];
}

export interface Diagnostics {
  text: string;
  /** False when the app could not copy it itself (browser mode); the page copies text then. */
  copied: boolean;
}

export interface SignInRequest {
  /** "" means "This computer" (the embedded engine); otherwise a URL like http://host:8080. */
  server: string;
  email: string;
  password: string;
}

export interface User {
  id: string;
  name: string;
  email: string;
  role: Role;
  /** Set by the account rules (trust work) when an admin disabled the account. */
  disabled?: boolean;
}

export interface Session {
  server: string;
  user: User;
  embedded: boolean;
}

/** Scope of the inbox: my tasks, my queues' tasks, or everything (supervisor/admin only). */
export type Scope = 'mine' | 'queues' | 'all';

export interface ConversationFilter {
  status?: string;
  channel?: string;
  /** A label id: only conversations carrying it. */
  label?: string;
  query?: string;
  scope?: Scope;
}

export type TaskState = 'pending' | 'reserved' | 'assigned' | 'wrapping';
export type TaskChannel = 'chat' | 'voice' | 'email';

export interface ConversationSummary {
  id: string;
  contactId: string;
  contactName: string;
  channel: string;
  instance: string;
  status: string;
  subject: string;
  /** RFC 3339 timestamp. */
  lastMessageAt: string;
  lastMessageText: string;
  /** Ids of the labels on the conversation. */
  labels?: string[];
  unread: number;
  /** The conversation's open task, when it has one. */
  taskId?: string;
  taskState?: TaskState;
  queueName?: string;
  assigneeName?: string;
  /** The worker the open task is offered or assigned to. */
  taskWorkerId?: string;
  /** When the open task started waiting, and its queue's answer-time target (0: the default, 20 s). */
  taskCreatedAt?: string;
  queueSlaSeconds?: number;
  /** Replies and notes waiting in this computer's outbox, and the newest reply's text. */
  queued?: number;
  queuedText?: string;
}

export interface Identity {
  channel: string;
  externalId: string;
  displayName: string;
}

export interface Contact {
  id: string;
  name: string;
  email: string;
  phone: string;
  attributes: Record<string, string>;
  identities: Identity[];
}

export interface Attachment {
  url: string;
  type: string;
  name: string;
  size: number;
  /** 'fetching' while the engine fetches the file from its platform, 'failed' when it could not; absent when ready. */
  state?: 'fetching' | 'failed';
  /** Why the file could not be fetched or kept. */
  error?: string;
}

/** ReplyFile is a file attached in the composer, its bytes in base64. */
export interface ReplyFile {
  name: string;
  type: string;
  data: string;
}

export type MessageStatus = 'received' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Message {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  authorName: string;
  text: string;
  status: MessageStatus;
  /** Why delivery failed: the platform's words, or for a reply the engine refused, its code and reason. */
  error?: string;
  errorCode?: string;
  errorReason?: string;
  /** RFC 3339 timestamps: when the engine stored it, and the platform's own time if it sent one. */
  createdAt: string;
  platformAt?: string;
  attachments: Attachment[] | null;
  /** A note between agents, never sent to the customer. */
  private?: boolean;
  /** Who else the message went to (an email's To and Cc), or who a reply copies. */
  cc?: string[];
  /** What the engine could not read of the message; the original is then attached. */
  problem?: string;
  /** Sent by a program (an out-of-office reply, a bounce); no bot answers it. */
  automatic?: boolean;
}

/** TimelineItem is a message of the contact's whole history, with the channel it went through. */
export interface TimelineItem extends Message {
  channel: string;
  conversationId: string;
}

export interface Task {
  id: string;
  channel: TaskChannel;
  state: TaskState;
  queueId: string;
  queueName: string;
  workerId: string;
  attributes: Record<string, unknown>;
  priority: number;
  /** RFC 3339 timestamps. */
  createdAt: string;
  assignedAt?: string;
  /** When wrap-up began, and when it ends by itself (the workflow's limit), if it has one. */
  wrapUpAt?: string;
  wrapUpEndsAt?: string;
  disposition?: string;
}

export interface ConversationDetail {
  conversation: ConversationSummary;
  contact: Contact;
  messages: Message[];
  /** Every message of this contact across all their conversations, oldest first. */
  timeline: TimelineItem[] | null;
  /** The contact's conversations, newest first: past conversations and the channels to reply on. */
  contactConversations: ConversationSummary[] | null;
  task?: Task | null;
}

/** Offer is a reservation of a task for me, waiting for Accept or Reject. */
export interface Offer extends OfferedTask {
  /** RFC 3339 timestamps. */
  createdAt: string;
  expiresAt: string;
}

/** MissedOffer is an offer of mine that expired before I answered it. */
export interface MissedOffer extends OfferedTask {
  offeredAt: string;
  expiredAt: string;
}

/** HeldReply is a reply written for data the server no longer has: kept, never sent. */
export interface HeldReply {
  clientId: string;
  conversationId: string;
  contactName: string;
  channel: string;
  text: string;
  private: boolean;
  createdAt: string;
  heldAt: string;
}

/** OfferedTask is what an offer, open or missed, shows of its task. */
export interface OfferedTask {
  reservationId: string;
  taskId: string;
  conversationId: string;
  /** Connector id, like "sms.twilio". */
  channel: string;
  taskChannel: TaskChannel;
  contactName: string;
  /** The first message's text or the caller's number. */
  preview: string;
  queueName: string;
}

export interface Worker {
  id: string;
  name: string;
  activity: string;
  available: boolean;
}

export interface Activity {
  name: string;
  available: boolean;
}

/** AgentStatus is what AgentState and SetActivity return. */
export interface AgentStatus {
  /** null when the signed-in user is not a worker (e.g. an admin who takes no tasks). */
  worker: Worker | null;
  activities: Activity[] | null;
  dispositions: string[] | null;
}

/** TransferChoices is what TransferTargets returns. */
export interface TransferChoices {
  workers: { id: string; name: string; available: boolean }[] | null;
  queues: { id: string; name: string }[] | null;
}

/** Where TransferTask sends a task: one of workerId or queueId. */
export interface TransferTarget {
  workerId?: string;
  queueId?: string;
}

export interface CannedResponse {
  id: string;
  shortcut: string;
  title: string;
  /** May hold {{contact.name}}, {{contact.firstName}}, {{agent.name}}. */
  text: string;
}

export interface SearchHit {
  messageId: string;
  conversationId: string;
  contactName: string;
  channel: string;
  direction: 'in' | 'out';
  /** The matching text with the match between [ and ]. */
  snippet: string;
  createdAt: string;
}

export interface SearchResult {
  hits: SearchHit[] | null;
  tookMs: number;
}

/** FlowInstance is a configured channel instance whose inbound messages run through a flow. */
export interface FlowInstance {
  /** "connector/instance", like "sms.twilio/main". */
  key: string;
  connector: string;
  instance: string;
}

/** FlowDoc is what GetFlow returns: the instance's flow, or the default flow (revision 0) when none is set. */
export interface FlowDoc {
  key: string;
  /** The flow JSON object ({name, widgets: [...]}). */
  flow: unknown;
  revision: number;
  isDefault: boolean;
}

/** SavedFlow is what SaveFlow returns. */
export interface SavedFlow {
  revision: number;
}

/** FlowTraceStep is one widget a dry-run message went through. */
export interface FlowTraceStep {
  widget: string;
  type: string;
  /** The transition taken; "" when the widget waits or ends. */
  event: string;
  /** What the widget did, like `send "Hello"` or `create task …`. */
  actions: string[] | null;
  /** The execution's status when it stops at this step (waiting, ended, agent, failed), else "". */
  status: string;
  error: string;
}

/** FlowRun is the path one message took in a dry run. */
export interface FlowRun {
  message: string;
  steps: FlowTraceStep[] | null;
}

/** FlowTestResult is what TestFlow returns: one run per message, in order. */
export interface FlowTestResult {
  runs: FlowRun[] | null;
}

export type ConnectionState = 'online' | 'reconnecting' | 'offline' | 'signed_out';

export interface SyncInfo {
  state: ConnectionState | 'signed_out';
  lastSeq: number;
  /** Failed attempts to reach the server since it was last online. */
  attempt?: number;
  /** RFC 3339 time of the next attempt; "" when not waiting. */
  retryAt?: string;
  /** Why the server could not be reached, a sentence. */
  lastError?: string;
  /** Replies and notes waiting in the outbox. */
  pending?: number;
}

/** Payloads of the events the Go side emits, by event name. "signed_out": the engine ended the session. */
export interface BridgeEvents {
  sync: { lastSeq: number };
  connection: SyncInfo;
  offer: { offer: Offer };
  missed: { offer: MissedOffer };
  /** A long catch-up's progress, in change-feed events. */
  progress: { done: number; total: number };
  /** The cache started over for a changed engine; held replies were kept, not sent. */
  reset: { held: number };
  typing: Typing;
  /** Conversations I lost (transferred away, taken by someone else): they left the cache. */
  removed: { conversationIds: string[] };
  call: CallEvent;
  /** The supervisors' live view, pushed by the engine (supervisors and admins only). */
  supervisor: import('./supervisor').LiveView;
  /** A queue on the live view has just passed one of its thresholds (supervisors and admins only). */
  queueAlert: import('./supervisor').QueueAlert;
}

/** Live call quality from the softphone (RTCP and received audio). */
export interface CallQuality {
  jitterMs: number;
  lossPercent: number;
  rttMs: number;
  /** E-model estimate, 1 to 4.5. */
  mos: number;
  /** Figures past Twilio's thresholds: "rtt", "jitter", "loss", "mos". */
  warnings: string[] | null;
}

/** A call on the agent's softphone. */
export interface CallInfo {
  id: string;
  conversationId: string;
  contactId: string;
  /** "voice.sip" for phone calls, "webchat" for website calls. */
  channel: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  /** ringing, dialing, ivr, queued, offered, connected, held, consulting, ended. */
  state: string;
  userName?: string;
  endReason?: string;
  startedAt: string;
  answeredAt?: string;
  reservationId?: string;
  expiresAt?: string;
  queueId?: string;
  /** The queue the call waited in (on a ringing offer). */
  queueName?: string;
  contactName?: string;
  /** A colleague (fromAgent) asks before a warm transfer. */
  consult?: boolean;
  fromAgent?: string;
  /** Set when a supervisor is on another agent's call: how they are on it. */
  monitor?: 'listen' | 'whisper' | 'barge';
  ringing: boolean;
  muted: boolean;
  quality: CallQuality;
}

/** What the softphone reports: incoming, state, dtmf, quality, ended or error. */
export interface CallEvent {
  type: 'incoming' | 'state' | 'dtmf' | 'quality' | 'ended' | 'error';
  call: CallInfo;
  digits?: string;
  error?: string;
}

/** ChangePasswordRequest is what the change-password form sends. */
export interface ChangePasswordRequest {
  current: string;
  new: string;
}

/** Typing says someone is typing in a conversation. */
export interface Typing {
  conversationId: string;
  who: 'customer' | 'agent';
  name?: string;
}
