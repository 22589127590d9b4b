// The admin console's bound methods (app/admin_*.go) and the shapes they return.
import { call } from './index';
import type { Activity, Role, Session, User } from './types';

export interface LocalText {
  en: string;
  es: string;
}

export type SettingKind = 'text' | 'secret' | 'number' | 'bool' | 'select' | 'list' | 'url' | 'email' | 'hostport';

/** ChannelSetting is one field of a connector's configuration, as the connector describes it. */
export interface ChannelSetting {
  key: string;
  label: LocalText;
  help: LocalText;
  kind: SettingKind;
  required?: boolean;
  options?: string[];
  placeholder?: string;
}

export interface ConnectorInfo {
  id: string;
  title: LocalText;
  settings: ChannelSetting[];
  webhook: boolean;
  testable: boolean;
}

export interface ChannelStatus {
  connector: string;
  instance: string;
  /** The configuration with secrets redacted ("********"). */
  config: Record<string, unknown>;
  enabled: boolean;
  title: string;
  /** 'stopped': the platform refused the instance for good (a revoked token); saving it again restarts it. */
  state: 'running' | 'disabled' | 'error' | 'stopped';
  error?: string;
  errorAt?: string;
  /** When a poller (Telegram, Discord, email) last had its connection accepted. */
  connectedAt?: string;
  /** When a poller whose connection dropped tries again. */
  retryAt?: string;
  webhookUrl?: string;
  secretsSet: string[];
  lastInboundAt?: string;
  lastSentAt?: string;
  failedReplies: number;
  retryingReplies: number;
  lastFailure?: string;
  lastFailureAt?: string;
}

export interface ChannelTest {
  ok: boolean;
  detail: string;
  at: string;
}

export interface Queue {
  id: string;
  name: string;
  targetWorkers: string;
  orderBy?: string;
  orderAscending?: boolean;
  lifo?: boolean;
  slaSeconds: number;
  /** The supervisor's live view turns the queue red when a task waits this long (0: the SLA threshold)… */
  alertWaitSeconds?: number;
  /** …or when this many tasks wait (0: no limit). */
  alertWaiting?: number;
}

export interface WorkflowTarget {
  queueId: string;
  expression?: string;
  priority?: number | null;
  timeoutSeconds?: number;
  skipIfNoWorkers?: boolean;
}

export interface WorkflowFilter {
  name: string;
  expression: string;
  targets: WorkflowTarget[];
}

export interface Workflow {
  id: string;
  name: string;
  filters: WorkflowFilter[] | null;
  default: WorkflowTarget[];
  reservationTimeoutSeconds?: number;
  createdAt?: string;
}

/** RoutingWorker is an agent as the router sees them, with the attributes queues read. */
export interface RoutingWorker {
  id: string;
  userId?: string;
  name: string;
  attributes: Record<string, unknown>;
  activity: string;
  available: boolean;
  capacity: Record<string, number> | null;
}

export interface RoutingSetup {
  queues: Queue[] | null;
  workflows: Workflow[] | null;
  workers: RoutingWorker[] | null;
  users: User[] | null;
  activities: Activity[] | null;
}

export interface QueuePreview {
  valid: boolean;
  error?: string;
  workers: RoutingWorker[];
}

export interface Invite {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
}

export interface Label {
  id: string;
  name: string;
  color?: string;
  description?: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  userId: string;
  userName: string;
  action: string;
  entityType: string;
  entityId: string;
  summary: string;
  details?: unknown;
}

export interface ImportIssue {
  widget: string;
  type: string;
  message: string;
}

export interface VariableMapping {
  widget: string;
  from: string;
  to?: string;
}

export interface ImportReport {
  mapped: number;
  issues: ImportIssue[];
  problems: { widget?: string; message: string }[];
  variables: VariableMapping[];
}

const list = <T>(p: Promise<T[] | null>) => p.then((r) => r ?? []);

/** Connectors describes every connector's settings (admins). */
export const Connectors = () => list(call<ConnectorInfo[] | null>('Connectors'));
/** ChannelStatuses lists the configured channels with state and health (admins). */
export const ChannelStatuses = () => list(call<ChannelStatus[] | null>('ChannelStatuses'));
/** SaveChannel validates (by the connector) and saves a configuration; "********" keeps a stored secret. */
export const SaveChannel = (connector: string, instance: string, config: Record<string, unknown>, enabled: boolean) =>
  call<void>('SaveChannel', connector, instance, config, enabled);
/** TestChannel checks credentials with the platform: the unsaved config when given, else the saved one. */
export const TestChannel = (connector: string, instance: string, config: Record<string, unknown> | null) =>
  call<ChannelTest>('TestChannel', connector, instance, config);
/** SetChannelEnabled turns a channel on or off. */
export const SetChannelEnabled = (connector: string, instance: string, enabled: boolean) =>
  call<void>('SetChannelEnabled', connector, instance, enabled);
