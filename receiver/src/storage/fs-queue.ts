import { readdir } from 'node:fs/promises';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { DurableFolder, type FsOps, nodeFsOps } from './durable.ts';
import type { WorkQueue } from './types.ts';

/**
 * The processing queue as files, durable the same way crashes are:
 *
 *     <data-dir>/queue/
 *       <crash id>      one entry per crash waiting to be processed (its content, the time it
 *                       was queued, is for people looking); the oldest days go first, by the
 *                       date at the end of the crash ID
 *
 * Entries are removed when processing finished (or gave up and recorded why in the crash).
 */
/** Entries read from the folder at once when it is long. */
const READ_AHEAD = 5_000;

export class FsWorkQueue extends DurableFolder implements WorkQueue {
  /**
   * The first entries of the folder, oldest days first, as last read, less those done since:
   * one read of a long queue serves many batches (reading 60,000 names per batch of 50 cost
   * 5 ms a crash). Null when it must be read again.
   */
  #ahead: string[] | null = null;
  /** The last read stopped at READ_AHEAD: entries queued since may sort before what is left. */
  #truncated = false;
  /** Bumped by every change, so a read that overlapped one is not kept. */
  #changes = 0;

  constructor(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps) {
    super(dataDir, 'queue', tmpDir, fs);
  }

  async enqueue(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) throw new TypeError('Not a crash ID');
    await this.write(bare, `${Date.now()}\n`);
    this.#changes++;
    // A short queue is read again (cheap) so a new crash is not left out; a long one is read
    // again once what was read is done, and the new crash is found then.
    if (!this.#truncated) this.#ahead = null;
  }

  async pending(limit: number): Promise<string[]> {
    if (this.#ahead === null || (this.#truncated && this.#ahead.length < limit)) {
      const changes = this.#changes;
      const names = (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n);
      // Crash IDs end in the date, so sorting by that suffix gives days in order; good enough
      // for fairness without reading every entry.
      names.sort((a, b) => a.slice(-6).localeCompare(b.slice(-6)));
      const ahead = names.slice(0, READ_AHEAD);
      // A change during the read may be missing from it: used this once, read again next time.
      if (changes !== this.#changes) return ahead.slice(0, limit);
      this.#truncated = names.length > READ_AHEAD;
      this.#ahead = ahead;
    }
    return this.#ahead.slice(0, limit);
  }

  /** How many crashes wait (one directory read: for the stats, not for a hot path). */
  async size(): Promise<number> {
    return (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n).length;
  }

  async done(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) return;
    await this.delete(bare);
    this.#changes++;
    const at = this.#ahead?.indexOf(bare) ?? -1;
    if (at >= 0) this.#ahead!.splice(at, 1);
  }
}
