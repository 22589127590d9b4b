// Task offers: the countdown to the reservation timeout and the list the offer panel shows.
import type { Offer } from './bridge';

/** Countdown is how long an offer has left. */
export interface Countdown {
  remainingMs: number;
  /** Whole seconds left, rounded up (0 once expired). */
  seconds: number;
  /** Share of the offer's time left, 1 when it arrived and 0 when it expires. */
  fraction: number;
  expired: boolean;
}

/** countdown computes an offer's time left at now (milliseconds since the epoch). */
export function countdown(offer: Pick<Offer, 'createdAt' | 'expiresAt'>, now: number): Countdown {
  const end = new Date(offer.expiresAt).getTime();
  if (Number.isNaN(end)) return { remainingMs: 0, seconds: 0, fraction: 0, expired: false };
  const start = new Date(offer.createdAt).getTime();
  const remainingMs = Math.max(0, end - now);
  const total = Number.isNaN(start) || end <= start ? Math.max(remainingMs, 1) : end - start;
  return {
    remainingMs,
    seconds: Math.ceil(remainingMs / 1000),
    fraction: Math.min(1, Math.max(0, remainingMs / total)),
    expired: remainingMs <= 0,
  };
}

/**
 * liveOffers drops expired offers and orders the rest oldest first (the one expiring soonest
 * is at the top, where the keyboard shortcuts act). An offer without a valid expiresAt stays.
 */
export function liveOffers(offers: readonly Offer[], now: number): Offer[] {
  return offers
    .filter((o) => !countdown(o, now).expired)
    .sort((a, b) => {
      const x = time(a.expiresAt);
      const y = time(b.expiresAt);
      return x === y ? 0 : x < y ? -1 : 1;
    });
}

function time(iso: string): number {
  const v = new Date(iso).getTime();
  return Number.isNaN(v) ? Infinity : v;
}

/** mergeOffer adds or replaces one offer (from an "offer" event) by reservation id. */
export function mergeOffer(offers: readonly Offer[], offer: Offer): Offer[] {
  return [...offers.filter((o) => o.reservationId !== offer.reservationId), offer];
}
