// Types shared with the Go side (app/). Field names match the JSON the bound methods return.

export type Role = 'agent' | 'supervisor' | 'admin';

export interface DemoAccount {
  email: string;
  password: string;
  role: Role;
}

export interface AppInfo {
  version: string;
  mode: 'desktop' | 'browser';
  demo: boolean;
  demoAccounts: DemoAccount[];
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
}

export interface Session {
  server: string;
  user: User;
  embedded: boolean;
}

export interface ConversationFilter {
  status?: string;
  channel?: string;
  query?: string;
}

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
  unread: number;
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
}

export type MessageStatus = 'received' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Message {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  authorName: string;
  text: string;
  status: MessageStatus;
  error?: string;
  /** RFC 3339 timestamp. */
  createdAt: string;
  attachments: Attachment[];
}

export interface ConversationDetail {
  conversation: ConversationSummary;
  contact: Contact;
  messages: Message[];
}

export type ConnectionState = 'online' | 'reconnecting' | 'offline';

export interface SyncInfo {
  state: ConnectionState;
  lastSeq: number;
}

/** Payloads of the events the Go side emits, by event name. */
export interface BridgeEvents {
  sync: { lastSeq: number };
  connection: { state: ConnectionState };
}
