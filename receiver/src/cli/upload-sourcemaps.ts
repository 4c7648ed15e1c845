import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { scriptReferences } from '../symbols/store.ts';
import { normalizeDebugId, validateAppGuid, validateRelease } from '../symbols/validate.ts';
import { ANSWER_TIMEOUT_MS, apiEndpoint, type CliIo, TOKEN_HINT, UsageError, count, parseCommandArgs, receiverUrl, unreachable } from './usage.ts';

export const UPLOAD_SOURCEMAPS_HELP = `socorrito upload-sourcemaps --url RECEIVER --token TOKEN --app GUID --release VERSION [--url-prefix '~/'] [--replace] DIST_DIR
  Uploads every .js/.mjs/.cjs of DIST_DIR with its source map (//# sourceMappingURL, else <file>.map,
  else the map with its //# debugId) for the app and release; files are found by URL, DIST_DIR/static/app.js as <url-prefix>static/app.js
  (~/ means any origin). Uploading a release again adds to its files (a file at the same URL is
  replaced): open tabs of the build before still need theirs. --replace also removes the release's
  files this upload does not have. Token also from SOCORRITO_TOKEN.`;

/** Most files one upload takes: a build folder, not a disk. */
const MAX_FILES = 10_000;
const SCRIPT = /\.(?:m|c)?js$/i;

export interface PlannedFile {
  url: string;
  path: string;
}

export interface UploadPlan {
  files: PlannedFile[];
  /** Lines saying what was paired with what, and what was not. */
  report: string[];
  unmatched: number;
}

/**
 * Pairs each script in `dir` with its map. The map is the one its last `sourceMappingURL`
 * names (relative to the script), else `<script>.map`, else the map carrying the script's
 * `//# debugId` (as the receiver pairs them); an inline `data:` map needs no file. Maps no
 * script names are uploaded too.
 */
export async function planUpload(dir: string, urlPrefix: string): Promise<UploadPlan> {
  const root = resolve(dir);
  const all = await walk(root);
  const present = new Set(all);
  // As a browser requests the file (and names it in stacks): each path segment percent-encoded.
  const toUrl = (path: string): string => urlPrefix + relative(root, path).split(sep).map(encodeURIComponent).join('/');
  const files: PlannedFile[] = [];
  const report: string[] = [];
  const usedMaps = new Set<string>();
  let byDebugId: Map<string, string> | null = null;
  let unmatched = 0;
  for (const path of all.filter((p) => SCRIPT.test(p))) {
    const refs = scriptReferences(await readFile(path, 'utf8'));
    files.push({ url: toUrl(path), path });
    const debug = refs.debugId ? ` (debug ID ${refs.debugId})` : '';
    if (refs.sourceMappingUrl === 'data:') {
      report.push(`inline   ${toUrl(path)}: its source map is inside it${debug}`);
      continue;
    }
    let mapPath: string | null = null;
    if (refs.sourceMappingUrl && !/^[a-z][\w+.-]*:/i.test(refs.sourceMappingUrl)) {
      const candidate = resolve(dirname(path), decodeURIComponent(refs.sourceMappingUrl.replace(/[?#].*$/, '')));
      if (present.has(candidate)) mapPath = candidate;
    }
    if (!mapPath && present.has(`${path}.map`)) mapPath = `${path}.map`;
    if (!mapPath && refs.debugId) {
      byDebugId ??= await mapsByDebugId(all.filter((p) => p.endsWith('.map')));
      const found = byDebugId.get(refs.debugId);
      if (found) {
        usedMaps.add(found);
        report.push(`matched  ${toUrl(path)} -> ${toUrl(found)} (by debug ID ${refs.debugId})`);
        continue;
      }
    }
    if (mapPath) {
      usedMaps.add(mapPath);
      report.push(`matched  ${toUrl(path)} -> ${toUrl(mapPath)}${debug}`);
    } else {
      unmatched++;
      const named = refs.sourceMappingUrl ? ` (it names ${refs.sourceMappingUrl}, which is not in the folder)` : '';
      report.push(`no map   ${toUrl(path)}${named}${debug}`);
    }
  }
  for (const path of all.filter((p) => p.endsWith('.map'))) {
    files.push({ url: toUrl(path), path });
    if (!usedMaps.has(path)) report.push(`map only ${toUrl(path)}: no script in the folder names it (found by debug ID or as <script>.map)`);
  }
  return { files, report, unmatched };
}

/** The maps among `paths` that carry a debug ID (`debugId` or `debug_id`), by that ID; read only when a script needs one. */
async function mapsByDebugId(paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of paths) {
    let json: { debugId?: unknown; debug_id?: unknown };
    try {
      json = JSON.parse((await readFile(path, 'utf8')).replace(/^\)\]\}'[^\n]*\n/, '')) as typeof json;
    } catch {
      continue; // the receiver refuses it and says why
    }
    const id = normalizeDebugId(json?.debugId ?? json?.debug_id);
    if (id && !out.has(id)) out.set(id, path);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (out.length > MAX_FILES) throw new UsageError(`upload-sourcemaps: more than ${MAX_FILES} files under ${dir}; point it at the build output`);
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) await visit(path);
      } else if (entry.isFile() && (SCRIPT.test(entry.name) || entry.name.endsWith('.map'))) out.push(path);
    }
  };
  await visit(dir);
  return out.sort();
}

