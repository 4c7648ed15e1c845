import { statSync } from 'node:fs';
import { APP_GUID_RULE, isAppGuid, withSubmitPath } from '../../../shared/src/protocol.ts';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound } from '../storage/fs-storage.ts';
import { type FsOps, nodeFsOps, writeFileDurably } from '../storage/durable.ts';

/** The registry file's name in the data dir. */
export const REGISTRY_FILE = 'forward-apps.json';

/** A registry lock older than this was left by a killed writer and is taken over. */
const STALE_LOCK_MS = 10_000;
const LOCK_RETRY_MS = 20;


/** One app whose crashes the master forwards to its private receiver. */
export interface RegisteredApp {
  /** The app's `WebAppGUID`, as given (matched without regard to case). */
  guid: string;
  /** Its private receiver's submit URL, ending in `/submit`. */
  submit_url: string;
  /** Forward attached files (`upload_file_minidump` and any other) too; off unless the operator says so. */
  trust_files: boolean;
  /** The master also keeps (and processes) its own copy; when false it deletes it after a successful forward. */
  keep_copy: boolean;
  added_at: string;
  updated_at: string;
}

interface RegistryFile {
  version: 1;
  apps: RegisteredApp[];
}

/** A registry entry that cannot be saved; `problems` lists every reason. */
export class InvalidApp extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid app: ${problems.join('; ')}`);
    this.name = 'InvalidApp';
  }
}

export interface AppInput {
  guid: string;
  submitUrl: string;
  trustFiles?: boolean;
  keepCopy?: boolean;
}

/** Checks and normalizes a submit URL: http(s), no credentials, path ending in `/submit` (appended when missing). */
export function normalizeSubmitUrl(text: string): { url: string } | { problem: string } {
  // A crash's SubmitURL is anyone's, up to a MiB: nothing longer than a real address is read.
  if (text.length > MAX_SUBMIT_URL_CHARS) return { problem: `submit URL is over ${MAX_SUBMIT_URL_CHARS} characters` };
  const trimmed = text.trim();
  const notUrl = `submit URL ${JSON.stringify(text.slice(0, 200))} is not a URL`;
  // Without "scheme://", `localhost:8000` parses as a URL of scheme "localhost:": a host (and
  // port) typed alone is answered with the address it most likely means.
  if (BARE_HOST.test(trimmed)) {
    const scheme = LOCAL_HOST.test(trimmed) ? 'http' : 'https';
    return { problem: `${notUrl}; did you mean ${scheme}://${trimmed.slice(0, 200)}?` };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { problem: notUrl };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `submit URL must be http or https, not ${url.protocol}` };
  if (url.username || url.password) return { problem: 'submit URL must not carry a user name or password' };
  return { url: withSubmitPath(url).toString() };
}

