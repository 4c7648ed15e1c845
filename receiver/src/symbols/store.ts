import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sourceMapProblem } from './check-map.ts';
import { writeFileDurably } from '../storage/durable.ts';
import { isNotFound } from '../storage/fs-storage.ts';
import { InvalidSymbolsInput, normalizeDebugId, normalizeFileKey, validateAppGuid, validateRelease } from './validate.ts';

/** What the store knows about one uploaded file. */
export interface StoredFile {
  /** `~/static/app.js` or `https://host/static/app.js`. */
  key: string;
  kind: 'script' | 'map';
  size: number;
  /** Hex SHA-256 of the content; also its name on disk and its cache key. */
  sha256: string;
  /** `//# debugId=` of a script, `debugId`/`debug_id` of a map. */
  debug_id?: string;
  /** A script's last `//# sourceMappingURL=` (a `data:` URL is recorded as `data:`). */
  source_mapping_url?: string;
  uploaded_at: string;
}

interface Manifest {
  app: string;
  release: string;
  files: Record<string, StoredFile>;
}

export interface UploadFile {
  /** The name it was uploaded under (becomes its key, see normalizeFileKey). */
  name: string;
  data: Uint8Array;
}

export interface UploadResult {
  app: string;
  release: string;
  stored: StoredFile[];
  /** Files refused, each with why. */
  rejected: { name: string; reason: string }[];
  /** Files of the release removed because `replace` was set and they were not re-uploaded. */
  removed: string[];
}

/** Largest `sourceMappingURL` we record from a script (data: maps are read from the script). */
const MAX_RECORDED_URL_CHARS = 2048;

/**
 * Source maps and the scripts they belong to, per app and release:
 *
 *     <data-dir>/sourcemaps/
 *       <app guid>/
 *         <release>/
 *           manifest.json      { files: { "<key>": StoredFile } }: what was uploaded under which URL
 *           files/<sha256>     each file's bytes, named by content (no uploaded name reaches the disk)
 *
 * App GUIDs and releases are validated before they become folder names; file names are only
 * keys in the manifest. Writes go through temp files and renames (writeFileDurably).
 */
/** Apps and releases whose lookups are remembered at most; past it, the one remembered longest ago goes. */
const MAX_REMEMBERED = 10_000;

/** Sets `key` in a cache map of at most MAX_REMEMBERED entries (crashes can name endless made-up apps and releases). */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > MAX_REMEMBERED) cache.delete(cache.keys().next().value!);
}