/** `socorrito upload-sourcemaps`. */
export async function uploadSourcemapsCommand(argv: string[], io: CliIo, fetchImpl: typeof fetch = fetch): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'upload-sourcemaps',
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      app: { type: 'string' },
      release: { type: 'string' },
      'url-prefix': { type: 'string' },
      replace: { type: 'boolean' },
      // The default since uploads stopped replacing; still taken so scripts written for it work.
      'no-replace': { type: 'boolean' },
    },
    true,
  );
  const token = values.token ?? io.env.SOCORRITO_TOKEN ?? io.env.SOCORRITO_ADMIN_TOKEN;
  const missing = [!values.url && '--url', !token && '--token (or SOCORRITO_TOKEN)', !values.app && '--app', !values.release && '--release', positionals.length !== 1 && 'one DIST_DIR'].filter(Boolean);
  if (missing.length) throw new UsageError(`upload-sourcemaps: missing ${missing.join(', ')}\n\n${UPLOAD_SOURCEMAPS_HELP}`);
  // The receiver's own rules, checked before any file is read.
  const bad: string[] = [];
  for (const check of [() => validateAppGuid(values.app), () => validateRelease(values.release)]) {
    try {
      check();
    } catch (err) {
      bad.push((err as Error).message);
    }
  }
  if (bad.length) throw new UsageError(`upload-sourcemaps: ${bad.join('; ')}`);
  const receiver = receiverUrl('upload-sourcemaps', values.url!);
  let prefix = values['url-prefix'] ?? '~/';
  if (!prefix.endsWith('/')) prefix += '/';
  if (!/^(~\/|https?:\/\/)/.test(prefix)) throw new UsageError(`upload-sourcemaps: --url-prefix must start with ~/ or http(s)://, got ${JSON.stringify(prefix)}`);
  const dir = positionals[0]!;
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UsageError(`upload-sourcemaps: ${dir} is not a folder`);

  const plan = await planUpload(dir, prefix);
  for (const line of plan.report) io.out(line);
  if (plan.files.length === 0) {
    io.err(`socorrito upload-sourcemaps: no .js, .mjs, .cjs or .map files under ${dir}`);
    return 1;
  }
  const form = new FormData();
  form.append('app', values.app!);
  form.append('release', values.release!);
  form.append('replace', values.replace ? 'true' : 'false');
  for (const file of plan.files) {
    form.append('url', file.url);
    form.append('file', new Blob([await readFile(file.path)]), file.url.split('/').pop());
  }
  const endpoint = apiEndpoint(receiver, 'api/sourcemaps');
  let response: Response;
  try {
    response = await fetchImpl(endpoint, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
  } catch (err) {
    io.err(unreachable('upload-sourcemaps', endpoint, err));
    return 1;
  }
  const text = await response.text();
  let result: { stored?: { key: string }[]; rejected?: { name: string; reason: string }[]; removed?: string[]; message?: string } = {};
  try {
    result = JSON.parse(text) as typeof result;
  } catch {
    // reported below
  }
  for (const r of result.rejected ?? []) io.err(`refused  ${r.name}: ${r.reason}`);
  if (!response.ok) {
    io.err(`socorrito upload-sourcemaps: ${endpoint} answered ${response.status}: ${result.message ?? text.slice(0, 300)}`);
    if (response.status === 401) io.err(`socorrito upload-sourcemaps: ${TOKEN_HINT}`);
    return 1;
  }
  io.out(
    `uploaded ${count(result.stored?.length ?? 0, 'file', 'files')} to app ${values.app} release ${values.release}` +
      `${result.removed?.length ? `; removed ${count(result.removed.length, 'file', 'files')} of the earlier upload` : ''}` +
      `${plan.unmatched ? `; ${count(plan.unmatched, 'script has', 'scripts have')} no map` : ''}`,
  );
  return result.rejected?.length ? 1 : 0;
}
