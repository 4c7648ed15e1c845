/**
 * Socorro crash IDs: a random UUID whose last 7 hex digits are replaced by the throttle
 * result digit and the submission date as YYMMDD (UTC), so storage can find a crash by date
 * from its ID alone.
 *
 * @example
 *   createCrashId(new Date('2026-11-29T10:00:00Z'))  // 'de1bb258-cbbf-4589-a673-34f80261129' style: ends in '0261129'
 *   crashIdDate('de1bb258-cbbf-4589-a673-34f800261129')  // 2026-11-29T00:00:00.000Z
 */

/** Throttle results as Antenna writes them into the crash ID. */
export const ThrottleResult = { ACCEPT: 0, DEFER: 1, REJECT: 2 } as const;
export type ThrottleResultDigit = (typeof ThrottleResult)[keyof typeof ThrottleResult];

/** A crash ID without the `bp-` prefix: lower-case hex UUID layout. */
export const CRASH_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The prefix Breakpad clients and Socorro's pages put before crash IDs. */
export const CRASH_ID_PREFIX = 'bp-';

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/** Makes a new crash ID for a crash received at `now` with the given throttle result. */
export function createCrashId(
  now: Date = new Date(),
  throttleResult: ThrottleResultDigit = ThrottleResult.ACCEPT,
  randomUUID: () => string = () => globalThis.crypto.randomUUID(),
): string {
  const yymmdd =
    twoDigits(now.getUTCFullYear() % 100) + twoDigits(now.getUTCMonth() + 1) + twoDigits(now.getUTCDate());
  return randomUUID().toLowerCase().slice(0, -7) + String(throttleResult) + yymmdd;
}

/**
 * Returns the bare crash ID (no `bp-`, lower case) when `value` is a well-formed crash ID with
 * a real date, else null. Use it on every ID that comes from outside before it touches a path.
 */
export function normalizeCrashId(value: string): string | null {
  // Lower case first, so an upper-case `BP-` prefix is recognized too.
  const lower = value.toLowerCase();
  const bare = lower.startsWith(CRASH_ID_PREFIX) ? lower.slice(CRASH_ID_PREFIX.length) : lower;
  if (!CRASH_ID_PATTERN.test(bare)) return null;
  return crashIdDateOrNull(bare) ? bare : null;
}

function crashIdDateOrNull(bare: string): Date | null {
  const digits = bare.slice(-6);
  if (!/^\d{6}$/.test(digits)) return null;
  const year = 2000 + Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  const day = Number(digits.slice(4, 6));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}

/** Reads the submission date (UTC midnight) back from a crash ID; throws on a malformed ID. */
export function crashIdDate(crashId: string): Date {
  const bare = normalizeCrashId(crashId);
  if (!bare) throw new TypeError(`Not a crash ID: ${JSON.stringify(crashId.slice(0, 80))}`);
  return crashIdDateOrNull(bare)!;
}

/** Reads the throttle result digit back from a crash ID. */
export function crashIdThrottleResult(crashId: string): number {
  const bare = normalizeCrashId(crashId);
  if (!bare) throw new TypeError(`Not a crash ID: ${JSON.stringify(crashId.slice(0, 80))}`);
  return Number(bare.at(-7));
}