export class SourceMapStore {
  readonly dir: string;
  readonly #manifests = new Map<string, Manifest | null>();
  /** Each app's releases, as listDirs found them: asked for every frame without a map (releasesWith). */
  readonly #releases = new Map<string, Promise<string[]>>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    dataDir: string,
    private readonly tmpDir: string,
  ) {
    this.dir = join(dataDir, 'sourcemaps');
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /**
   * Stores files for a release. A file uploaded again under the same key replaces the old
   * one; with `replace`, files of the release not in this upload are removed, so uploading a
   * build folder again leaves exactly that build.
   */
  async upload(app: string, release: string, files: UploadFile[], options: { replace?: boolean; now?: Date } = {}): Promise<UploadResult> {
    validateAppGuid(app);
    validateRelease(release);
    return this.#locked(`${app}/${release}`, async () => {
      const manifest = (await this.#manifest(app, release)) ?? { app, release, files: {} };
      const result: UploadResult = { app, release, stored: [], rejected: [], removed: [] };
      const uploadedAt = (options.now ?? new Date()).toISOString();
      const filesDir = join(this.#releaseDir(app, release), 'files');
      await mkdir(filesDir, { recursive: true });
      this.#releases.delete(app);
      const keep = new Set<string>();
      for (const file of files) {
        let key: string;
        try {
          key = normalizeFileKey(file.name);
        } catch (err) {
          result.rejected.push({ name: file.name, reason: (err as Error).message });
          continue;
        }
        const described = describeFile(key, file.data);
        if ('reason' in described) {
          result.rejected.push({ name: file.name, reason: described.reason });
          continue;
        }
        const stored: StoredFile = { key, size: file.data.length, uploaded_at: uploadedAt, ...described };
        await writeFileDurably(join(filesDir, stored.sha256), file.data, this.tmpDir);
        manifest.files[key] = stored;
        keep.add(key);
        result.stored.push(stored);
      }
      if (options.replace) {
        for (const key of Object.keys(manifest.files)) {
          if (!keep.has(key)) {
            delete manifest.files[key];
            result.removed.push(key);
          }
        }
      }
      await this.#saveManifest(manifest, filesDir);
      return result;
    });
  }

  /** The apps with a folder here (one directory read; a folder may hold no release). */
  apps(): Promise<string[]> {
    return listDirs(this.dir);
  }

  /** Releases of an app (or apps, when `app` is unset), with their files. */
  async list(app?: string, release?: string): Promise<{ app: string; release: string; files: StoredFile[] }[]> {
    const apps = app ? [validateAppGuid(app)] : await listDirs(this.dir);
    const out: { app: string; release: string; files: StoredFile[] }[] = [];
    for (const a of apps) {
      const releases = release ? [validateRelease(release)] : await listDirs(join(this.dir, a));
      for (const r of releases) {
        const manifest = await this.#manifest(a, r);
        if (manifest) out.push({ app: a, release: r, files: Object.values(manifest.files) });
      }
    }
    return out;
  }

  /** Deletes a release, or one file of it. Returns how many files went. */
  async delete(app: string, release: string, key?: string): Promise<number> {
    validateAppGuid(app);
    validateRelease(release);
    return this.#locked(`${app}/${release}`, async () => {
      const manifest = await this.#manifest(app, release);
      if (!manifest) return 0;
      if (key === undefined) {
        await rm(this.#releaseDir(app, release), { recursive: true, force: true });
        this.#manifests.delete(`${app}/${release}`);
        this.#releases.delete(app);
        return Object.keys(manifest.files).length;
      }
      const k = normalizeFileKey(key);
      if (!manifest.files[k]) return 0;
      delete manifest.files[k];
      await this.#saveManifest(manifest, join(this.#releaseDir(app, release), 'files'));
      return 1;
    });
  }

  /** The first of `keys` uploaded for the release. */
  async find(app: string, release: string, keys: string[]): Promise<StoredFile | null> {
    const manifest = await this.#manifest(app, release);
    if (!manifest) return null;
    for (const key of keys) if (manifest.files[key]) return manifest.files[key]!;
    return null;
  }

  /**
   * Keys of the release's files named like `key`'s last path segment, `key` itself left out: the
   * near misses of a wrong `--url-prefix` (`~/static/static/app.js` for `~/static/app.js`).
   */
  async sameName(app: string, release: string, key: string): Promise<string[]> {
    const manifest = await this.#manifest(app, release);
    if (!manifest) return [];
    const name = key.slice(key.lastIndexOf('/') + 1);
    return Object.keys(manifest.files).filter((k) => k !== key && k.slice(k.lastIndexOf('/') + 1) === name);
  }

  /**
   * Other releases of the app that have a file under `key`, most recently uploaded first: the
   * near misses of a page whose release is not the one the build uploaded under.
   */
  async releasesWith(app: string, release: string, key: string): Promise<string[]> {
    const found: { release: string; at: string }[] = [];
    for (const r of await this.#releasesOf(app)) {
      const file = r === release ? undefined : (await this.#manifest(app, r))?.files[key];
      if (file) found.push({ release: r, at: file.uploaded_at });
    }
    return found.sort((a, b) => b.at.localeCompare(a.at) || b.release.localeCompare(a.release)).map((f) => f.release);
  }

  /** A map with this debug ID: from `release` if it has one, else from any release of the app. */
  async findByDebugId(app: string, release: string, debugId: string): Promise<{ release: string; file: StoredFile } | null> {
    const releases = [release, ...(await this.#releasesOf(app)).filter((r) => r !== release)];
    for (const r of releases) {
      const manifest = await this.#manifest(app, r);
      const file = manifest && Object.values(manifest.files).find((f) => f.kind === 'map' && f.debug_id === debugId);
      if (file) return { release: r, file };
    }
    return null;
  }

  async read(app: string, release: string, file: StoredFile): Promise<Buffer> {
    try {
      return await readFile(join(this.#releaseDir(app, release), 'files', file.sha256));
    } catch (err) {
      throw new Error(`Could not read uploaded file ${file.key}: ${(err as Error).message}`, { cause: err });
    }
  }

  #releaseDir(app: string, release: string): string {
    return join(this.dir, validateAppGuid(app), validateRelease(release));
  }

  #releasesOf(app: string): Promise<string[]> {
    let releases = this.#releases.get(app);
    if (!releases) {
      releases = listDirs(join(this.dir, app));
      remember(this.#releases, app, releases);
      releases.catch(() => this.#releases.delete(app));
    }
    return releases;
  }

  async #manifest(app: string, release: string): Promise<Manifest | null> {
    // Crashes name any app and release they like: one no upload could have is not looked up,
    // nor remembered (a MiB-long Version per crash would otherwise be kept for good).
    try {
      validateAppGuid(app);
      validateRelease(release);
    } catch (err) {
      if (err instanceof InvalidSymbolsInput) return null;
      throw err;
    }
    const key = `${app}/${release}`;
    const cached = this.#manifests.get(key);
    if (cached !== undefined) return cached;
    let manifest: Manifest | null = null;
    try {
      manifest = JSON.parse(await readFile(join(this.#releaseDir(app, release), 'manifest.json'), 'utf8')) as Manifest;
    } catch (err) {
      if (!isNotFound(err)) throw new Error(`Could not read the source map manifest of ${key}: ${(err as Error).message}`, { cause: err });
    }
    remember(this.#manifests, key, manifest);
    return manifest;
  }

  async #saveManifest(manifest: Manifest, filesDir: string): Promise<void> {
    const dir = this.#releaseDir(manifest.app, manifest.release);
    await writeFileDurably(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1), this.tmpDir);
    remember(this.#manifests, `${manifest.app}/${manifest.release}`, manifest);
    // Content no manifest entry points at any more.
    const used = new Set(Object.values(manifest.files).map((f) => f.sha256));
    for (const name of await readdir(filesDir).catch(() => [] as string[])) {
      if (!used.has(name)) await rm(join(filesDir, name), { force: true });
    }
  }

  async #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    this.#locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    }
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Kind, hash, debug ID and map reference of an uploaded file, or why it is refused. */
function describeFile(key: string, data: Uint8Array): Omit<StoredFile, 'key' | 'size' | 'uploaded_at'> | { reason: string } {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const looksLikeMap = /\.map$/i.test(key) || /^\s*\{/.test(text.slice(0, 64));
  if (looksLikeMap) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text.replace(/^\)\]\}'[^\n]*\n/, '')) as Record<string, unknown>;
    } catch {
      return { reason: 'not valid JSON, so not a source map' };
    }
    if (json.version !== 3 || (typeof json.mappings !== 'string' && !Array.isArray(json.sections))) {
      return { reason: 'not a version 3 source map (needs "version": 3 and "mappings" or "sections")' };
    }
    const problem = sourceMapProblem(json);
    if (problem) return { reason: `a broken source map: ${problem}` };
    const debugId = normalizeDebugId(json.debugId ?? json.debug_id);
    return { kind: 'map', sha256, ...(debugId ? { debug_id: debugId } : {}) };
  }
  const refs = scriptReferences(text);
  return {
    kind: 'script',
    sha256,
    ...(refs.debugId ? { debug_id: refs.debugId } : {}),
    ...(refs.sourceMappingUrl ? { source_mapping_url: refs.sourceMappingUrl } : {}),
  };
}

/**
 * The `//# sourceMappingURL=` (last one wins, as in browsers) and `//# debugId=` comments of
 * a script. An inline `data:` map is recorded as `data:`; it is read from the script when needed.
 */
export function scriptReferences(text: string): { sourceMappingUrl: string | null; debugId: string | null } {
  const tail = text.length > 1_000_000 ? text.slice(-1_000_000) : text;
  let sourceMappingUrl: string | null = null;
  let debugId: string | null = null;
  // [ \t], not \s: \s would cross lines and make a file of blank lines quadratic.
  for (const m of tail.matchAll(/^[ \t]*\/[/*][#@][ \t]*(sourceMappingURL|debugId)=[ \t]*(\S+?)[ \t]*(?:\*\/)?[ \t]*\r?$/gm)) {
    if (m[1] === 'debugId') debugId = normalizeDebugId(m[2]) ?? debugId;
    else sourceMappingUrl = m[2]!.startsWith('data:') ? 'data:' : m[2]!.slice(0, MAX_RECORDED_URL_CHARS);
  }
  return { sourceMappingUrl, debugId };
}

/** The inline `data:` source map of a script, decoded, or null. */
export function inlineSourceMap(script: string): string | null {
  let found: string | null = null;
  for (const m of script.matchAll(/^[ \t]*\/[/*][#@][ \t]*sourceMappingURL=[ \t]*(data:[^\s*]+)/gm)) found = m[1]!;
  if (!found) return null;
  const comma = found.indexOf(',');
  if (comma < 0) return null;
  const meta = found.slice(5, comma);
  const payload = found.slice(comma + 1);
  try {
    return meta.endsWith(';base64') ? Buffer.from(payload, 'base64').toString('utf8') : decodeURIComponent(payload);
  } catch {
    return null;
  }
}