/** A host name or IPv4 address, with a port and a path or not, and no scheme: `crashes.example.com`, `127.0.0.1:8000/submit`. */
const BARE_HOST = /^[\w-]+(?:\.[\w-]+)*(?::\d+)?(?:[/?#]|$)/;
/** Hosts a receiver is reached at over plain http, as in tests and closed networks. */
const LOCAL_HOST = /^(?:localhost|[\w.-]+\.localhost|\d{1,3}(?:\.\d{1,3}){3})(?:[:/?#]|$)/i;

/** The longest submit URL taken (the extension sends at most 2,000 characters). */
export const MAX_SUBMIT_URL_CHARS = 2048;

/** Validates a registry entry, collecting every problem. */
export function validateApp(input: AppInput): { guid: string; submitUrl: string } {
  const problems: string[] = [];
  const guid = String(input.guid ?? '').trim();
  // The one rule the extension, the collector and the source map store use.
  if (!isAppGuid(guid)) problems.push(`GUID ${JSON.stringify(guid.slice(0, 200))} is not a GUID: ${APP_GUID_RULE}`);
  const submit = normalizeSubmitUrl(String(input.submitUrl ?? ''));
  if ('problem' in submit) problems.push(submit.problem);
  if (problems.length) throw new InvalidApp(problems);
  return { guid, submitUrl: (submit as { url: string }).url };
}

/** How long one look at the registry file's inode, size and mtime stands. */
export const REGISTRY_RECHECK_MS = 10;

/**
 * The apps a master forwards for, as one JSON file that the CLI and the server both edit:
 *
 *     <data-dir>/
 *       forward-apps.json        { "version": 1, "apps": [RegisteredApp, ...] }
 *       forward-apps.json.lock   held for a moment while a writer updates the file
 *
 * Writers take the lock, re-read, change, write durably (temp file + rename), so `socorrito
 * apps add` works whether or not the server runs. The server notices a new file by its
 * inode, size and mtime (one synchronous `stat`, a microsecond or two from the inode cache, far
 * cheaper than a trip through the thread pool), looked at most once per REGISTRY_RECHECK_MS, so
 * a change applies to crashes accepted from 10 ms after it, and a burst of thousands of crashes
 * a second costs a hundred stats, not thousands. A change made through this object applies at once.
 */
export class AppRegistry {
  readonly path: string;
  #apps = new Map<string, RegisteredApp>();
  #seen = '';
  /** When the file was last looked at (performance.now()). */
  #checkedAt = -Infinity;

  constructor(
    readonly dataDir: string,
    private readonly tmpDir: string,
    private readonly fs: FsOps = nodeFsOps,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.path = join(dataDir, REGISTRY_FILE);
  }

  /** The app registered for `guid`, re-reading the file when it changed. */
  async lookup(guid: string): Promise<RegisteredApp | null> {
    try {
      await this.#refresh();
      this.problem = null;
    } catch (err) {
      // A file broken by a hand edit must not cost the crashes accepted meanwhile their
      // forwarding: the last registry read whole stands until the file is fixed.
      if (!this.#seen) throw err;
      this.problem = `${(err as Error).message}; forwarding goes on with the apps registered before it broke`;
    }
    return this.#apps.get(guid.trim().toLowerCase()) ?? null;
  }

  /**
   * The app registered for `guid` as of the last read of the file, without reading it again:
   * for code that cannot wait (the processor's hook). Null when unknown.
   */
  cached(guid: string): RegisteredApp | null {
    return this.#apps.get(guid.trim().toLowerCase()) ?? null;
  }

  /** Why the file could not be read at the last lookup (which used the last registry read whole), or null. */
  problem: string | null = null;

  /** Every registered app, sorted by GUID. */
  async list(): Promise<RegisteredApp[]> {
    await this.#refresh();
    return [...this.#apps.values()].sort((a, b) => a.guid.localeCompare(b.guid));
  }

  /** Adds an app or updates the one with the same GUID; says which. */
  async upsert(input: AppInput): Promise<{ app: RegisteredApp; created: boolean }> {
    const { guid, submitUrl } = validateApp(input);
    return this.#edit((apps) => {
      const key = guid.toLowerCase();
      const old = apps.get(key);
      const at = this.now().toISOString();
      const app: RegisteredApp = {
        guid: old?.guid ?? guid,
        submit_url: submitUrl,
        trust_files: input.trustFiles ?? old?.trust_files ?? false,
        keep_copy: input.keepCopy ?? old?.keep_copy ?? true,
        added_at: old?.added_at ?? at,
        updated_at: at,
      };
      apps.set(key, app);
      return { app, created: !old };
    });
  }

  /** Removes an app and says which it was; null when it was not registered. */
  async remove(guid: string): Promise<RegisteredApp | null> {
    return this.#edit((apps) => {
      const key = guid.trim().toLowerCase();
      const app = apps.get(key) ?? null;
      apps.delete(key);
      return app;
    });
  }

  async #edit<T>(change: (apps: Map<string, RegisteredApp>) => T): Promise<T> {
    // `apps add` may come before the first `serve`: make the data dir as serve would.
    await this.fs.mkdir(this.dataDir);
    const release = await this.#lock();
    try {
      this.#seen = '';
      await this.#refreshNow(); // under the lock: read what is on disk now, not a shared earlier look
      const apps = new Map(this.#apps);
      const result = change(apps);
      const file: RegistryFile = { version: 1, apps: [...apps.values()].sort((a, b) => a.guid.localeCompare(b.guid)) };
      await this.fs.mkdir(this.tmpDir);
      await writeFileDurably(this.path, `${JSON.stringify(file, null, 2)}\n`, this.tmpDir, this.fs);
      this.#apps = apps;
      this.#seen = '';
      return result;
    } finally {
      await release();
    }
  }

  #refreshing: Promise<void> | null = null;

  /** Re-reads the file when it changed; callers while it is being read share that read. */
  #refresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    const now = performance.now();
    if (this.#seen && now - this.#checkedAt < REGISTRY_RECHECK_MS) return Promise.resolve();
    this.#checkedAt = now;
    const s = statSync(this.path, { throwIfNoEntry: false });
    const key = s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'absent';
    if (key === this.#seen) return Promise.resolve();
    this.#refreshing = this.#refreshNow().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refreshNow(): Promise<void> {
    let key: string;
    try {
      const s = await stat(this.path);
      key = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#apps = new Map();
      this.#seen = 'absent';
      return;
    }
    if (key === this.#seen) return;
    this.#apps = parseRegistry(await readFile(this.path, 'utf8'), this.path);
    this.#seen = key;
  }

  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + STALE_LOCK_MS * 2;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        try {
          await handle.writeFile(`${process.pid}\n`);
        } finally {
          await handle.close();
        }
        return () => rm(lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lockPath, { force: true });
        else if (Date.now() > deadline) throw new Error(`The app registry ${lockPath} stays locked; remove the lock if no socorrito is editing it`);
        else await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
      }
    }
  }
}

/** The registry file is there but is not a registry (a hand edit broke it); the message says what to do. */
export class RegistryUnreadable extends Error {
  constructor(path: string, why: string, options?: ErrorOptions) {
    super(`Could not read the app registry ${path}: ${why}; fix the file, or move it away to have no app registered`, options);
  }
}

function parseRegistry(text: string, path: string): Map<string, RegisteredApp> {
  let file: RegistryFile;
  try {
    file = JSON.parse(text) as RegistryFile;
  } catch (err) {
    throw new RegistryUnreadable(path, (err as Error).message, { cause: err });
  }
  if (!file || !Array.isArray(file.apps)) throw new RegistryUnreadable(path, 'no "apps" list');
  const apps = new Map<string, RegisteredApp>();
  for (const [i, app] of file.apps.entries()) {
    // A hand-edited entry that would not pass `apps add` stops the file as broken JSON does: left
    // out quietly, an app meant to keep no copy on the master would have every crash kept here.
    const where = `entry ${i + 1}${typeof app?.guid === 'string' ? ` (${JSON.stringify(app.guid.slice(0, 80))})` : ''}`;
    if (typeof app?.guid !== 'string' || typeof app.submit_url !== 'string') {
      const keys = app && typeof app === 'object' ? Object.keys(app).join(', ') : typeof app;
      throw new RegistryUnreadable(path, `${where} needs "guid" and "submit_url" (it has: ${keys})`);
    }
    try {
      validateApp({ guid: app.guid, submitUrl: app.submit_url });
    } catch (err) {
      if (err instanceof InvalidApp) throw new RegistryUnreadable(path, `${where}: ${err.problems.join('; ')}`);
      throw err;
    }
    const url = normalizeSubmitUrl(app.submit_url) as { url: string };
    apps.set(app.guid.toLowerCase(), {
      ...app,
      submit_url: url.url,
      trust_files: app.trust_files === true,
      keep_copy: app.keep_copy !== false,
    });
  }
  return apps;
}
