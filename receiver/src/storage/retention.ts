import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dayKey, type FsCrashStorage } from './fs-storage.ts';

/** How often old crashes are looked for. */
export const RETENTION_SWEEP_MS = 60 * 60 * 1000;

/**
 * Whether retention of `days` days (0: off) deletes the day folder `day` (`YYYYMMDD`) at `now`.
 *
 * @example dayExpired('20261120', 7, new Date('2026-11-30T12:00:00Z')) // true
 */
export function dayExpired(day: string, days: number, now: Date): boolean {
  return days > 0 && day < dayKey(new Date(now.getTime() - days * 86_400_000));
}

function emptyIfMissing(err: NodeJS.ErrnoException): string[] {
  if (err.code === 'ENOENT') return [];
  throw err;
}

export interface RetentionOptions {
  folders: FsCrashStorage;
  /** Crashes submitted more than this many days ago are deleted; 0 keeps everything. */
  days: number;
  /** Told of every crash about to be deleted (the index and the journal forget it); awaited. */
  onDeleted: (crashId: string) => void | Promise<void>;
  /**
   * Told before an expired day's crashes start going, and once its folder is gone (the index
   * notes the day meanwhile: a stop in between leaves crashes in the folder that the index has
   * forgotten, which must not be taken for an older index restored); awaited.
   */
  onDaySweeping?: (day: string) => void | Promise<void>;
  onDaySwept?: (day: string) => void | Promise<void>;
  log: (line: string) => void;
  now?: () => Date;
  /**
   * Crashes accepted and not yet laid out (the journal): an expired day's are deleted with it,
   * and its folder is removed only once the layouts under way have finished, or a crash laid out
   * during the sweep would come back on disk (or fail to find its day's folder).
   */
  waiting?: { waitingByDay(): Map<string, string[]>; layoutsSettled(): Promise<void> };
}

/**
 * Deletes crashes older than the retention period, a whole day folder at a time, as Socorro
 * expires raw crashes: storage stays bounded on a small VM without anyone cleaning by hand.
 */
export class Retention {
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<number> | null = null;

  constructor(private readonly options: RetentionOptions) {}

  /** Sweeps now and then every hour; does nothing when retention is off. */
  start(): void {
    if (this.options.days <= 0) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), RETENTION_SWEEP_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#sweeping;
  }

  /** Deletes every day folder older than the retention period; returns how many crashes went. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepNow().finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  async #sweepNow(): Promise<number> {
    const { folders, days, log } = this.options;
    if (days <= 0) return 0;
    const now = (this.options.now ?? (() => new Date()))();
    let deleted = 0;
    try {
      const waiting = this.options.waiting?.waitingByDay() ?? new Map<string, string[]>();
      const onDisk = (await readdir(folders.crashesDir)).filter((d) => /^\d{8}$/.test(d));
      const expired = [...new Set([...onDisk, ...waiting.keys()])].filter((d) => dayExpired(d, days, now)).sort();
      for (const day of expired) {
        const dir = join(folders.crashesDir, day);
        const ids = new Set([...(await readdir(dir).catch(emptyIfMissing)), ...(waiting.get(day) ?? [])]);
        await this.options.onDaySweeping?.(day);
        // Forgotten first: the journal then lays none of them out, and the folder goes after the
        // layouts under way (of this day or another) are done.
        for (const id of ids) await this.options.onDeleted(id);
        await this.options.waiting?.layoutsSettled();
        await rm(dir, { recursive: true, force: true });
        folders.dayRemoved(day);
        await this.options.onDaySwept?.(day);
        deleted += ids.size;
        log(`retention: deleted ${ids.size} ${ids.size === 1 ? 'crash' : 'crashes'} of ${day} (older than ${days} ${days === 1 ? 'day' : 'days'})`);
      }
    } catch (err) {
      log(`retention: could not delete old crashes: ${(err as Error).message}`);
    }
    return deleted;
  }
}
