/** When a report that could not be delivered is tried again. */

/** Waits after the 1st, 2nd, … failed attempt; the last one repeats. The first is within 30 s. */
export const RETRY_DELAYS_MS = [20_000, 60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 3 * 60 * 60_000, 6 * 60 * 60_000];
/** A Retry-After longer than this is taken as this. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

/** The wait after `failedAttempts` failures (1-based), with up to 10 % jitter so clients spread out. */
export function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(failedAttempts, 1), RETRY_DELAYS_MS.length) - 1]!;
  return Math.round(base * (1 - 0.1 * random()));
}

/** A `Retry-After` header (seconds or an HTTP date) as milliseconds from `now`, or null. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
