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
export class FsWorkQueue extends DurableFolder implements WorkQueue {
  constructor(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps) {
    super(dataDir, 'queue', tmpDir, fs);
  }

  async enqueue(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (!bare) throw new TypeError('Not a crash ID');
    await this.write(bare, `${Date.now()}\n`);
  }

  async pending(limit: number): Promise<string[]> {
    const names = (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n);
    // Crash IDs end in the date, so sorting by that suffix gives days in order; good enough
    // for fairness without reading every entry.
    names.sort((a, b) => a.slice(-6).localeCompare(b.slice(-6)));
    return names.slice(0, limit);
  }

  /** How many crashes wait (one directory read: for the stats, not for a hot path). */
  async size(): Promise<number> {
    return (await readdir(this.dir)).filter((n) => normalizeCrashId(n) === n).length;
  }

  async done(crashId: string): Promise<void> {
    const bare = normalizeCrashId(crashId);
    if (bare) await this.delete(bare);
  }
}
