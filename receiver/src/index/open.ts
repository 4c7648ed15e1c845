import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isDiskFull } from '../storage/durable.ts';
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
 * schema, or its last rebuild was cut short, it is refilled from storage in the background
 * (live mode: crashes processed meanwhile are indexed as usual), and the log says so.
 */
export function openIndexForServer(dataDir: string, storage: CrashStorage, log: (line: string) => void): OpenIndex {
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
  index.setOwner(ownerName());
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
