// The only module that talks to Go. Every bound method of app.App has one typed function here.
import { decodeError } from './errors';
import { detectTransport, type Transport } from './transport';
import type {
  AgentStatus,
  AppInfo,
  AudioDeviceList,
  Diagnostics,
  Settings,
  BridgeEvents,
  CallInfo,
  ChangePasswordRequest,
  CannedResponse,
  ConversationDetail,
  ConversationFilter,
  ConversationSummary,
  FlowDoc,
  FlowInstance,
  FlowTestResult,
  HeldReply,
  Message,
  MissedOffer,
  Offer,
  ReplyFile,
  SavedFlow,
  SearchResult,
  Session,
  SignInRequest,
  SyncInfo,
  TransferChoices,
  TransferTarget,
} from './types';

export * from './types';
export * from './admin';
export * from './supervisor';
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

/** call invokes a bound method of app.App by name; rejections are decoded BridgeErrors. */
export async function call<T>(method: string, ...args: unknown[]): Promise<T> {
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
/** ChangePassword replaces my password; my other sessions end. Code forbidden: wrong current password. */
export const ChangePassword = (req: ChangePasswordRequest) => call<void>('ChangePassword', req);
/** Conversations lists conversations from the local cache; scope "all" is forbidden for agents. */
export const Conversations = (filter: ConversationFilter) =>
  call<ConversationSummary[] | null>('Conversations', filter).then((r) => r ?? []);
/** Conversation returns one conversation with its contact, messages, the contact's timeline and the open task. */
export const Conversation = (id: string) => call<ConversationDetail>('Conversation', id);
/** SendReply sends an agent reply; it may come back queued while offline. */
export const SendReply = (conversationId: string, text: string) => call<Message>('SendReply', conversationId, text);
/** SendReplyWith sends a reply with files and, on email, a chosen Cc (null: everyone on the thread; []: the sender only); it needs the engine. */
export const SendReplyWith = (conversationId: string, text: string, files: ReplyFile[], cc: string[] | null) =>
  call<Message>('SendReplyWith', conversationId, text, files, cc);
/** SyncStatus returns the connection state, the next retry, the outbox and the last applied change sequence. */
export const SyncStatus = () => call<SyncInfo>('SyncStatus');
/** ReconnectNow tries to reach the server at once instead of waiting for the next retry. */
export const ReconnectNow = () => call<void>('ReconnectNow');

/** GetSettings returns the user's preferences (bound as Settings). */
export const GetSettings = () => call<Settings>('Settings');
/** SaveSettings stores the preferences; rejects with code invalid naming a bad field, and then changes nothing. */
export const SaveSettings = (s: Settings) => call<Settings>('SaveSettings', s);
/** AudioDevices lists the softphone's microphones and speakers by name (empty when unknown). */
export const AudioDevices = () =>
  call<AudioDeviceList>('AudioDevices').then((r) => ({ inputs: r?.inputs ?? [], outputs: r?.outputs ?? [] }));
/** CopyDiagnostics builds the support report and copies it when the app can (desktop). */
export const CopyDiagnostics = () => call<Diagnostics>('CopyDiagnostics');

/** SendNote adds a private note for other agents; it never reaches the customer. */
export const SendNote = (conversationId: string, text: string) => call<Message>('SendNote', conversationId, text);
/** SetConversationStatus moves a conversation to open, pending, snoozed or resolved. */
export const SetConversationStatus = (conversationId: string, status: string) =>
  call<ConversationSummary>('SetConversationStatus', conversationId, status);

/** Offers lists the task offers waiting for me. */
export const Offers = () => call<Offer[] | null>('Offers').then((r) => r ?? []);
/** AcceptOffer takes the offered task; code conflict when the offer is gone, unavailable when offline. */
export const AcceptOffer = (reservationId: string) => call<void>('AcceptOffer', reservationId);
/** RejectOffer declines the offer so routing moves on. */
export const RejectOffer = (reservationId: string) => call<void>('RejectOffer', reservationId);

/** AgentState is my worker, the activities I can switch to and the disposition codes. */
export const AgentState = () => call<AgentStatus>('AgentState');
/** SetActivity switches my activity (Available, Break, …) and returns the new state. */
export const SetActivity = (name: string) => call<AgentStatus>('SetActivity', name);

/** WrapUp ends the live part of a task and starts wrap-up with a disposition. */
export const WrapUp = (taskId: string, disposition: string) => call<void>('WrapUp', taskId, disposition);
/** CompleteTask closes a task with a disposition. */
export const CompleteTask = (taskId: string, disposition: string) => call<void>('CompleteTask', taskId, disposition);
/** TransferTargets lists the agents and queues a task can be transferred to. */
export const TransferTargets = () => call<TransferChoices>('TransferTargets');
/** TransferTask hands a task to another agent or queue. */
export const TransferTask = (taskId: string, target: TransferTarget) => call<void>('TransferTask', taskId, target);

/** TakeTask takes a conversation waiting in one of my queues; the error's reason says why not (no_capacity …). */
export const TakeTask = (taskId: string) => call<void>('TakeTask', taskId);
/** AssignTask gives a waiting or offered task to a named agent (supervisors and admins). */
export const AssignTask = (taskId: string, workerId: string) => call<void>('AssignTask', taskId, workerId);
/** MissedOffers lists my offers that expired unanswered in the last twelve hours, newest first. */
export const MissedOffers = () => call<MissedOffer[] | null>('MissedOffers').then((r) => r ?? []);
/** DismissMissedOffer hides a missed offer. */
export const DismissMissedOffer = (reservationId: string) => call<void>('DismissMissedOffer', reservationId);
/** HeldReplies lists replies kept (not sent) when the server's data changed under this computer. */
export const HeldReplies = () => call<HeldReply[] | null>('HeldReplies').then((r) => r ?? []);
/** DiscardHeldReply forgets one held reply. */
export const DiscardHeldReply = (clientId: string) => call<void>('DiscardHeldReply', clientId);
/** SignalTyping tells the customer I am typing (the web chat shows it); it does nothing offline. */
export const SignalTyping = (conversationId: string) => call<void>('Typing', conversationId);

/** CannedResponses lists the saved replies; their text may hold placeholders. */
export const CannedResponses = () => call<CannedResponse[] | null>('CannedResponses').then((r) => r ?? []);
/** SearchMessages searches every cached message. */
export const SearchMessages = (query: string) => call<SearchResult>('SearchMessages', query);

/** FlowInstances lists the configured channel instances ("sms.twilio/main", …); admins only. */
export const FlowInstances = () => call<FlowInstance[] | null>('FlowInstances').then((r) => r ?? []);
/** GetFlow returns an instance's flow, or the default flow (revision 0, isDefault) when none is set. */
export const GetFlow = (key: string) => call<FlowDoc>('GetFlow', key);
/** SaveFlow stores a new revision; rejects with code invalid, one problem per line, for a bad flow. */
export const SaveFlow = (key: string, flowJSON: string) => call<SavedFlow>('SaveFlow', key, flowJSON);
/** TestFlow runs messages through a flow as a dry run: nothing is sent, no task is created. */
export const TestFlow = (flowJSON: string, messages: string[]) =>
  call<FlowTestResult>('TestFlow', flowJSON, messages).then((r) => ({ runs: r?.runs ?? [] }));

/** Calls lists the softphone's calls; rejects with unavailable while the phone is not connected. */
export const Calls = () => call<CallInfo[] | null>('Calls').then((r) => r ?? []);
/** AnswerCall answers a ringing call or a colleague's consult. */
export const AnswerCall = (id: string) => call<void>('AnswerCall', id);
/** DeclineCall declines a ringing call; routing offers it to someone else. */
export const DeclineCall = (id: string) => call<void>('DeclineCall', id);
/** HangupCall ends a call. */
export const HangupCall = (id: string) => call<void>('HangupCall', id);
/** HoldCall holds (the caller hears music) or resumes. */
export const HoldCall = (id: string, hold: boolean) => call<void>('HoldCall', id, hold);
/** MuteCall mutes or unmutes the microphone. */
export const MuteCall = (id: string, mute: boolean) => call<void>('MuteCall', id, mute);
/** SendDTMF sends keys from the dial pad to the caller. */
export const SendDTMF = (id: string, digits: string) => call<void>('SendDTMF', id, digits);
/** ConsultCall holds the caller and rings a colleague's worker (warm transfer). */
export const ConsultCall = (id: string, workerId: string) => call<void>('ConsultCall', id, workerId);
/** CompleteTransfer hands the caller to the consulted colleague. */
export const CompleteTransfer = (id: string) => call<void>('CompleteTransfer', id);
/** ReturnToCaller ends the consult and returns to the caller. */
export const ReturnToCaller = (id: string) => call<void>('ReturnToCaller', id);
/** TransferCall hands the call, blind, to a worker or a queue. */
export const TransferCall = (id: string, workerId: string, queueId: string) => call<void>('TransferCall', id, workerId, queueId);
/** DialNumber calls a phone number through the engine's trunk. */
export const DialNumber = (number: string) => call<void>('DialNumber', number);

/** CallAudio returns a call's recording or voicemail (its /api/calls/… attachment) as a playable data URL. */
export const CallAudio = (path: string) => call<string>('CallAudio', path);
/** Media returns a kept customer file (its /media/{id} attachment) as a data URL; the engine checks access, the cache answers offline. */
export const Media = (path: string) => call<string>('Media', path);

/** on subscribes to an app event ("sync", "connection", "offer", "removed"); the returned function unsubscribes. */
export function on<K extends keyof BridgeEvents>(event: K, cb: (data: BridgeEvents[K]) => void): () => void {
  return current().on(event, (d) => cb(d as BridgeEvents[K]));
}
