import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
 * Entries are removed when processing finished (or gave up and recorded why in the crash),
 * unless the crash was queued again while it was processed: then it is processed once more.
 */
/** Entries read from the folder at once when it is long. */
const READ_AHEAD = 5_000;

/** The day a queue entry sorts by: crash IDs end in the date. */
const dayOf = (name: string): string => name.slice(-6);

export class FsWorkQueue extends DurableFolder implements WorkQueue {
  /**
   * The first entries of the folder, oldest days first, as last read, less those done since and
   * with those queued since that sort before its end: one read of a long queue serves many
   * batches (reading 60,000 names per batch of 50 cost 5 ms a crash). Read again when fewer than
   * a batch are left, so a short queue is read at every look and a long one once per READ_AHEAD
   * entries; entries of later days queued meanwhile are found then.
   */
  #ahead: string[] = [];
  /**
   * Entries of days before this one that are in the folder are all in #ahead (the day of the
   * first entry the read left out, or of the last one when it took the whole folder); null when
   * the folder was empty. Entries of this day and later wait for the next read.
   */
  #aheadEndsAt: string | null = null;
  /** The read under way, shared by the callers that come meanwhile. */
  #reading: Promise<void> | null = null;
  /** Entries queued or done while a read was under way (the last of the two): the read may have missed it. */
  #changedDuringRead = new Map<string, 'queued' | 'done'>();
  /** Crashes being processed, and whether one was queued again since its processing started. */
  #inHand = new Map<string, boolean>();
  /**
   * The last file operation asked for on each entry: the next waits for it, so a delete and a
   * write of the same entry happen in the order they were asked for (a write renamed into place
   * just before an older delete ran would be lost).
   */
  #turns = new Map<string, Promise<void>>();
  /** Crashes whose deletion began (`deleting`) and whose entry is not yet done. */
  #deleting = new Set<string>();

  constructor(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps) {
    super(dataDir, 'queue', tmpDir, fs);
  }

  async enqueue(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) throw new TypeError('Not a crash ID');
    // Marked when asked, not when written: processing that finishes meanwhile must keep the entry.
    if (this.#inHand.has(bare)) this.#inHand.set(bare, true);
    await this.#inTurn(bare, async () => {
      await this.write(bare, `${Date.now()}\n`);
      if (this.#reading) this.#changedDuringRead.set(bare, 'queued');
      this.#join(bare);
    });
  }

  async pending(limit: number): Promise<string[]> {
    if (this.#ahead.length < limit) {
      this.#reading ??= this.#read().finally(() => {
        this.#reading = null;
        this.#changedDuringRead.clear();
      });
      await this.#reading;
    }
    return this.#ahead.slice(0, limit);
  }

  async #read(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n);
    // Crash IDs end in the date, so sorting by that suffix gives days in order; good enough
    // for fairness without reading every entry.
    names.sort((a, b) => dayOf(a).localeCompare(dayOf(b)));
    this.#aheadEndsAt = names.length ? dayOf(names[Math.min(READ_AHEAD, names.length - 1)]!) : null;
    this.#ahead = names.slice(0, READ_AHEAD);
    // The folder was listed at some moment of the read: what changed around it is applied again.
    for (const [name, change] of this.#changedDuringRead) {
      if (change === 'done') this.#leave(name);
      else this.#join(name);
    }
  }

  /** Puts a queued entry in its place in #ahead when it sorts before its end (an older day). */
  #join(name: string): void {
    const day = dayOf(name);
    if (this.#aheadEndsAt === null || day >= this.#aheadEndsAt || this.#ahead.includes(name)) return;
    // After the last entry of its day or an earlier one.
    let lo = 0;
    let hi = this.#ahead.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (dayOf(this.#ahead[mid]!) <= day) lo = mid + 1;
      else hi = mid;
    }
    this.#ahead.splice(lo, 0, name);
    if (this.#ahead.length > READ_AHEAD) {
      // Kept to its size (a reprocess of every app queues older days by the thousand): the last
      // one is still in the folder, and so are others of its day, found at the next read.
      const dropped = this.#ahead.pop()!;
      if (dayOf(dropped) < this.#aheadEndsAt) this.#aheadEndsAt = dayOf(dropped);
    }
  }

  #leave(name: string): void {
    const at = this.#ahead.indexOf(name);
    if (at >= 0) this.#ahead.splice(at, 1);
  }

  #inTurn(name: string, op: () => Promise<void>): Promise<void> {
    const run = (this.#turns.get(name) ?? Promise.resolve()).then(op);
    const settled = run.catch(() => undefined);
    this.#turns.set(name, settled);
    void settled.then(() => {
      if (this.#turns.get(name) === settled) this.#turns.delete(name);
    });
    return run;
  }

  /**
   * How many crashes wait (one directory read: for the stats, not for a hot path). Throws an
   * Error naming the folder and what to do when it cannot be read (a file in its place, say).
   */
  async size(): Promise<number> {
    try {
      return (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n).length;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`could not read the processing queue ${this.dir} (${code}): make it a folder the receiver's user can read and write`, { cause: err });
    }
  }

  has(crashId: string): boolean {
    const bare = normalizeCrashId(crashId);
    return bare !== null && !this.#deleting.has(bare) && existsSync(join(this.dir, bare));
  }

  deleting(crashId: string): void {
    const bare = normalizeCrashId(crashId);
    if (bare) this.#deleting.add(bare);
  }

  started(crashId: string): void {
    const bare = normalizeCrashId(crashId);
    if (bare) this.#inHand.set(bare, false);
  }

  async finished(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) return;
    const queuedAgain = this.#inHand.get(bare) === true;
    this.#inHand.delete(bare);
    // Its entry is the one the enqueue wrote, still in #ahead: the crash comes round again.
    if (!queuedAgain) await this.done(bare);
  }

  async done(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) return;
    // A crash deleted after a failed try (it stays queued, `started` but never `finished`) is forgotten here.
    this.#inHand.delete(bare);
    await this.#inTurn(bare, async () => {
      try {
        await this.delete(bare);
      } finally {
        // Once the entry is gone; if it could not be removed, it is queued as far as anyone can tell.
        this.#deleting.delete(bare);
      }
      if (this.#reading) this.#changedDuringRead.set(bare, 'done');
      this.#leave(bare);
    });
  }
}
