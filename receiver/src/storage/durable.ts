import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The few filesystem calls durable storage needs, passed in so tests can make the disk fail
 * (a full disk, a read-only mount) without mocking modules.
 */
/**
 * Whether an error says the disk (or the user's quota) is full: a state that passes once space
 * is freed, so work that hit it waits and tries again rather than giving up.
 */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export interface FsOps {
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  fsync(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}

/** Open, write and fsync through one handle: the data is on disk when this resolves. */
async function writeNewFile(path: string, data: Uint8Array | string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const nodeFsOps: FsOps = {
  writeFile: (path, data) => writeNewFile(path, data, 0o640),
  async fsync(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
};

/** The filesystem calls on the real disk, new files created with `fileMode`. */
export function nodeFsOpsWithMode(fileMode: number): FsOps {
  return { ...nodeFsOps, writeFile: (path, data) => writeNewFile(path, data, fileMode) };
}

/**
 * Group commit for one flush operation (an fsync): every caller is answered by a flush that
 * started after it asked, but callers that arrive while one is running share the next one.
 * Under load this turns one flush per write into one per batch, without weakening the promise.
 */
export class SharedFlush {
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  constructor(private readonly flushNow: () => Promise<void>) {}

  flush(): Promise<void> {
    if (!this.#running) return this.#start();
    // One is running and may have started before our write: wait for the one after it.
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        return this.#start();
      });
    return this.#next;
  }

  /** Resolves once the flushes asked for so far have ended (failed ones too). */
  settled(): Promise<void> {
    return (this.#next ?? this.#running ?? Promise.resolve()).catch(() => undefined);
  }

  #start(): Promise<void> {
    const run = this.flushNow().finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }
}

/** Fsyncs directories with group commit (SharedFlush per directory). */
export class DirSyncer {
  readonly #flushes = new Map<string, SharedFlush>();

  constructor(private readonly fs: FsOps = nodeFsOps) {}

  sync(dir: string): Promise<void> {
    let flush = this.#flushes.get(dir);
    if (!flush) {
      flush = new SharedFlush(() => this.fs.fsync(dir));
      this.#flushes.set(dir, flush);
    }
    return flush.flush();
  }
}

/** A fresh name for a temp file or folder in `tmpDir`. */
export function tempPath(tmpDir: string, label: string): string {
  return join(tmpDir, `${label}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` so that after a crash of the machine the file is either absent or
 * whole: temp file in `tmpDir` (same filesystem), fsync, rename, fsync of the directory.
 */
export async function writeFileDurably(
  path: string,
  data: Uint8Array | string,
  tmpDir: string,
  fs: FsOps = nodeFsOps,
  dirSyncer: DirSyncer = new DirSyncer(fs),
): Promise<void> {
  const temp = tempPath(tmpDir, 'file');
  try {
    await fs.writeFile(temp, data);
    await fs.rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await dirSyncer.sync(dirname(path));
}

/**
 * A folder of small files in the data dir, each written durably (temp file, fsync, rename,
 * directory fsync) and removed when done with: the processing queue, the forwarding outbox and
 * its failed list, the webhook's outbox. Subclasses name the files and say what is in them.
 */
export class DurableFolder {
  readonly dir: string;
  readonly #dirs: DirSyncer;

  constructor(
    dataDir: string,
    folder: string,
    protected readonly tmpDir: string,
    protected readonly fs: FsOps = nodeFsOps,
  ) {
    this.dir = join(dataDir, folder);
    this.#dirs = new DirSyncer(fs);
  }

  async open(): Promise<void> {
    await this.fs.mkdir(this.dir);
  }

  /** Writes the file `name` in the folder durably (a new one, or replacing the old whole). */
  protected async write(name: string, data: string): Promise<void> {
    await writeFileDurably(join(this.dir, name), data, this.tmpDir, this.fs, this.#dirs);
  }

  /** Removes the file `name`; one already gone is fine. */
  protected async delete(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true });
  }
}
