import { describe, expect, it } from 'vitest';
import { countdown, liveOffers, mergeOffer } from './offers';
import type { Offer } from './bridge';

const T0 = Date.parse('2025-06-15T12:00:00Z');

function offer(id: string, createdS: number, expiresS: number): Offer {
  return {
    reservationId: id,
    taskId: `t-${id}`,
    conversationId: `c-${id}`,
    channel: 'sms.twilio',
    taskChannel: 'chat',
    contactName: id,
    preview: '',
    queueName: 'Support',
    createdAt: new Date(T0 + createdS * 1000).toISOString(),
    expiresAt: new Date(T0 + expiresS * 1000).toISOString(),
  };
}

describe('countdown', () => {
  const o = offer('a', 0, 30);
  it('starts full', () => expect(countdown(o, T0)).toEqual({ remainingMs: 30_000, seconds: 30, fraction: 1, expired: false }));
  it('rounds seconds up', () => {
    const c = countdown(o, T0 + 10_500);
    expect(c.seconds).toBe(20);
    expect(c.fraction).toBeCloseTo(0.65);
  });
  it('ends at zero', () => expect(countdown(o, T0 + 31_000)).toEqual({ remainingMs: 0, seconds: 0, fraction: 0, expired: true }));
  it('copes with a createdAt after expiresAt', () => expect(countdown(offer('b', 40, 30), T0).fraction).toBe(1));
  it('never expires an offer without a valid expiresAt', () => {
    expect(countdown({ createdAt: '', expiresAt: 'soon' }, T0).expired).toBe(false);
  });
});

describe('liveOffers', () => {
  it('drops expired offers and puts the soonest to expire first', () => {
    const list = [offer('late', 0, 60), offer('gone', -40, -1), offer('soon', 0, 10)];
    expect(liveOffers(list, T0).map((o) => o.reservationId)).toEqual(['soon', 'late']);
  });
});

describe('mergeOffer', () => {
  it('adds new offers and replaces one with the same reservation', () => {
    const a = offer('a', 0, 30);
    const list = mergeOffer(mergeOffer([], a), offer('b', 0, 20));
    expect(list.map((o) => o.reservationId)).toEqual(['a', 'b']);
    const again = mergeOffer(list, { ...a, preview: 'new' });
    expect(again.length).toBe(2);
    expect(again.find((o) => o.reservationId === 'a')?.preview).toBe('new');
  });
});
