import { opendir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crashIdDate, normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { ANNOTATION_NAME_PATTERN } from '../../../shared/src/protocol.ts';
import { DirSyncer, type FsOps, nodeFsOps, tempPath, writeFileDurably } from './durable.ts';
import type { CrashStorage, ProcessedCrash, RawCrash } from './types.ts';

export class CrashNotFound extends Error {
  constructor(crashId: string) {
    super(`No crash ${crashId}`);
    this.name = 'CrashNotFound';
  }
}

/**
 * Crashes on the local filesystem, one folder per crash, found by date from the ID alone:
 *
 *     <data-dir>/
 *       crashes/
 *         20261129/                      submission date (UTC), the ID's last six digits
 *           <crash id>/
 *             raw_crash.json             annotations + collector metadata (RawCrash)
 *             files/upload_file_minidump each attached file, byte for byte, named by its part
 *             processed_crash.json       written by the processor
 *       tmp/                             temp files and folders; emptied on start
 *
 * A crash folder is assembled in `tmp/`, every file fsynced, then renamed into place and its
 * parent fsynced, so after a power cut a crash is either whole or absent.
 */
export class FsCrashStorage implements CrashStorage {
  readonly crashesDir: string;
  readonly tmpDir: string;
  readonly #dirs: DirSyncer;
  readonly #madeDays = new Set<string>();

  constructor(
    readonly dataDir: string,
    private readonly fs: FsOps = nodeFsOps,
  ) {
    this.crashesDir = join(dataDir, 'crashes');
    this.tmpDir = join(dataDir, 'tmp');
    this.#dirs = new DirSyncer(fs);
  }

  /** Creates the folders and removes temp leftovers of a previous run that was killed. */
  async open(): Promise<{ removedTemp: number }> {
    await this.fs.mkdir(this.crashesDir);
    await this.fs.mkdir(this.tmpDir);
    const leftovers = await readdir(this.tmpDir);
    for (const name of leftovers) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    return { removedTemp: leftovers.length };
  }

  /** The folder of a crash; throws on anything that is not a well-formed crash ID. */
  crashDir(crashId: string): string {
    const bare = normalizeCrashId(crashId);
    if (!bare) throw new TypeError('Not a crash ID');
    return join(this.crashesDir, dayKey(crashIdDate(bare)), bare);
  }

  /** A day folder was removed (retention): the next crash of that day makes it again. */
  dayRemoved(day: string): void {
    this.#madeDays.delete(join(this.crashesDir, day));
  }

  async saveRaw(raw: RawCrash, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const finalDir = this.crashDir(raw.crash_id);
    const dayDir = join(finalDir, '..');
    const temp = tempPath(this.tmpDir, raw.crash_id);
    try {
      await this.fs.mkdir(join(temp, 'files'));
      await this.fs.writeFile(join(temp, 'raw_crash.json'), JSON.stringify(raw));
      for (const [name, data] of files) {
        if (!ANNOTATION_NAME_PATTERN.test(name)) throw new TypeError(`Bad file name ${name}`);
        await this.fs.writeFile(join(temp, 'files', name), data);
      }
      if (files.size > 0) await this.fs.fsync(join(temp, 'files'));
      await this.fs.fsync(temp);
      if (!this.#madeDays.has(dayDir)) {
        await this.fs.mkdir(dayDir);
        await this.#dirs.sync(this.crashesDir);
        this.#madeDays.add(dayDir);
      }
      await this.fs.rename(temp, finalDir);
    } catch (err) {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    await this.#dirs.sync(dayDir);
  }

  async getRaw(crashId: string): Promise<RawCrash | null> {
    return readJsonOrNull<RawCrash>(join(this.crashDir(crashId), 'raw_crash.json'));
  }

  async getFile(crashId: string, name: string): Promise<Uint8Array | null> {
    if (!ANNOTATION_NAME_PATTERN.test(name)) return null;
    try {
      return await readFile(join(this.crashDir(crashId), 'files', name));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async saveProcessed(processed: ProcessedCrash): Promise<void> {
    const dir = this.crashDir(processed.crash_id);
    if (!(await this.getRaw(processed.crash_id))) throw new CrashNotFound(processed.crash_id);
    try {
      await writeFileDurably(join(dir, 'processed_crash.json'), JSON.stringify(processed), this.tmpDir, this.fs, this.#dirs);
    } catch (err) {
      // Deleted while we wrote (forwarded by a master that keeps no copy, or expired).
      if (isNotFound(err) && !(await this.getRaw(processed.crash_id))) throw new CrashNotFound(processed.crash_id);
      throw err;
    }
  }

  async getProcessed(crashId: string): Promise<ProcessedCrash | null> {
    return readJsonOrNull<ProcessedCrash>(join(this.crashDir(crashId), 'processed_crash.json'));
  }

  async delete(crashId: string): Promise<void> {
    await rm(this.crashDir(crashId), { recursive: true, force: true });
  }

  async *listCrashIds(): AsyncIterable<string> {
    let days: string[];
    try {
      days = (await readdir(this.crashesDir)).filter((d) => /^\d{8}$/.test(d)).sort();
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const day of days) {
      const dir = await opendir(join(this.crashesDir, day));
      for await (const entry of dir) {
        if (entry.isDirectory() && normalizeCrashId(entry.name) === entry.name) yield entry.name;
      }
    }
  }
}

/** `YYYYMMDD` of a UTC date: the day folder name. */
export function dayKey(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function readJsonOrNull<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new Error(`Could not read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
