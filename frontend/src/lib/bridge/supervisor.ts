// The supervisor's screen's bound methods (app/supervisor.go) and the shapes they return.
import { call } from './index';

export type AgentState = 'available' | 'busy' | 'away' | 'offline';

/** Figures are a report's measures over a set of tasks. */
export interface Figures {
  volume: number;
  answered: number;
  abandoned: number;
  handled: number;
  avgWaitSeconds: number;
  avgHandleSeconds: number;
  avgFirstResponseSeconds: number;
  withinSla: number;
  slaPercent: number;
}

export interface QueueLive {
  queueId: string;
  name: string;
  tasks: Record<string, number>;
  waiting: number;
  longestWaitSeconds: number;
  agents: Record<AgentState, number>;
  today: Figures;
  slaSeconds: number;
  /** The thresholds the queue is past now: "longest wait", "waiting". */
  alert: string[] | null;
}

export interface AgentLive {
  workerId: string;
  userId?: string;
  name: string;
  activity: string;
  state: AgentState;
  activitySince: string;
  load: Record<string, number>;
  capacity: Record<string, number>;
  calls: { callId: string; conversationId: string; startedAt: string }[];
  today: { handled: number; avgHandleSeconds: number; rejected: number; timedOut: number };
}

/** LiveView is the supervisor's picture now; the "supervisor" event brings each new one. */
export interface LiveView {
  at: string;
  queues: QueueLive[];
  agents: AgentLive[];
}

/** QueueAlert is the "queueAlert" event: a queue that has just turned red. */
export interface QueueAlert {
  queueId: string;
  name: string;
  alert: string[];
}

/** QueueSample is a queue's state at one instant of the past hour. */
export interface QueueSample {
  at: string;
  /** Tasks that had arrived and were not yet answered (waiting or offered). */
  unanswered: number;
  /** The day's SLA share then, or null before any task of the day left the queue. */
  slaPercent: number | null;
}

/** QueueHistory is the chart of the past hour, per queue ID. */
export interface QueueHistory {
  from: string;
  to: string;
  stepSeconds: number;
  queues: Record<string, QueueSample[] | null>;
}

export interface StaffingRow {
  queueId: string;
  name: string;
  arrivals: number;
  perHour: number;
  ahtSeconds: number;
  trafficErlangs: number;
  slaSeconds: number;
  targetPercent: number;
  /** -1 when no team is enough. */
  agentsNeeded: number;
  agentsLoggedIn: number;
  serviceLevelPercent: number;
}

export interface ReportQuery {
  from: string;
  to: string;
  period: 'day' | 'week';
  by: '' | 'channel' | 'queue' | 'agent';
  tz?: string;
}

export interface ReportRow extends Figures {
  period: string;
  group: string;
}

export interface ReportResponse {
  rows: ReportRow[];
  names: Record<string, string>;
}

/** SupervisorLive returns the live view now (supervisors and admins). */
export const SupervisorLive = () => call<LiveView>('SupervisorLive');
/** SupervisorHistory returns each queue's chart of the past hour, from the engine's stored tasks. */
export const SupervisorHistory = () => call<QueueHistory>('SupervisorHistory');
/** SetAgentActivity sets another agent's activity. */
export const SetAgentActivity = (workerId: string, activity: string) => call<unknown>('SetAgentActivity', workerId, activity);
/** How a supervisor is on another agent's call. */
export type MonitorMode = 'listen' | 'whisper' | 'barge';
/** MonitorCall joins the supervisor's phone to a live call, or changes how they are on it. */
export const MonitorCall = (callId: string, mode: MonitorMode) => call<void>('MonitorCall', callId, mode);
/** LeaveCall takes the supervisor off a call they joined. */
export const LeaveCall = (callId: string) => call<void>('LeaveCall', callId);
/** Staffing sizes each queue with Erlang C over the last window minutes for a goal in percent. */
export const Staffing = (window: number, target: number) =>
  call<{ windowMinutes: number; queues: StaffingRow[] }>('Staffing', window, target);
/** Report returns a report's rows and the names of the queues and agents in them. */
export const Report = (q: ReportQuery) => call<ReportResponse>('Report', q);
/** ReportCSV returns the same report as CSV text. */
export const ReportCSV = (q: ReportQuery) => call<string>('ReportCSV', q);
/** Activities lists the workspace's activities. */
export const Activities = () => call<{ name: string; available: boolean }[] | null>('Activities').then((r) => r ?? []);
/** LogFrontendError writes an unhandled UI error to the app's log. */
export const LogFrontendError = (message: string) => call<void>('LogFrontendError', message).catch(() => {});
