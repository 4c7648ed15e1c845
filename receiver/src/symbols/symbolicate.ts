import { createHash } from 'node:crypto';
import { SourceMapConsumer } from 'source-map';
import { MAX_FRAME_LINE_CHARS } from '../../../shared/src/stack/parse.ts';
import type { ProcessedFrame } from '../storage/types.ts';
import { ByteLruCache } from './cache.ts';
import type { RemoteFetcher } from './remote.ts';
import { indexScopes, MAX_SCAN_CHARS, type FunctionRange, type NameToken, type ScopeIndex } from './scope.ts';
import { displaySourceName } from './source-name.ts';
import { inlineSourceMap, scriptReferences, type SourceMapStore, type StoredFile } from './store.ts';
import { fileKeysForUrl } from './validate.ts';

/** What a scan answers for a function that has no name. */
const ANONYMOUS = Symbol('anonymous');

/** Lines of original source shown before and after a symbolicated line. */
export const CONTEXT_LINES = 5;
/** Context lines longer than this are cut (original sources can be minified too). */
export const MAX_CONTEXT_LINE_CHARS = 300;
/** Releases or file names a "no source map" note suggests, at most. */
const MAX_HINTED_NAMES = 3;
/** Map files that failed to parse, remembered so each crash does not parse them again. */
const MAX_REMEMBERED_FAILURES = 1000;

export interface SymbolicatorOptions {
  store: SourceMapStore;
  /** Byte budget of parsed source maps kept in memory (counted as the size of their JSON). */
  cacheBytes: number;
  /** Fetches scripts and maps from the app's origin when nothing was uploaded; null: off. */
  remote?: RemoteFetcher | null;
}

/** The minified position of a frame, as the stack string gives it. */
export interface FrameLocation {
  function: string | null;
  url: string | null;
  line: number | null;
  column: number | null;
  /** Its stack line was too long and was cut (StackFrame.cut). */
  cut?: boolean;
}

export interface Symbolicated {
  original?: NonNullable<ProcessedFrame['original']>;
  /** Why the frame stayed minified, or what was uncertain. */
  notes: string[];
  /** The map used (its upload key or URL), for the processed crash's notes. */
  map?: string;
  /** The frame shows that the stack and the uploaded script are from different builds. */
  otherBuild?: true;
}

interface LoadedMap {
  consumer: SourceMapConsumer;
  /** Each original source's text and what is derived from it, made once per map, not per frame; null: no sourcesContent. */
  sources: Map<string, SourceText | null>;
}

interface SourceText {
  content: string;
  /** Offsets of line starts, made on the first frame that needs context lines. */
  lineStarts?: number[];
  /** Its functions, indexed on the first frame that needs a name (null: it does not parse). */
  scopes?: ScopeIndex | null;
}

interface MapSource {
  /** Cache key: the content hash. */
  id: string;
  label: string;
  text: () => Promise<string>;
  /** The generated script, when we have it (to find the enclosing function on the minified side). */
  script?: { id: string; text: () => Promise<string> };
}

type Resolution = { map: MapSource } | { note: string };

/**
 * Maps minified frames back to original file, line, column and function with source maps from
 * the store (by URL and by debug ID), inline `data:` maps, and optionally the app's origin.
 * Parsed maps stay in a byte-bounded LRU; evicted consumers are destroyed.
 */
export class Symbolicator {
  readonly maps: ByteLruCache<LoadedMap>;
  readonly #generatedScopes: ByteLruCache<ScopeIndex>;
  readonly #failed = new Map<string, string>();
  /** One map larger than the whole cache budget, kept until the next such map (frames of a crash share it). */
  #oversize: { id: string; loaded: LoadedMap } | null = null;

  constructor(private readonly options: SymbolicatorOptions) {
    this.maps = new ByteLruCache<LoadedMap>(options.cacheBytes, (m) => m.consumer.destroy());
    this.#generatedScopes = new ByteLruCache<ScopeIndex>(Math.max(1, Math.floor(options.cacheBytes / 4)));
  }

