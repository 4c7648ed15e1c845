import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The few filesystem calls durable storage needs, passed in so tests can make the disk fail
 * (a full disk, a read-only mount) without mocking modules.
 */
export interface FsOps {
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  fsync(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}

export const nodeFsOps: FsOps = {
  async writeFile(path, data) {
    // Open, write and fsync through one handle: the data is on disk when this resolves.
    const handle = await open(path, 'wx', 0o640);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
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

/**
 * Fsyncs directories with group commit: every caller is answered by an fsync that started
 * after it asked, but callers that arrive while one is running share the next one. Under load
 * this turns one directory fsync per crash into one per batch, without weakening the promise.
 */
export class DirSyncer {
  readonly #pending = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

  constructor(private readonly fs: FsOps = nodeFsOps) {}

  sync(dir: string): Promise<void> {
    let slot = this.#pending.get(dir);
    if (!slot) {
      slot = { running: null, next: null };
      this.#pending.set(dir, slot);
    }
    if (!slot.running) {
      slot.running = this.#run(dir, slot);
      return slot.running;
    }
    // One is running and may have started before our rename: wait for the one after it.
    slot.next ??= slot.running.catch(() => undefined).then(() => {
      slot.next = null;
      slot.running = this.#run(dir, slot);
      return slot.running;
    });
    return slot.next;
  }

  async #run(dir: string, slot: { running: Promise<void> | null }): Promise<void> {
    try {
      await this.fs.fsync(dir);
    } finally {
      slot.running = null;
      if (!this.#pending.get(dir)?.next) this.#pending.delete(dir);
    }
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
