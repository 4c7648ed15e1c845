import type { ProcessedCrash } from '../storage/types.ts';

/** In the data dir: when each app and signature last had a spike alert, for the quiet time after a restart. */
export const SPIKE_ALERTS_FILE = 'spike-alerts.json';
/** Spikes are counted over this much time: the last hour. */
export const SPIKE_WINDOW_MS = 60 * 60_000;
/** A spike is at least this many times the signature's usual hourly rate in the app. */
export const SPIKE_FACTOR = 10;
/** The usual rate is the average hour of this many whole UTC days before today. */
export const SPIKE_BASELINE_DAYS = 7;
/** After an alert, the same signature in the same app does not alert again for this long. */
export const SPIKE_QUIET_MS = 6 * 60 * 60_000;
/** How long a signature's usual rate is reused before the index is asked again. */
const USUAL_REUSED_MS = 10 * 60_000;
/** Signatures tracked at most; past this, the one seen longest ago is forgotten. */
const MAX_TRACKED = 10_000;

/** What a spike alert says: how many crashes in the last hour, against how many an hour before. */
export interface Spike {
  app: string;
  /** Crashes of the signature in the app in the last hour. */
  count: number;
  /** Its average per hour over the SPIKE_BASELINE_DAYS days before today, to a hundredth. */
  usual_per_hour: number;
  /** Its crashes in the app over those days. */
  week_before: number;
}