  /** Frees every cached consumer. */
  close(): void {
    this.#oversize?.loaded.consumer.destroy();
    this.#oversize = null;
    this.maps.clear();
    this.#generatedScopes.clear();
  }

  async symbolicate(frame: FrameLocation, app: string | null, release: string | null): Promise<Symbolicated> {
    if (frame.cut && frame.line === null) {
      return { notes: [`not symbolicated: the frame's stack line is over ${MAX_FRAME_LINE_CHARS} characters and was cut short, losing its position`] };
    }
    if (!frame.url || frame.line === null) return { notes: ['not symbolicated: the frame has no script position'] };
    const resolution = await this.#resolve(frame.url, app, release);
    if ('note' in resolution) return { notes: [resolution.note] };
    const { map } = resolution;
    let loaded: LoadedMap;
    try {
      loaded = await this.#load(map);
    } catch (err) {
      return { notes: [`source map ${map.label} could not be used: ${(err as Error).name}`], map: map.label };
    }
    const notes: string[] = [];
    if (frame.column === null) notes.push('the stack gives no column; mapped from the start of the line');
    const column0 = Math.max(0, (frame.column ?? 1) - 1);
    // A map gives the nearest mapping left of any column, even one past the end of the line: with
    // the script at hand, such a position shows that the stack comes from another build.
    const lineLength = map.script && frame.column !== null ? (await this.#generatedScopeIndex(map.script))?.lineLength(frame.line) : null;
    if (typeof lineLength === 'number' && column0 > lineLength) {
      return {
        notes: [`position ${frame.line}:${frame.column} is past the end of line ${frame.line} of the uploaded script (${lineLength} characters): the stack and the uploaded script are from different builds`],
        map: map.label,
        otherBuild: true,
      };
    }
    // Only a plain name is compared (and only then is the script scanned).
    const otherName =
      map.script && plainBrowserName(frame.function)
        ? browserNameDisagrees(frame.function, (await this.#generatedScopeIndex(map.script))?.enclosing(frame.line, column0))
        : null;
    if (otherName) {
      notes.push(
        `the browser names this function ${JSON.stringify(frame.function)}, but at ${frame.line}:${frame.column} the uploaded script has ${JSON.stringify(otherName)}: ` +
          'the stack may come from another build uploaded under the same release; mapped anyway',
      );
    }
    const pos = loaded.consumer.originalPositionFor({ line: frame.line, column: column0 });
    if (pos.source === null || pos.line === null) {
      return { notes: [`position ${frame.line}:${frame.column ?? '?'} is outside the source map ${map.label}`], map: map.label };
    }
    let source = loaded.sources.get(pos.source);
    if (source === undefined) {
      const content = loaded.consumer.sourceContentFor(pos.source, true);
      source = content === null ? null : { content };
      loaded.sources.set(pos.source, source);
    }
    const name = await this.#functionName(loaded, source, pos.line, pos.column ?? 0, map, frame, notes);
    const original: NonNullable<ProcessedFrame['original']> = {
      // `src/util.js`, not `../../src/util.js`: see displaySourceName for the exact rules.
      file: displaySourceName(pos.source),
      line: pos.line,
      column: (pos.column ?? 0) + 1,
      function: name === ANONYMOUS ? null : name,
      ...(name === ANONYMOUS ? { anonymous: true as const } : {}),
    };
    if (source) original.context = contextLines(source, pos.line);
    else notes.push(`the source map ${map.label} has no sourcesContent for ${original.file}, so no context lines`);
    return { original, notes, map: map.label, ...(otherName ? { otherBuild: true as const } : {}) };
  }

  /**
   * The original function's name: the function enclosing the original position (scanned from
   * sourcesContent); else the minified function enclosing the generated position in the
   * uploaded script, named by the map at its name tokens. ANONYMOUS when either shows the
   * function has no name; null (not known) leaves the browser's name to the signature.
   */
  async #functionName(
    loaded: LoadedMap,
    source: SourceText | null,
    line: number,
    column: number,
    map: MapSource,
    frame: FrameLocation,
    notes: string[],
  ): Promise<string | typeof ANONYMOUS | null> {
    const tooLarge = (what: string): null => {
      notes.push(`no original function name: the ${what} is over ${MAX_SCAN_CHARS / 1024 / 1024} MiB, too large to scan for its functions`);
      return null;
    };
    if (source) {
      if (source.content.length > MAX_SCAN_CHARS) return tooLarge('original source');
      if (source.scopes === undefined) source.scopes = indexScopes(source.content);
      // The original source answers for itself: an anonymous enclosing function (a callback)
      // or top-level code has no name, and the map's name at the position would be the callee's.
      if (source.scopes) return source.scopes.enclosing(line, column)?.name ?? ANONYMOUS;
    }
    const generated = map.script && frame.line !== null ? await this.#generatedScopeIndex(map.script) : null;
    if (generated && !generated.scanned) return tooLarge('uploaded script');
    if (generated) {
      // The script answers for itself too: the map's name at a call site is the callee's, so
      // when the enclosing function cannot be named, no name is better than that one.
      const fn = generated.enclosing(frame.line!, Math.max(0, (frame.column ?? 1) - 1));
      const name = fn && originalFunctionName(loaded.consumer, fn);
      if (name) {
        notes.push('function name from the enclosing function in the uploaded script, named by the source map (no original source to scan)');
        return name;
      }
      if (fn?.name) {
        notes.push('no original function name: the source map names no token of the enclosing function in the uploaded script');
        return null;
      }
      // Top-level code, or an unnamed function in no named one: a callback, or a function the
      // minifier inlined (its name is gone from the script and the map).
      if (fn) notes.push('no original function name: the enclosing function in the uploaded script has no name (a callback, or inlined by the minifier)');
      return ANONYMOUS;
    }
    // The map's name at the position is the callee's at a call site, or a variable's: no name at all
    // leaves the browser's to the signature.
    notes.push('no original function name: the source map has no sourcesContent, and without the script uploaded beside it the enclosing function cannot be found');
    return null;
  }

  async #generatedScopeIndex(script: { id: string; text: () => Promise<string> }): Promise<ScopeIndex | null> {
    const cached = this.#generatedScopes.get(script.id);
    if (cached) return cached;
    try {
      const text = await script.text();
      const index = indexScopes(text);
      this.#generatedScopes.set(script.id, index, text.length);
      return index;
    } catch {
      return null;
    }
  }

  async #load(map: MapSource): Promise<LoadedMap> {
    const cached = this.maps.get(map.id) ?? (this.#oversize?.id === map.id ? this.#oversize.loaded : undefined);
    if (cached) return cached;
    const failure = this.#failed.get(map.id);
    if (failure) throw Object.assign(new Error('failed before'), { name: failure });
    let text: string;
    let consumer: SourceMapConsumer;
    let mappingsChars = 0;
    try {
      text = await map.text();
      const json = JSON.parse(text.replace(/^\)\]\}'[^\n]*\n/, '')) as ConstructorParameters<typeof SourceMapConsumer>[0];
      const mappings = (json as { mappings?: unknown }).mappings;
      if (typeof mappings === 'string') mappingsChars = mappings.length;
      consumer = await new SourceMapConsumer(json);
      // source-map parses `mappings` on the first lookup: do it now, so a broken map fails here.
      try {
        consumer.originalPositionFor({ line: 1, column: 0 });
      } catch (err) {
        consumer.destroy();
        throw err;
      }
    } catch (err) {
      const own = (err as Error).name;
      const name = err instanceof SyntaxError ? 'invalid JSON' : own && own !== 'Error' && own !== 'TypeError' ? own : 'invalid source map';
      if (this.#failed.size >= MAX_REMEMBERED_FAILURES) this.#failed.clear();
      this.#failed.set(map.id, name);
      throw Object.assign(new Error('source map failed'), { name });
    }
    const loaded: LoadedMap = { consumer, sources: new Map() };
    const bytes = parsedMapBytes(text.length, mappingsChars);
    if (bytes > this.maps.maxBytes) {
      this.#oversize?.loaded.consumer.destroy();
      this.#oversize = { id: map.id, loaded };
    } else this.maps.set(map.id, loaded, bytes);
    return loaded;
  }

  /** Finds the map for a script URL: uploaded (debug ID, sourceMappingURL, `<file>.map`), inline, or remote. */
  async #resolve(url: string, app: string | null, release: string | null): Promise<Resolution> {
    const keys = fileKeysForUrl(url.startsWith('/') ? `~${url}` : url);
    if (keys.length === 0) return { note: `not symbolicated: ${shortUrl(url)} is not an http(s) script URL` };
    // The key notes name the script by: its `~/path` form when it has one.
    const shown = keys[1] ?? keys[0]!;
    const { store } = this.options;
    if (app && release) {
      const script = await store.find(app, release, keys);
      if (script?.kind === 'map') return { note: `${script.key} was uploaded as a source map, not as the script` };
      const scriptSource = script ? { id: `script:${script.sha256}`, text: async () => (await store.read(app, release, script)).toString('utf8') } : undefined;
      if (script) {
        const viaScript = await this.#mapForStoredScript(app, release, script, scriptSource!);
        if (viaScript) return viaScript;
      }
      const direct = await store.find(app, release, keys.map((k) => `${k}.map`));
      if (direct?.kind === 'map') return { map: this.#storedMap(app, release, direct, scriptSource) };
      if (script?.source_mapping_url && script.source_mapping_url !== 'data:') {
        const named = resolveReference(script.key, script.source_mapping_url) ?? script.source_mapping_url;
        return { note: `no source map for ${shown} in release ${release}: the script names ${named}, which is not uploaded (or was refused)` };
      }
      if (script) return { note: `no source map for ${shown} in release ${release}: the script names none and no ${script.key}.map was uploaded` };
    }
    // Fetched from the site when allowed; when that fails too, an upload mistake below is the
    // likelier cause, and its hint comes first.
    const remote = this.options.remote ? await this.#resolveRemote(url, app, release) : null;
    if (remote && 'map' in remote) return remote;
    const fetchFailed = remote ? `; fetching it from the site did not help either (${remote.note.replace(/^no uploaded source map, and /, '')})` : '';
    if (!app || !release) {
      if (remote) return remote;
      const missing = [!app && 'WebAppGUID', !release && 'Version'].filter(Boolean).join(' and ');
      return { note: `no source map: the crash has no ${missing} to find uploaded maps by` };
    }
    const missing = `no source map for ${shown} in release ${shownRelease(release)} of this app`;
    // The usual setup mistakes first: the files of this very release went up under another path…
    const near = (await store.sameName(app, release, shown)).slice(0, MAX_HINTED_NAMES);
    if (near.length) return { note: `${missing}; this release has that file name at ${near.join(', ')} (check --url-prefix)${fetchFailed}` };
    // …or the page's release is not the one CI uploaded under (a bundler keeps a file's hashed
    // name while its code is the same, so older releases often have it: checked second).
    const others = await store.releasesWith(app, release, shown);
    if (others.length) {
      const listed = others.slice(0, MAX_HINTED_NAMES).map(shownRelease).join(', ') + (others.length > MAX_HINTED_NAMES ? ` and ${others.length - MAX_HINTED_NAMES} more` : '');
      return {
        note: `${missing}; that file is uploaded for release${others.length > 1 ? 's' : ''} ${listed} (check that the page's release matches upload-sourcemaps --release)${fetchFailed}`,
      };
    }
    if (remote) return remote;
    return { note: `${missing} (upload it with --release ${release}, then run socorrito reprocess)` };
  }

  async #mapForStoredScript(
    app: string,
    release: string,
    script: StoredFile,
    scriptSource: { id: string; text: () => Promise<string> },
  ): Promise<Resolution | null> {
    const { store } = this.options;
    if (script.debug_id) {
      const byId = await store.findByDebugId(app, release, script.debug_id);
      if (byId) return { map: this.#storedMap(app, byId.release, byId.file, scriptSource) };
    }
    if (script.source_mapping_url === 'data:') {
      return {
        map: {
          id: `inline:${script.sha256}`,
          label: `inline map of ${script.key}`,
          text: async () => {
            const inline = inlineSourceMap(await scriptSource.text());
            if (inline === null) throw Object.assign(new Error('bad data URL'), { name: 'invalid data: URL' });
            return inline;
          },
          script: scriptSource,
        },
      };
    }
    if (script.source_mapping_url) {
      const target = resolveReference(script.key, script.source_mapping_url);
      const keys = target ? fileKeysForUrl(target) : [];
      const found = keys.length ? await store.find(app, release, keys) : null;
      if (found?.kind === 'map') return { map: this.#storedMap(app, release, found, scriptSource) };
    }
    return null;
  }

  #storedMap(app: string, release: string, file: StoredFile, script?: MapSource['script']): MapSource {
    return {
      id: `map:${file.sha256}`,
      label: file.key,
      text: async () => (await this.options.store.read(app, release, file)).toString('utf8'),
      script,
    };
  }

  async #resolveRemote(url: string, app: string | null, release: string | null): Promise<Resolution | null> {
    const remote = this.options.remote!;
    // Without its query: a script is served the same whatever cache-busting query a stack names,
    // and a crash must not make the receiver fetch it again per made-up query (`app.js?v=1`, `?v=2`…).
    const scriptUrl = url.replace(/[?#].*$/s, '');
    let scriptText: string;
    try {
      scriptText = await remote.fetchText(scriptUrl);
    } catch (err) {
      return { note: `no uploaded source map, and fetching ${shortUrl(scriptUrl)} failed: ${(err as { code?: string }).code ?? (err as Error).name}` };
    }
    const scriptSource = { id: `remote-script:${hash(scriptText)}`, text: async () => scriptText };
    const refs = scriptReferences(scriptText);
    if (refs.debugId && app && release) {
      const byId = await this.options.store.findByDebugId(app, release, refs.debugId);
      if (byId) return { map: this.#storedMap(app, byId.release, byId.file, scriptSource) };
    }
    if (refs.sourceMappingUrl === 'data:') {
      const inline = inlineSourceMap(scriptText);
      if (inline) return { map: { id: `inline:${hash(inline)}`, label: `inline map of ${shortUrl(scriptUrl)}`, text: async () => inline, script: scriptSource } };
    }
    const mapUrl = refs.sourceMappingUrl ? resolveReference(scriptUrl, refs.sourceMappingUrl) : `${scriptUrl.replace(/\?.*$/, '')}.map`;
    if (!mapUrl) return { note: `the script ${shortUrl(scriptUrl)} names a source map we cannot resolve` };
    try {
      const mapText = await remote.fetchText(mapUrl);
      return { map: { id: `remote-map:${hash(mapText)}`, label: shortUrl(mapUrl), text: async () => mapText, script: scriptSource } };
    } catch (err) {
      return { note: `no uploaded source map, and fetching ${shortUrl(mapUrl)} failed: ${(err as { code?: string }).code ?? (err as Error).name}` };
    }
  }
}

/**
 * The original name of a function found in a generated script: each of its name tokens (and its
 * class's, for a method) as the map names it there. A token the map covers with no name was not
 * renamed (esbuild lists only the names it changed), so its own text is the original; a token
 * with no mapping of its own cannot be trusted. An anonymous function is `outer/<`, as in
 * sourcesContent.
 */
export function originalFunctionName(consumer: SourceMapConsumer, fn: FunctionRange): string | null {
  if (!fn.nameToken) {
    const outer = fn.outer && originalFunctionName(consumer, fn.outer);
    return outer ? `${outer.replace(/\/<$/, '')}/<` : null;
  }
  const own = originalTokenName(consumer, fn.nameToken);
  if (!own) return null;
  const owner = fn.ownerToken && originalTokenName(consumer, fn.ownerToken);
  return owner ? `${owner}.${own}` : own;
}

function originalTokenName(consumer: SourceMapConsumer, token: NameToken): string | null {
  if (token.literal) return token.text;
  const { line, column } = token.at;
  // The mapping left of the column and the one right of it are the same only when one starts there.
  const left = consumer.originalPositionFor({ line, column, bias: SourceMapConsumer.GREATEST_LOWER_BOUND });
  const right = consumer.originalPositionFor({ line, column, bias: SourceMapConsumer.LEAST_UPPER_BOUND });
  if (left.source === null || left.source !== right.source || left.line !== right.line || left.column !== right.column || left.name !== right.name) return null;
  return left.name ?? token.text;
}

/**
 * The name of the function the uploaded script has around a frame's position, when it is not
 * the one the browser reported there: then the script is not the build that ran (a rebuild
 * uploaded under the same release maps to wrong lines without another sign). Only plain names
 * are compared: the browser's last identifier (`lineTotal` of V8's `n.lineTotal`, without
 * `async `, `new ` or Gecko's `/<`) against the function's own name token or its class's (V8
 * names a constructor by its class). Anonymous functions and names a browser makes up
 * (`<instance_members_initializer>`, `Object.<anonymous>`) are not compared.
 */
export function browserNameDisagrees(browserName: string | null, fn: FunctionRange | null | undefined): string | null {
  const last = plainBrowserName(browserName);
  if (!last || !fn?.nameToken || fn.nameToken.literal) return null;
  if (last === fn.nameToken.text || last === fn.ownerToken?.text) return null;
  return fn.name ?? fn.nameToken.text;
}

/** The identifier a browser's function name ends in (`lineTotal` of `async n.lineTotal`), or null for a made-up name. */
function plainBrowserName(browserName: string | null): string | null {
  if (!browserName) return null;
  const plain = browserName.replace(/^(?:async|new)\s+/, '').replace(/\s*\[as [^\]]*\]$/, '');
  if (/[<>*\s]/.test(plain)) return null;
  const last = plain.split('.').at(-1)!;
  return /^[\w$]+$/.test(last) ? last : null;
}

/** A release as notes show it: quoted when spaces at an end would make two look alike (`"1.0.0 "`). */
function shownRelease(release: string): string {
  return release === release.trim() ? release : JSON.stringify(release);
}

/** Resolves a `sourceMappingURL` against the script's key or URL (`~/static/app.js` + `app.js.map`). */
export function resolveReference(base: string, reference: string): string | null {
  try {
    if (base.startsWith('~/')) {
      const resolved = new URL(reference, `http://any.invalid${base.slice(1)}`);
      return resolved.origin === 'http://any.invalid' ? `~${resolved.pathname}` : resolved.href;
    }
    return new URL(reference, base).href;
  } catch {
    return null;
  }
}

function contextLines(source: SourceText, line: number): { pre: string[]; line: string; post: string[] } {
  const { content } = source;
  let starts = source.lineStarts;
  if (!starts) {
    starts = [0];
    for (let at = content.indexOf('\n'); at !== -1; at = content.indexOf('\n', at + 1)) starts.push(at + 1);
    source.lineStarts = starts;
  }
  const lineAt = (i: number): string => {
    let text = content.slice(starts[i], i + 1 < starts.length ? starts[i + 1]! - 1 : content.length);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return text.length > MAX_CONTEXT_LINE_CHARS ? `${text.slice(0, MAX_CONTEXT_LINE_CHARS)}…` : text;
  };
  const range = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, starts.length); i++) out.push(lineAt(i));
    return out;
  };
  const i = line - 1;
  return { pre: range(i - CONTEXT_LINES, i), line: i < starts.length ? lineAt(i) : '', post: range(i + 1, i + 1 + CONTEXT_LINES) };
}

function shortUrl(url: string): string {
  const noQuery = url.replace(/[?#].*$/, '');
  return noQuery.length > 200 ? `${noQuery.slice(0, 200)}…` : noQuery;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Memory a parsed map takes, as the cache counts it: its text, plus the decoded `mappings`,
 * which source-map keeps as objects of about ten bytes for every character of the string (a
 * 20 MB `mappings` took 214 MB). Counting the text alone let a 256 MiB cache hold gigabytes.
 */
export function parsedMapBytes(textChars: number, mappingsChars: number): number {
  return textChars + PARSED_BYTES_PER_MAPPINGS_CHAR * mappingsChars;
}

const PARSED_BYTES_PER_MAPPINGS_CHAR = 10;