/** RemoveChannel deletes a channel; its conversations stay. */
export const RemoveChannel = (connector: string, instance: string) => call<void>('RemoveChannel', connector, instance);
/** EngineURL is the engine's address (for the web chat snippet and preview). */
export const EngineURL = () => call<string>('EngineURL');
/** ImportStudio maps a Twilio Studio export onto a flow (not saved) and reports what it could not map. */
export const ImportStudio = (exportJSON: string) =>
  call<{ flow: Record<string, unknown>; report: ImportReport }>('ImportStudio', exportJSON);
/** AuditLog lists audit entries older than before (0: the newest). */
export const AuditLog = (before: number) => list(call<AuditEntry[] | null>('AuditLog', before));

/** RoutingSetup reads queues, workflows, workers, users and activities. */
export const RoutingSetup = () => call<RoutingSetup>('RoutingSetup');
/** SaveQueue creates (id "") or changes a queue; rejects with invalid for a bad expression. */
export const SaveQueue = (id: string, q: Omit<Queue, 'id'>) => call<Queue>('SaveQueue', id, q);
/** DeleteQueue removes a queue nothing depends on. */
export const DeleteQueue = (id: string) => call<void>('DeleteQueue', id);
/** PreviewQueue checks a target expression and lists the workers it matches today. */
export const PreviewQueue = (expression: string) => call<QueuePreview>('PreviewQueue', expression);
/** SaveWorkflow creates (id "") or changes a workflow. */
export const SaveWorkflow = (id: string, wf: Omit<Workflow, 'id'>) => call<Workflow>('SaveWorkflow', id, wf);
/** DeleteWorkflow removes a workflow (never the last one). */
export const DeleteWorkflow = (id: string) => call<void>('DeleteWorkflow', id);
/** ImportWorkflow creates a workflow from TaskRouter JSON; queues maps TaskRouter queue SIDs to queue ids. */
export const ImportWorkflow = (name: string, configuration: string, queues: Record<string, string>) =>
  call<{ workflow: Workflow; notes: string[] | null }>('ImportWorkflow', name, configuration, queues);
/** SaveWorker creates (id "") or changes an agent's routing profile. */
export const SaveWorker = (
  id: string,
  w: { userId?: string; name: string; activity?: string; attributes: Record<string, unknown>; capacity: Record<string, number> },
) => call<RoutingWorker>('SaveWorker', id, w);
/** DeleteWorker removes a worker who holds no task. */
export const DeleteWorker = (id: string) => call<void>('DeleteWorker', id);

/** Users lists every account. */
export const Users = () => list(call<User[] | null>('Users'));
/** CreateUser creates an account with a first password. */
export const CreateUser = (u: { name: string; email: string; role: Role; password: string }) => call<User>('CreateUser', u);
/** DisableUser stops an account from signing in (the account rules' route). */
export const DisableUser = (id: string) => call<void>('DisableUser', id);
/** EnableUser lets a disabled account sign in again. */
export const EnableUser = (id: string) => call<void>('EnableUser', id);
/** ResetPassword sets a new password for an account. */
export const ResetPassword = (id: string, password: string) => call<void>('ResetPassword', id, password);
/** SignOutUser ends every session of an account. */
export const SignOutUser = (id: string) => call<void>('SignOutUser', id);
/** Invites lists invitations not yet accepted. */
export const Invites = () => list(call<Invite[] | null>('Invites'));
/** CreateInvite invites someone; the one-time link comes back once. */
export const CreateInvite = (email: string, name: string, role: Role) =>
  call<{ invite: Invite; link: string }>('CreateInvite', email, name, role);
/** DeleteInvite withdraws an invitation. */
export const DeleteInvite = (id: string) => call<void>('DeleteInvite', id);

/** Labels lists the labels (from the local cache). */
export const Labels = () => list(call<Label[] | null>('Labels'));
/** SaveLabel creates (id "") or changes a label. */
export const SaveLabel = (id: string, l: { name: string; color?: string; description?: string }) => call<Label>('SaveLabel', id, l);
/** DeleteLabel removes a label everywhere. */
export const DeleteLabel = (id: string) => call<void>('DeleteLabel', id);
/** SetConversationLabels replaces a conversation's labels. */
export const SetConversationLabels = (conversationId: string, labels: string[]) =>
  call<void>('SetConversationLabels', conversationId, labels);
/** SaveCanned creates (id "") or changes a canned response. */
export const SaveCanned = (id: string, c: { shortcut: string; title: string; text: string }) => call<void>('SaveCanned', id, c);
/** DeleteCanned removes a canned response. */
export const DeleteCanned = (id: string) => call<void>('DeleteCanned', id);

/** SetupStatus says whether a workspace has no user yet (server "" is this computer). */
export const SetupStatus = (server: string) => call<{ needsAdmin: boolean }>('SetupStatus', server);
/** CreateFirstAdmin creates the first admin of an empty workspace and signs in. */
export const CreateFirstAdmin = (req: { server: string; name: string; email: string; password: string }) =>
  call<Session>('CreateFirstAdmin', req);
/** AcceptInvite accepts an invitation link with a password and signs in. */
export const AcceptInvite = (link: string, name: string, password: string) => call<Session>('AcceptInvite', link, name, password);
