import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CrashIndex } from '../index/crash-index.ts';
import { INDEX_DAMAGED_MARK, INDEX_FILE, isIndexDamage, ownerIsRunning } from '../index/open.ts';
import { rebuildIndex } from '../index/rebuild.ts';
import { isDiskFull } from '../storage/durable.ts';
import { FsCrashStorage } from '../storage/fs-storage.ts';
import { crashesWaitingInJournal } from '../storage/journal.ts';
import { type CliIo, dataDirSetting, refuseNewerDataDir, UsageError, parseCommandArgs, requireDataDir } from './usage.ts';

export const REINDEX_HELP = `socorrito reindex [--data-dir ./data] [--live]
  Rebuilds the crash index (<data-dir>/${INDEX_FILE}) from the stored processed crashes, printing
  progress, into a new file (a damaged one is replaced). Stop the receiver first, or pass --live
  to add to the index a running receiver uses (that adds and updates; it removes nothing).`;

/** What a receiver leaves in its data dir; a folder with none of them is not one. */
const DATA_DIR_MARKS = ['crashes/', 'journal/', 'admin-token', INDEX_FILE];

/** Progress lines at most this often. */
const PROGRESS_INTERVAL_MS = 1_000;

/** `socorrito reindex`: the index is a cache of storage; this refills it. */
export async function reindexCommand(argv: string[], io: CliIo, now: () => number = Date.now): Promise<number> {
  const { values } = parseCommandArgs('reindex', argv, { 'data-dir': { type: 'string' }, live: { type: 'boolean' } });
  const dataDir = dataDirSetting('reindex', values['data-dir'], io.env);
  requireDataDir('reindex', dataDir);
  // A wrong --data-dir must not get an empty index.sqlite of its own.
  if (!DATA_DIR_MARKS.some((name) => existsSync(join(dataDir, name)))) {
    throw new UsageError(
      `reindex: ${dataDir} does not look like a receiver's data dir (it has none of ${DATA_DIR_MARKS.join(', ')}); pass the folder the receiver uses, with --data-dir or SOCORRITO_DATA_DIR`,
      1,
    );
  }
  await refuseNewerDataDir('reindex', dataDir);
  const storage = new FsCrashStorage(dataDir);
  const path = join(dataDir, INDEX_FILE);
  let index = openOrNull(path);
  const started = now();
  let lastReport = 0;
  try {
    const owner = ownerOf(index);
    if (!values.live && ownerIsRunning(owner)) {
      throw new UsageError(
        `reindex: a receiver (${owner}) is using ${path}; stop it first, or pass --live to rebuild while it runs`,
        1, // the command was right; the moment is not
      );
    }
    if (!values.live) {
      // Everything is read again, so the old file is not needed: a damaged one cannot get in the way.
      index?.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      rmSync(join(dataDir, INDEX_DAMAGED_MARK), { force: true });
      index = CrashIndex.open(path);
    } else if (!index) {
      throw new UsageError(`reindex: ${path} cannot be opened; stop the receiver and run socorrito reindex without --live (or restart it: it rebuilds the index)`, 1);
    }
    io.out(`socorrito reindex: rebuilding ${path} from ${storage.crashesDir}${values.live ? ' (live)' : ''}`);
    const result = await rebuildIndex(storage, index, {
      mode: values.live ? 'live' : 'bulk',
      onProgress: (p) => {
        if (now() - lastReport < PROGRESS_INTERVAL_MS && p.seen < p.total) return;
        lastReport = now();
        const pct = p.total ? Math.floor((p.seen / p.total) * 100) : 100;
        io.out(`socorrito reindex: ${p.seen}/${p.total} crashes read (${pct}%), ${p.indexed} indexed`);
      },
    });
    io.out(
      `socorrito reindex: done: ${result.indexed} crashes indexed, ${result.unprocessed} not processed yet, in ${((now() - started) / 1000).toFixed(1)} s`,
    );
    // A receiver stopped abruptly leaves crashes it accepted in its journal, not yet in folders.
    const waiting = values.live ? 0 : await crashesWaitingInJournal(dataDir, storage);
    if (waiting) {
      io.out(`socorrito reindex: ${waiting} more accepted ${waiting === 1 ? 'crash waits' : 'crashes wait'} in ${join(dataDir, 'journal')}: the receiver takes them in, processes and indexes them at its next start`);
    }
  } catch (err) {
    if (!isIndexDamage(err)) throw err;
    throw new UsageError(`reindex: ${path} is damaged (${(err as Error).message}); stop the receiver and run socorrito reindex without --live, which builds a new one`, 1);
  } finally {
    index?.close();
  }
  return 0;
}

/** The index at `path`, or null when it cannot be opened at all (damaged). */
function openOrNull(path: string): CrashIndex | null {
  try {
    return CrashIndex.open(path);
  } catch (err) {
    if (isDiskFull(err)) throw err;
    return null;
  }
}

/** Who has the index open, or null when none does or the file cannot say (damaged). */
function ownerOf(index: CrashIndex | null): string | null {
  try {
    return index?.owner() ?? null;
  } catch {
    return null;
  }
}