export interface SpikeOptions {
  /** Fewest crashes in an hour that make a spike (--spike-alerts); 0 turns spike alerts off. */
  minPerHour: number;
  /** Crashes of a signature in an app and environment ('' for none) over whole UTC days (days since the epoch), from the index. */
  countOverDays: (app: string, signatureId: string, firstDay: number, lastDay: number, environment: string) => number;
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * Notices when a signature crashes far more than it usually does in an app, as Socorro's
 * "explosive crashes" report and Sentry's spike alerts do: at least `minPerHour` crashes in the
 * last hour, and at least SPIKE_FACTOR times its average hour over the week before (a new
 * signature's average is 0). Counted by arrival, in memory: crashes that arrived over an hour
 * ago (a backlog processed after a restart) or whose client says they happened over an hour
 * before they arrived (an outage's backlog, forwarded or queued by the extension) do not count,
 * so a backlog does not look like a spike. A restart picks the last hour up from the index
 * (seed) and the quiet times from `spike-alerts.json` (quietUntil, restoreQuiet).
 */
/** What spikes are counted by: a signature in one app and one environment (staging's burst is not production's). */
function spikeKey(app: string, environment: string, signatureId: string): string {
  return `${app}\n${environment}\n${signatureId}`;
}

export class SpikeDetector {
  /**
   * The crashes in the window, oldest first, per `<app>\n<signature id>`: each crash's arrival
   * time and ID, so a crash processed again (reprocessing) is not counted twice.
   */
  readonly #recent = new Map<string, { at: number[]; ids: string[] }>();
  /** When each app and signature last alerted. */
  readonly #alertedAt = new Map<string, number>();
  /** Each app and signature's crashes in the week before, and when that was read: a steady busy signature asks once in a while. */
  readonly #usual = new Map<string, { weekBefore: number; at: number }>();

  constructor(private readonly options: SpikeOptions) {}

  /**
   * Counts crashes a previous run processed in the last hour (from the index), so a restart does
   * not start the hour over. Their CrashTime is not in the index: a backlog that arrived in that
   * hour counts here, which the live rule would have left out.
   */
  seed(crashes: Iterable<{ app: string; environment: string; signature_id: string; crash_id: string; submitted_at: number }>): void {
    const now = this.options.now?.() ?? Date.now();
    for (const c of crashes) {
      if (!(c.submitted_at > now - SPIKE_WINDOW_MS)) continue;
      const key = spikeKey(c.app, c.environment, c.signature_id);
      let recent = this.#recent.get(key);
      if (!recent) this.#recent.set(key, (recent = { at: [], ids: [] }));
      if (recent.ids.includes(c.crash_id)) continue;
      let i = recent.at.length;
      while (i > 0 && recent.at[i - 1]! > c.submitted_at) i--;
      recent.at.splice(i, 0, c.submitted_at);
      recent.ids.splice(i, 0, c.crash_id);
    }
  }

  /** When each app and signature last alerted, within the quiet time: what a restart must remember. */
  quietUntil(): Record<string, number> {
    const now = this.options.now?.() ?? Date.now();
    const out: Record<string, number> = {};
    for (const [key, at] of this.#alertedAt) if (now - at < SPIKE_QUIET_MS) out[key] = at;
    return out;
  }

  /** Restores quietUntil() from a previous run: those signatures stay quiet as they would have. */
  restoreQuiet(alertedAt: Record<string, unknown>): void {
    const now = this.options.now?.() ?? Date.now();
    for (const [key, at] of Object.entries(alertedAt)) {
      if (typeof at === 'number' && now - at < SPIKE_QUIET_MS && at <= now) this.#alertedAt.set(key, at);
    }
  }

  /** Counts a processed crash; returns the spike it completes, once per SPIKE_QUIET_MS. */
  crashProcessed(crash: ProcessedCrash, app: string): Spike | null {
    if (this.options.minPerHour <= 0 || crash.processing_error) return null;
    const now = this.options.now?.() ?? Date.now();
    const arrived = Date.parse(crash.submitted_at);
    if (!(arrived > now - SPIKE_WINDOW_MS)) return null;
    const happened = crash.crash_time ? Date.parse(crash.crash_time) : NaN;
    if (happened < arrived - SPIKE_WINDOW_MS) return null;
    const environment = crash.environment ?? '';
    const key = spikeKey(app, environment, crash.signature_id);
    let recent = this.#recent.get(key);
    if (recent) this.#recent.delete(key); // re-inserted below: the map's order is by last crash
    else recent = { at: [], ids: [] };
    let old = 0;
    while (old < recent.at.length && recent.at[old]! <= now - SPIKE_WINDOW_MS) old++;
    if (old) {
      recent.at.splice(0, old);
      recent.ids.splice(0, old);
    }
    this.#recent.set(key, recent);
    if (this.#recent.size > MAX_TRACKED) this.#recent.delete(this.#recent.keys().next().value!);
    if (recent.ids.includes(crash.crash_id)) return null;
    // In arrival order, so the oldest leave the window first (reprocessing can bring an older one late).
    let i = recent.at.length;
    while (i > 0 && recent.at[i - 1]! > arrived) i--;
    recent.at.splice(i, 0, arrived);
    recent.ids.splice(i, 0, crash.crash_id);
    const count = recent.at.length;

    if (count < this.options.minPerHour) return null;
    const last = this.#alertedAt.get(key);
    if (last !== undefined && now - last < SPIKE_QUIET_MS) return null;
    const weekBefore = this.#weekBefore(key, app, crash.signature_id, environment, now);
    const usual = weekBefore / (SPIKE_BASELINE_DAYS * 24);
    if (count < SPIKE_FACTOR * usual) return null;
    this.#alertedAt.set(key, now);
    if (this.#alertedAt.size > MAX_TRACKED) this.#alertedAt.delete(this.#alertedAt.keys().next().value!);
    return { app, count, usual_per_hour: Math.round(usual * 100) / 100, week_before: weekBefore };
  }

  /** Crashes of the SPIKE_BASELINE_DAYS days before today, from the index's daily counts. */
  #weekBefore(key: string, app: string, signatureId: string, environment: string, now: number): number {
    const known = this.#usual.get(key);
    if (known && now - known.at < USUAL_REUSED_MS && Math.floor(known.at / DAY_MS) === Math.floor(now / DAY_MS)) return known.weekBefore;
    const today = Math.floor(now / DAY_MS);
    const weekBefore = this.options.countOverDays(app, signatureId, today - SPIKE_BASELINE_DAYS, today - 1, environment);
    this.#usual.delete(key);
    this.#usual.set(key, { weekBefore, at: now });
    if (this.#usual.size > MAX_TRACKED) this.#usual.delete(this.#usual.keys().next().value!);
    return weekBefore;
  }
}
