import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ownerIsRunning } from '../index/open.ts';

/** The file that says which process serves a data dir: `<pid>@<host>`. */
export const LOCK_FILE = 'receiver.pid';

export class DataDirBusy extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: string,
  ) {
    super(
      `another receiver (${owner}) is using ${dataDir}; stop it first, or start this one with another --data-dir ` +
        `(if none runs, the process ${owner} is not a receiver: remove ${join(dataDir, LOCK_FILE)})`,
    );
    this.name = 'DataDirBusy';
  }
}

/**
 * Claims a data dir for this process: two receivers on one folder would empty each other's
 * temp files and replay each other's journal. A lock left by a process that is gone is taken
 * over. Returns the release function.
 */
export async function lockDataDir(dataDir: string, log: (line: string) => void = () => undefined): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      try {
        await handle.writeFile(`${me}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (ownerIsRunning(owner) || attempt > 0) throw new DataDirBusy(dataDir, owner || 'unknown');
      // Left by a process that is gone. One on another host cannot be checked from here: a data
      // dir shared over the network may be in use there, so that is said.
      const elsewhere = /^\d+@(.+)$/.exec(owner)?.[1];
      if (elsewhere && elsewhere !== hostname()) log(`storage: took over ${path} from ${owner}, on another host; if a receiver runs there on this folder, stop one of them`);
      await rm(path, { force: true });
    }
  }
  return async () => {
    const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (owner === me) await rm(path, { force: true });
  };
}
