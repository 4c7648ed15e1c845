/**
 * Reports on their way and recently done, in `browser.storage.local`, so nothing is lost when
 * the receiver is down or the browser restarts:
 *
 *     reports   ReportEntry[]  queued ones and the last MAX_HISTORY finished ones
 *     stats     Stats          what was dropped and why
 *     lastSent  LastSent       exactly what the last attempt sent (the options page shows it)
 *
 * Every change goes through `update()`, one at a time, so concurrent events never overwrite
 * each other's writes.
 */
import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import { hostOf } from './settings.ts';

/**
 * Reports waiting to be delivered; past this the site holding the most gives up its oldest
 * waiting one, which is counted.
 */
export const MAX_QUEUED = 100;
/** Finished reports kept for the popup. */
export const MAX_HISTORY = 100;

/** `withdrawn`: not sent, because the person's settings changed while it waited. */
export type ReportStatus = 'queued' | 'sending' | 'submitted' | 'discarded' | 'failed' | 'withdrawn';

export interface ReportEntry {
  id: string;
  /** The error's identity and its destination: repeats with the same key fold into this entry. */
  key: string;
  app: string;
  submitUrl: string;
  annotations: Annotations;
  createdAt: number;
  status: ReportStatus;
  attempts: number;
  nextAttemptAt: number;
  /** Times the error happened, including those after the report was sent. */
  repeatCount: number;
  crashId?: string;
  finishedAt?: number;
  /** Why the last attempt did not deliver it (shown in the popup). */
  lastError?: string;
  /** The host of the tab's page when the error was in a frame it embeds: blocking it withdraws the report. Never sent. */
  topHost?: string;
}

export interface Stats {
  droppedQueueFull: number;
  droppedRateLimited: number;
  droppedInPage: number;
  /** Errors of pages whose declared GUID breaks the WebAppGUID rule (not reported). */
  ignoredInvalidGuid: number;
  /** Errors thrown entirely by browser extensions' scripts in the page, not the app's (not reported). */
  ignoredFromExtensions: number;
}

export interface LastSent {
  at: number;
  submitUrl: string;
  annotations: Annotations;
}

export interface StorageArea {
  get(keys: string | string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

export interface StoreState {
  reports: ReportEntry[];
  stats: Stats;
}

export const EMPTY_STATS: Stats = { droppedQueueFull: 0, droppedRateLimited: 0, droppedInPage: 0, ignoredInvalidGuid: 0, ignoredFromExtensions: 0 };

const isQueued = (e: ReportEntry): boolean => e.status === 'queued' || e.status === 'sending';

/** The site a report came from: its tab's host (a frame's report remembers it), else its page's. */
export function siteOf(entry: ReportEntry): string {
  return entry.topHost ?? hostOf(entry.annotations[Annotation.URL]) ?? '';
}

/**
 * Past MAX_QUEUED waiting reports, the site holding the most gives up its oldest waiting one
 * (ties: the site whose oldest is oldest), until MAX_QUEUED are left: a tab that walks through
 * host names, each under the per-site cap, pushes out its own reports, never those of a site
 * with few waiting. One being sent stays. Past MAX_HISTORY finished ones, the oldest go.
 */
export function enforceCaps(state: StoreState): void {
  const queued = state.reports.filter(isQueued);
  const dropped = new Set<ReportEntry>();
  if (queued.length > MAX_QUEUED) {
    const bySite = new Map<string, { held: number; waiting: ReportEntry[] }>();
    for (const e of queued) {
      const site = siteOf(e);
      const group = bySite.get(site) ?? { held: 0, waiting: [] };
      group.held++;
      if (e.status === 'queued') group.waiting.push(e);
      bySite.set(site, group);
    }
    for (const group of bySite.values()) group.waiting.sort((a, b) => a.createdAt - b.createdAt);
    for (let over = queued.length - MAX_QUEUED; over > 0; over--) {
      let most: { held: number; waiting: ReportEntry[] } | undefined;
      for (const group of bySite.values()) {
        if (group.waiting.length === 0) continue;
        if (!most || group.held > most.held || (group.held === most.held && group.waiting[0]!.createdAt < most.waiting[0]!.createdAt)) most = group;
      }
      if (!most) break;
      const entry = most.waiting.shift()!;
      most.held--;
      dropped.add(entry);
      state.stats.droppedQueueFull += entry.repeatCount;
    }
  }
  const finished = state.reports.filter((e) => !isQueued(e)).sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
  const overHistory = new Set(finished.slice(0, Math.max(0, finished.length - MAX_HISTORY)));
  state.reports = state.reports.filter((e) => !dropped.has(e) && !overHistory.has(e));
}

export class ReportStore {
  #lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: StorageArea) {}

  async read(): Promise<StoreState> {
    const got = await this.storage.get(['reports', 'stats']);
    return {
      reports: Array.isArray(got.reports) ? (got.reports as ReportEntry[]) : [],
      stats: { ...EMPTY_STATS, ...((got.stats as Partial<Stats>) ?? {}) },
    };
  }

  /** Runs `change` on the stored state, alone, enforces the caps and saves; resolves with its result. */
  update<T>(change: (state: StoreState) => T): Promise<T> {
    return this.#run(change, () => true);
  }

  /**
   * As update(), but saves only when `change` returns something other than null: a look for
   * work that finds none rewrites nothing (the queue is the whole array, rewritten each time).
   */
  updateUnlessNull<T>(change: (state: StoreState) => T | null): Promise<T | null> {
    return this.#run(change, (result) => result !== null);
  }

  #run<T>(change: (state: StoreState) => T, save: (result: T) => boolean): Promise<T> {
    const run = this.#lock.then(async () => {
      const state = await this.read();
      const result = change(state);
      if (!save(result)) return result;
      enforceCaps(state);
      await this.storage.set({ reports: state.reports, stats: state.stats });
      return result;
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async saveLastSent(lastSent: LastSent): Promise<void> {
    await this.storage.set({ lastSent });
  }
}
