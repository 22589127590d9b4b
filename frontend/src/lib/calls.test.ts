import { describe, expect, it } from 'vitest';
import type { CallInfo } from './bridge';
import { applyEvent, callerName, qualityLine, secondsLeft, timer } from './calls';

const base: CallInfo = {
  id: 'call_1', conversationId: 'cv_1', contactId: 'ct_1', channel: 'voice.sip', direction: 'inbound',
  from: '+15551234567', to: '+15550100', state: 'offered', startedAt: '2026-01-01T10:00:00Z',
  ringing: true, muted: false, quality: { jitterMs: 0, lossPercent: 0, rttMs: 0, mos: 0, warnings: [] },
};

describe('calls', () => {
  it('merges events and drops ended calls', () => {
    let calls = applyEvent([], { type: 'incoming', call: base });
    expect(calls).toHaveLength(1);
    calls = applyEvent(calls, { type: 'state', call: { ...base, state: 'connected', ringing: false } });
    expect(calls[0].state).toBe('connected');
    expect(applyEvent(calls, { type: 'dtmf', call: base, digits: '1' })).toBe(calls);
    expect(applyEvent(calls, { type: 'ended', call: base })).toEqual([]);
  });
  it('formats the timer and the countdown', () => {
    const now = new Date('2026-01-01T10:01:05Z').getTime();
    expect(timer('2026-01-01T10:00:00Z', now)).toBe('1:05');
    expect(timer('2026-01-01T08:59:00Z', now)).toBe('1:02:05');
    expect(timer(undefined, now)).toBe('0:00');
    expect(secondsLeft({ expiresAt: '2026-01-01T10:01:10Z' }, now)).toBe(5);
    expect(secondsLeft({ expiresAt: '2026-01-01T10:00:10Z' }, now)).toBe(0);
  });
  it('describes quality and the caller', () => {
    expect(qualityLine({ jitterMs: 12.4, lossPercent: 0, rttMs: 40.2, mos: 4.41, warnings: [] })).toBe('MOS 4.4 · 12 ms jitter · 0.0% loss · 40 ms RTT');
    expect(qualityLine(base.quality)).toBe('');
    expect(callerName({ ...base, contactName: 'Rosa' })).toBe('Rosa (+15551234567)');
    expect(callerName({ ...base, direction: 'outbound', to: '+15557654321' })).toBe('+15557654321');
  });
});
