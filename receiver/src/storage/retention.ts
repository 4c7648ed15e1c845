import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dayKey, type FsCrashStorage } from './fs-storage.ts';

/** How often old crashes are looked for. */
export const RETENTION_SWEEP_MS = 60 * 60 * 1000;

export interface RetentionOptions {
  folders: FsCrashStorage;
  /** Crashes submitted more than this many days ago are deleted; 0 keeps everything. */
  days: number;
  /** Told of every crash about to be deleted (the index and the journal forget it); awaited. */
  onDeleted: (crashId: string) => void | Promise<void>;
  log: (line: string) => void;
  now?: () => Date;
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
    const oldestKept = dayKey(new Date(now.getTime() - days * 86_400_000));
    let deleted = 0;
    try {
      const expired = (await readdir(folders.crashesDir)).filter((d) => /^\d{8}$/.test(d) && d < oldestKept).sort();
      for (const day of expired) {
        const dir = join(folders.crashesDir, day);
        const ids = await readdir(dir);
        for (const id of ids) await this.options.onDeleted(id);
        await rm(dir, { recursive: true, force: true });
        deleted += ids.length;
        log(`retention: deleted ${ids.length} ${ids.length === 1 ? 'crash' : 'crashes'} of ${day} (older than ${days} ${days === 1 ? 'day' : 'days'})`);
      }
    } catch (err) {
      log(`retention: could not delete old crashes: ${(err as Error).message}`);
    }
    return deleted;
  }
}
