/** When a failed delivery is tried again, and when it is given up (`dead`). */

/** Multiples of the base delay before attempts 2, 3, 4, 5, 6…: 5 s, 30 s, 2 min, 10 min, 1 h. */
const STEPS = [1, 6, 24, 120, 720];

/** The delay after attempt `n` (1-based) failed. */
export function retryDelayMs(n: number, baseMs: number): number {
  return baseMs * (STEPS[Math.min(n, STEPS.length) - 1] ?? 720);
}

/**
 * After attempt `n` failed at `now`: the next attempt's time, or null when it would fall
 * beyond `createdAt + maxAgeMs` (the delivery is then dead).
 */
export function nextAttemptAt(
  n: number,
  now: Date,
  createdAt: Date,
  baseMs: number,
  maxAgeMs: number,
): Date | null {
  const next = new Date(now.getTime() + retryDelayMs(n, baseMs));
  return next.getTime() - createdAt.getTime() > maxAgeMs ? null : next;
}
