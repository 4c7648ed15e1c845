import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { opendir, readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { isDiskFull, writeFileDurably } from '../storage/durable.ts';
import type { CrashStorage } from '../storage/types.ts';
import { CrashIndex } from './crash-index.ts';
import { rebuildIndex } from './rebuild.ts';

/** The index file inside the data dir. */
export const INDEX_FILE = 'index.sqlite';
/**
 * Left in the data dir when a running receiver finds its index damaged (SQLite says so in a
 * query): the next start sets the index aside and rebuilds it, as it does for one it cannot open.
 */
export const INDEX_DAMAGED_MARK = 'index.sqlite.damaged';

/** Whether an error is SQLite saying the file is damaged. */
export function isIndexDamage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT_'));
}

/** Moves the index and its write-ahead log aside (`.damaged-<ms>`); says where. */
export function setIndexAside(path: string): string {
  const aside = `${path}.damaged-${Date.now()}`;
  // Its write-ahead log goes with it: replayed into a new file, it would damage that too.
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  return aside;
}

/** How a running receiver names itself in the index, so `socorrito reindex` can tell it is there. */
export function ownerName(pid: number = process.pid): string {
  return `${pid}@${hostname()}`;
}

/** True when `owner` names a process that is alive on this machine (not this process). */
export function ownerIsRunning(owner: string | null): boolean {
  const m = /^(\d+)@(.*)$/.exec(owner ?? '');
  if (!m || m[2] !== hostname() || Number(m[1]) === process.pid) return false;
  try {
    process.kill(Number(m[1]), 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // After a reboot the number may belong to another program: only a receiver counts.
  return isReceiverProcess(Number(m[1]));
}

/**
 * Whether process `pid` runs socorrito (its command line names it), where /proc says; true
 * where it cannot be told (no /proc), so a receiver is never taken for gone.
 */
function isReceiverProcess(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return true;
  }
  return cmdline === '' || /socorrito|receiver\/src|bin\/socorrito/i.test(cmdline);
}

/**
 * Beside the index in the data dir: the stamp a receiver gave the index and its data dir at its
 * last start (see stampIndex), one a line; a second line only while a new one is being given.
 */
export const STORAGE_STAMP_FILE = 'storage-stamp';
/** The newest crashes of the index whose folders are looked for at start. */
export const CHECK_NEWEST_INDEXED = 1_000;
/** At most this many crash folders of the newest days are looked up in the index at start. */
export const CHECK_NEWEST_FOLDERS = 5_000;
/** The newest day folders whose crashes are looked up. */
const CHECK_DAYS = 2;

/** Where the stored crashes are, for checking the index against them. */
export interface StoredCrashes {
  /** `<data-dir>/crashes`, a folder per UTC day (`YYYYMMDD`) of crash folders. */
  crashesDir: string;
  crashDir(crashId: string): string;
  /** Whether a crash waits in the processing queue: processed already or not, it may not be indexed yet. */
  queued(crashId: string): boolean;
  /** Folder for temp files, on the data dir's disk. */
  tmpDir: string;
  /** Whether retention, as now set, deletes a day folder (`YYYYMMDD`); always when not given. */
  expired?(day: string): boolean;
}

/**
 * Why the index does not match the stored crashes, or null when nothing says so. Cheap at any
 * size (bounded work, no listing of the whole store), so it runs at every start:
 *
 * - the stamp: a receiver gives the index and the data dir a new random stamp at each start. An
 *   index from another data dir, a copy of it from before the last start, or one copied without
 *   its write-ahead log (which held the stamp) carries another one. An index without a stamp
 *   (new, from a release before stamps, or built by `socorrito reindex`) is not judged by it.
 * - the newest CHECK_NEWEST_INDEXED crashes the index holds have folders: crash folders restored
 *   from an older backup lack the crashes that came after it. A crash deleted on purpose (the
 *   API, retention, a master that keeps no copy) leaves the index as it goes; one whose deletion
 *   a stop cut short after its folder went is marked in the index (CrashIndex.markDeleting).
 * - processed crashes in the newest CHECK_DAYS day folders are in the index: an older index
 *   lacks them. A processed crash is indexed before it leaves the queue, so one still queued
 *   (killed before it was indexed, or queued again) is not missing; nor is one not processed
 *   yet, nor one still in the journal (it has no folder yet). A day retention was deleting when
 *   a stop cut its sweep short is left out: its crashes leave the index before its folder goes
 *   (CrashIndex.markSweeping), and on a receiver idle for longer than its retention it is the
 *   newest day there is.
 */
export async function storageMismatch(index: CrashIndex, dataDir: string, crashes: StoredCrashes): Promise<string | null> {
  const stamp = index.stamp();
  const expected = await readStamps(dataDir);
  if (stamp !== null && !expected.includes(stamp)) {
    return expected.length
      ? `it carries another stamp than ${join(dataDir, STORAGE_STAMP_FILE)}: a copy from an earlier start or another data dir`
      : `it carries a stamp and ${join(dataDir, STORAGE_STAMP_FILE)} is missing: it comes from another data dir`;
  }
  const newest = index.newestCrashIds(CHECK_NEWEST_INDEXED);
  // A deletion cut short between its folder and the index is no sign of a restore.
  const deleting = new Set(index.deletionsUnderWay());
  const gone = newest.filter((id) => !deleting.has(id) && !existsSync(crashes.crashDir(id)));
  if (gone.length) {
    return `${gone.length} of the ${newest.length} newest crashes it holds have no folder (bp-${gone[0]}): crash folders restored from an older backup?`;
  }
  const sweeping = new Set(index.sweepsUnderWay());
  let days: string[];
  try {
    days = (await readdir(crashes.crashesDir))
      .filter((d) => /^\d{8}$/.test(d) && !sweeping.has(d))
      .sort()
      .slice(-CHECK_DAYS)
      .reverse();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let looked = 0;
  const missing: string[] = [];
  for (const day of days) {
    const dir = await opendir(join(crashes.crashesDir, day));
    for await (const entry of dir) {
      if (!entry.isDirectory() || normalizeCrashId(entry.name) !== entry.name) continue;
      if (!index.hasCrash(entry.name) && !crashes.queued(entry.name) && (await isProcessed(join(dir.path, entry.name)))) missing.push(entry.name);
      // Leaving the loop closes the folder.
      if (++looked >= CHECK_NEWEST_FOLDERS) break;
    }
    if (looked >= CHECK_NEWEST_FOLDERS) break;
  }
  if (missing.length) {
    return `${missing.length} processed crashes of the newest days are not in it (bp-${missing[0]}): an older copy of the index restored?`;
  }
  return null;
}

/** Whether a crash folder holds a processed crash the index would take (as rebuildIndex reads it). */
async function isProcessed(crashDir: string): Promise<boolean> {
  try {
    const processed = JSON.parse(await readFile(join(crashDir, 'processed_crash.json'), 'utf8')) as { signature_id?: unknown };
    return typeof processed.signature_id === 'string';
  } catch {
    // Not processed yet, or unreadable: a rebuild would not index it either.
    return false;
  }
}

/** The stamps the data dir says its index may carry; none when the file is missing. */
async function readStamps(dataDir: string): Promise<string[]> {
  try {
    return (await readFile(join(dataDir, STORAGE_STAMP_FILE), 'utf8')).split('\n').filter(Boolean);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Gives the index and the data dir a new stamp. A start killed half way leaves them matching:
 * the file first names both the old stamp and the new one, then the index takes the new one,
 * then the file names it alone.
 */
async function stampIndex(index: CrashIndex, dataDir: string, tmpDir: string): Promise<void> {
  const path = join(dataDir, STORAGE_STAMP_FILE);
  const next = randomUUID();
  const old = index.stamp();
  await writeFileDurably(path, `${next}\n${old ?? ''}\n`, tmpDir);
  index.setStamp(next);
  await writeFileDurably(path, `${next}\n`, tmpDir);
}

export interface OpenIndex {
  index: CrashIndex;
  /** True while a background rebuild runs. */
  rebuilding(): boolean;
  /** Resolves when the background rebuild (if any) has finished or stopped: true when the index is whole. */
  rebuilt: Promise<boolean>;
  /** Stops a running rebuild and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens `<data-dir>/index.sqlite` for a running receiver. When the index is new, of an older
 * schema, its last rebuild was cut short, or it does not match the stored crashes (see
 * storageMismatch: a backup restored), it is refilled from storage in the background (live
 * mode: crashes processed meanwhile are indexed as usual), and the log says so.
 */
export async function openIndexForServer(dataDir: string, storage: CrashStorage, crashes: StoredCrashes, log: (line: string) => void): Promise<OpenIndex> {
  const path = join(dataDir, INDEX_FILE);
  const mark = join(dataDir, INDEX_DAMAGED_MARK);
  let index: CrashIndex;
  if (existsSync(mark)) {
    // The last run found it damaged: the index is only a cache of storage, built again.
    log(`index: the last run found ${path} damaged; moved it to ${setIndexAside(path)} and starting a new one`);
    rmSync(mark, { force: true });
  }
  try {
    index = CrashIndex.open(path);
  } catch (err) {
    // A full disk is no damage: the file is kept, and starting waits for space.
    if (isDiskFull(err)) throw err;
    // The index is only a cache of storage: a damaged file is set aside and rebuilt.
    log(`index: cannot use ${path} (${(err as Error).message}); moved it to ${setIndexAside(path)} and starting a new one`);
    index = CrashIndex.open(path);
  }
  try {
    // A sweep a stop cut short after its day's folder went has nothing left to do. One whose folder
    // is still there keeps its note until retention sweeps that day again, if it will: turned off
    // or made longer since, it keeps the day, whose crashes the index may have forgotten (checked).
    for (const day of index.sweepsUnderWay()) {
      if (!existsSync(join(crashes.crashesDir, day)) || crashes.expired?.(day) === false) index.unmarkSweeping(day);
    }
    if (!index.rebuildReason) {
      let mismatch: string | null = null;
      try {
        mismatch = await storageMismatch(index, dataDir, crashes);
      } catch (err) {
        if (isDiskFull(err)) throw err;
        log(`index: could not check ${path} against the stored crashes (${(err as Error).message}); using it as it is`);
      }
      // What it holds is wrong, not merely incomplete: it starts over, as a new index.
      if (mismatch) index.startOver(`it does not match the stored crashes: ${mismatch}`);
    }
    // Deletions a stop cut short: a crash whose folder went leaves the index now; one whose folder
    // is still there stays (its deletion was never answered, and may be asked again).
    for (const id of index.deletionsUnderWay()) {
      if (existsSync(crashes.crashDir(id))) index.unmarkDeleting(id);
      else index.erase(id);
    }
    // After starting over, which empties the meta table too.
    index.setOwner(ownerName());
    await stampIndex(index, dataDir, crashes.tmpDir);
  } catch (err) {
    index.close();
    throw err;
  }
  const stop = new AbortController();
  let running = false;
  let rebuilt = Promise.resolve(true);
  if (index.rebuildReason) {
    running = true;
    log(`index: rebuilding ${path} from stored crashes (${index.rebuildReason})`);
    const started = Date.now();
    rebuilt = rebuildIndex(storage, index, { mode: 'live', signal: stop.signal })
      .then((p) => {
        if (stop.signal.aborted) return false;
        log(`index: rebuilt: ${p.indexed} crashes indexed, ${p.unprocessed} not processed yet, in ${Date.now() - started} ms`);
        return true;
      })
      .catch((err: Error) => {
        log(`index: rebuild failed: ${err.stack ?? err.message}`);
        return false;
      })
      .finally(() => {
        running = false;
      });
  }
  return {
    index,
    rebuilding: () => running,
    rebuilt,
    close: async () => {
      stop.abort();
      await rebuilt;
      index.setOwner(null);
      index.close();
    },
  };
}
