import { afterEach, describe, expect, it } from 'vitest';
import { mmss, waiting, wrapUpClock } from './work';
import { setLocale } from './i18n';
import type { ConversationSummary } from './bridge';

afterEach(() => setLocale('en'));

describe('wrapUpClock', () => {
  const at = Date.parse('2026-03-02T09:00:00Z');
  it('counts down to the workflow limit', () => {
    const c = wrapUpClock({ wrapUpAt: '2026-03-02T09:00:00Z', wrapUpEndsAt: '2026-03-02T09:01:00Z' }, at + 18_000);
    expect(c).toEqual({ text: '0:42', left: true, over: false });
    expect(wrapUpClock({ wrapUpAt: '2026-03-02T09:00:00Z', wrapUpEndsAt: '2026-03-02T09:01:00Z' }, at + 61_000)).toEqual({
      text: '0:00',
      left: true,
      over: true,
    });
  });
  it('counts up without a limit', () => {
    expect(wrapUpClock({ wrapUpAt: '2026-03-02T09:00:00Z' }, at + 125_000)).toEqual({ text: '2:05', left: false, over: false });
    expect(wrapUpClock({}, at)).toBeNull();
  });
  it('formats minutes and seconds', () => {
    expect(mmss(0)).toBe('0:00');
    expect(mmss(-5)).toBe('0:00');
    expect(mmss(61_999)).toBe('1:01');
  });
});

describe('waiting', () => {
  const now = new Date('2026-03-02T09:10:00Z');
  const c = (over: Partial<ConversationSummary>) => ({ taskState: 'pending', taskCreatedAt: '2026-03-02T09:06:00Z', ...over }) as ConversationSummary;
  it('flags a task past its queue target', () => {
    expect(waiting(c({ queueSlaSeconds: 60 }), now)).toEqual({ text: '4 min', overdue: true, slaSeconds: 60 });
    expect(waiting(c({ queueSlaSeconds: 600 }), now)?.overdue).toBe(false);
    expect(waiting(c({}), now)?.slaSeconds).toBe(20);
  });
  it('is only for waiting tasks', () => {
    expect(waiting(c({ taskState: 'assigned' }), now)).toBeNull();
    expect(waiting(c({ taskCreatedAt: undefined }), now)).toBeNull();
  });
  it('speaks the UI language', () => {
    setLocale('es');
    expect(waiting(c({ taskCreatedAt: '2026-03-02T09:09:30Z' }), now)?.text).toBe('menos de un minuto');
  });
});
