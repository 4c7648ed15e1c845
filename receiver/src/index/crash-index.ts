import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { crashIdDate, normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { environmentName } from '../../../shared/src/protocol.ts';
import type { ProcessedCrash } from '../storage/types.ts';
import { clipText } from '../text.ts';
import {
  CRASH_INDEXES_SQL,
  DEDUPE_SQL,
  DROP_ALL_SQL,
  DROP_CRASH_INDEXES_SQL,
  DROP_TRIGGERS_SQL,
  FACETS,
  type Facet,
  NAME_APPS_SQL,
  RECOUNT_SQL,
  SCHEMA_VERSION,
  TABLES_SQL,
  TRIGGERS_SQL,
} from './schema.ts';
import { collapseCounts, collapsePath, isPathPattern, literalStart } from './url-paths.ts';
import { compareVersions } from './versions.ts';

/** The `app` of crashes that name neither a WebAppGUID nor a ProductName (page `/apps/-`). */
export const NO_APP = '-';
/**
 * Crashes with no WebAppGUID are grouped by their ProductName, as the app `product:<name>`.
 * No GUID the collector accepts has a `:` or starts with `-` (symbols/validate.ts), so these
 * keys never collide with a real app.
 */
export const PRODUCT_APP_PREFIX = 'product:';

/**
 * The key the index groups a crash's app by: its WebAppGUID; else `product:<ProductName>`;
 * else `-` (unknown app). Stable: the same annotations always give the same key.
 *
 * @example appKey(null, 'Shop') // 'product:Shop'
 */
export function appKey(appGuid: string | null, product: string | null): string {
  if (appGuid) return indexValue(appGuid);
  const name = product?.trim();
  return name ? `${PRODUCT_APP_PREFIX}${indexValue(name)}` : NO_APP;
}

/**
 * The most characters of a value the index groups and filters by (app, product, version,
 * mechanism, browser, OS, URL path). Submitters choose these, up to the annotation limit (a MiB);
 * cut to this, any real one is whole, and every link the pages make with one stays within the
 * filters' limit (500 characters) and a URL's.
 */
const INDEX_VALUE_CHARS = 200;

function indexValue(text: string): string {
  return clipText(text, INDEX_VALUE_CHARS);
}

/** What an app key stands for, for pages and the API. */
export function appKind(key: string): AppSummary['kind'] {
  return key === NO_APP ? 'unknown' : key.startsWith(PRODUCT_APP_PREFIX) ? 'product' : 'guid';
}
export const DAY_MS = 86_400_000;
/** Rows of top crashers shown unless asked for another number. */
export const TOP_CRASHERS_LIMIT = 50;
export const MAX_TOP_CRASHERS_LIMIT = 500;
/** The version and environment pickers list what was seen in this many days. */
const PICKER_DAYS = 90;
/** The environment picker lists the busiest this many (anyone can submit made-up names). */
export const MAX_PICKER_ENVIRONMENTS = 50;
/** The version picker lists the busiest this many versions, newest first (anyone can submit made-up ones). */
export const MAX_PICKER_VERSIONS = 100;
export const REPORTS_PER_PAGE = 50;
/** Search counts and facets look at no more than this many of the newest matches. */
export const SEARCH_SAMPLE_LIMIT = 10_000;
/** Deepest page a search or report list goes to (offsets stay cheap). */
export const MAX_PAGE = 200;
/** Waits this long for another connection's write lock (a reindex, a second process). */
const BUSY_TIMEOUT_MS = 5_000;
/** SQLite page cache: the hot index pages of a million crashes fit. */
const CACHE_KIB = 128 * 1024;

export interface CountByValue {
  value: string;
  count: number;
}

export interface DayCount {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  count: number;
}

export interface AppSummary {
  /** The app's key (see appKey): its WebAppGUID, `product:<ProductName>`, or `-`. Used in `/apps/<key>`. */
  guid: string;
  product: string;
  /** `guid`: a WebAppGUID; `product`: crashes with no GUID, grouped by ProductName; `unknown`: neither. */
  kind: 'guid' | 'product' | 'unknown';
  /** Crashes received in the last 24 hours. */
  count_24h: number;
  /** Crashes in the last 7 UTC days, today included. */
  count_7d: number;
  total: number;
  /** The last 28 days, oldest first. */
  daily: DayCount[];
}

/** An app's crashes in the 7 UTC days after day `@week` and in all, from `apps a` joined with `app_daily d`. */
const APP_COUNTS = 'coalesce(sum(iif(d.day > @week, d.n, 0)), 0) AS week, coalesce(sum(d.n), 0) AS total';

interface RankedApp {
  app: string;
  product: string;
  week: number;
  total: number;
}

/**
 * The apps table, or with `also` (a JSON list as `@also`) the apps it names that the table lacks
 * added, unnamed: the plain table when there are none, so its key index serves the walk by key.
 */
function appsWith(also: readonly string[] | undefined): string {
  return also?.length ? `(SELECT app, product FROM apps UNION ALL SELECT value, '' FROM json_each(@also) WHERE value NOT IN (SELECT app FROM apps))` : 'apps';
}

/** Apps on the apps page, and in `/api/apps`, at a time unless asked otherwise. */
export const APPS_PAGE_SIZE = 100;
export const MAX_APPS_PAGE_SIZE = 1000;

/** A page of apps, busiest first, or by key when walked with a cursor. */
export interface AppsResult {
  apps: AppSummary[];
  /** Apps in the index. */
  total: number;
  page: number;
  pages: number;
  limit: number;
  /** By key only: the last key listed, where the next page starts (`after`); null on the last page. */
  next?: string | null;
}

export interface TopCrasher {
  rank: number;
  signature: string;
  signature_id: string;
  count: number;
  /** Of all crashes of the app (and version) in the period, 0..1. */
  share: number;
  previous_count: number;
  /** (count - previous) / previous; null when the previous period had none. */
  change: number | null;
  /** First seen for this app inside the period (in any environment, as first_seen and last_seen). */
  is_new: boolean;
  first_seen: string;
  last_seen: string;
  versions: CountByValue[];
  browsers: CountByValue[];
  daily: DayCount[];
}

export interface Period {
  days: number;
  /** ISO start (inclusive, UTC midnight) and end (exclusive). */
  from: string;
  to: string;
}

export interface TopCrashersResult {
  app: { guid: string; product: string; kind: AppSummary['kind'] };
  /** The filters: null for all; '' for the crashes without one. */
  version: string | null;
  environment: string | null;
  period: Period;
  /** Most rows returned. */
  limit: number;
  /** Signatures with crashes in the period (rows beyond `limit` are left out; hidden ones are not counted). */
  signatures: number;
  /** Signatures left out because the caller asked (ignored ones), and their crashes; still in `total`. */
  hidden: { signatures: number; count: number };
  total: number;
  previous_total: number;
  /** Versions seen for the app (in the environment) in the last 90 days, the busiest MAX_PICKER_VERSIONS, newest first, for the version picker. */
  versions: CountByValue[];
  /** The app's environments in the last 90 days, busiest first (at most MAX_PICKER_ENVIRONMENTS); '' counts crashes that declared none. */
  environments: CountByValue[];
  rows: TopCrasher[];
}

/** One crash as the index knows it: what lists and search results show. */
export interface CrashRow {
  crash_id: string;
  submitted_at: string;
  app: string;
  product: string;
  version: string;
  /** '' when the page declared none. */
  environment: string;
  signature_id: string;
  signature: string;
  error_type: string;
  error_message: string;
  mechanism: string;
  browser: string;
  os: string;
  url_path: string;
}

export interface PageOf<T> {
  page: number;
  per_page: number;
  total: number;
  pages: number;
  items: T[];
  /** Where the next page starts (see ListCursor), or null when this page is the last. */
  next: string | null;
}

/**
 * A place in a newest-first list of crashes: after the crash `crashId`, received at
 * `submittedAt` (ms). Paging by it, rather than by page number, neither repeats nor skips a
 * crash when new ones arrive between pages. Written `<ms>.<crash id>` (see cursorAfter).
 */
export interface ListCursor {
  submittedAt: number;
  crashId: string;
}

/** The cursor after a listed crash, as the API hands it out. */
function cursorAfter(row: CrashRow): string {
  return `${Date.parse(row.submitted_at)}.${row.crash_id}`;
}

/** Reads a cursor cursorAfter wrote; null when it is not one. */
export function parseListCursor(text: string): ListCursor | null {
  const m = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  return m ? { submittedAt: Number(m[1]), crashId: m[2]! } : null;
}

/** The SQL condition for crashes listed after a cursor (newest first, then by crash ID). */
const AFTER_CURSOR = '(c.submitted_at < @afterAt OR (c.submitted_at = @afterAt AND c.crash_id > @afterId))';

export interface SignatureSummary {
  signature_id: string;
  signature: string;
  /** Every crash with this signature the index holds. */
  total: number;
  app: string | null;
  /** The environment filter: null for all; '' for the crashes that declared none. */
  environment: string | null;
  period: Period;
  count: number;
  first_seen: string | null;
  last_seen: string | null;
  daily: DayCount[];
  facets: Record<Facet | 'app' | 'environment', CountByValue[]>;
  reports: PageOf<CrashRow>;
}

export interface SearchQuery {
  app?: string;
  /** A version; '' for crashes without one. */
  version?: string;
  /** An environment; '' for crashes that declared none. */
  environment?: string;
  /** Exact signature text, or `~text` for signatures containing text. */
  signature?: string;
  /** Text in the error message or type. */
  q?: string;
  /** A browser name (`Firefox`) or name and version (`Firefox 153.0`). */
  browser?: string;
  mechanism?: string;
  /** An OS as the facet shows it (`Windows`). */
  os?: string;
  /**
   * A page URL path as the index stores it (`/checkout`); with `*` at the end, a prefix
   * (`/products/*`). Segments `<n>`, `<uuid>`, `<id>` stand for any such ID (see collapsePath).
   */
  url?: string;
  /** The `url` filter as typed, before percent-encoding, when that differs: also matched. */
  urlAsGiven?: string;
  from?: Date;
  /** Exclusive end. */
  to?: Date;
  page?: number;
  /** The page after this place instead of `page`: counts and facets are the same, the items follow it. */
  after?: ListCursor;
}

export const SEARCH_FACETS = ['signature', 'app', 'version', 'environment', 'browser', 'os', 'mechanism', 'url_path'] as const;

export interface SearchResult extends PageOf<CrashRow> {
  /** True when more crashes matched than were counted (SEARCH_SAMPLE_LIMIT). */
  total_is_lower_bound: boolean;
  facets: Record<(typeof SEARCH_FACETS)[number], CountByValue[]>;
}

interface IndexRow {
  crash_id: string;
  submitted_at: number;
  day: number;
  app: string;
  product: string;
  version: string;
  environment: string;
  signature_id: string;
  error_type: string;
  error_message: string;
  mechanism: string;
  browser: string;
  browser_version: string;
  os: string;
  url_path: string;
}

export interface OpenOptions {
  /** The clock queries measure periods from; tests pass a fixed one. */
  now?: () => Date;
}

/** `YYYY-MM-DD` of a UTC day number. */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** The row the index keeps of a processed crash. */
export function indexRow(p: ProcessedCrash): IndexRow {
  const id = normalizeCrashId(p.crash_id);
  if (!id) throw new TypeError('Not a crash ID');
  let at = Date.parse(p.submitted_at);
  if (!Number.isFinite(at)) at = crashIdDate(id).getTime();
  const browser = p.browser?.name ?? '';
  return {
    crash_id: id,
    submitted_at: at,
    day: dayOf(at),
    app: appKey(p.app_guid, p.product),
    product: indexValue(p.product?.trim() ?? ''),
    version: indexValue(p.version ?? ''),
    // Checked when processed; crashes processed before environments were kept have none.
    environment: environmentName(p.environment) ?? '',
    signature_id: p.signature_id,
    error_type: p.error_type ?? '',
    error_message: p.error_message ?? '',
    mechanism: indexValue(p.mechanism ?? ''),
    browser: indexValue(browser),
    browser_version: indexValue(browser ? `${browser} ${p.browser?.version ?? ''}`.trim() : ''),
    os: indexValue(p.os ?? ''),
    url_path: indexValue(p.url_path ?? ''),
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

/**
 * The `url` filter (see SearchQuery): case counts, as in URLs, so prefixes use GLOB (LIKE
 * ignores ASCII case). A pattern first checks the path's literal start, which is cheap, and
 * only then collapses the path in JavaScript.
 *
 * url_path has no index of its own: at a million crashes a search for a rare path scans in about
 * 0.2 s, while an index made common paths combined with other filters
 * slower (the planner took it over the signature's) and could not serve patterns.
 */
function urlCondition(url: string, asGiven?: string): { sql: string; params: Record<string, string> } {
  const prefix = url.endsWith('*');
  const path = prefix ? url.slice(0, -1) : url;
  if (!isPathPattern(path)) {
    const given = asGiven === undefined ? undefined : prefix ? asGiven.slice(0, -1) : asGiven;
    const match = prefix ? (p: string) => `${escapeGlob(p)}*` : (p: string) => p;
    const op = prefix ? 'GLOB' : '=';
    return given === undefined
      ? { sql: `c.url_path ${op} @url`, params: { url: match(path) } }
      : { sql: `(c.url_path ${op} @url OR c.url_path ${op} @urlAsGiven)`, params: { url: match(path), urlAsGiven: match(given) } };
  }
  return {
    sql: `c.url_path GLOB @urlStart AND collapse_path(c.url_path) ${prefix ? 'GLOB' : '='} @url`,
    params: { urlStart: `${escapeGlob(literalStart(path))}*`, url: prefix ? `${escapeGlob(path)}*` : path },
  };
}

/**
 * Whether a text filter has characters past ASCII. SQLite's LIKE ignores case for ASCII letters
 * only, so such a filter is matched against text lowered by JavaScript (`unicode_lower`), which
 * folds every script (`ошибка` finds `Ошибка`); plain ASCII keeps the faster LIKE.
 */
function beyondAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

/**
 * A `q` search whose texts and signatures (see #matchText) have at most this many crashes looks
 * them up and sorts them; one with more walks crashes newest first until it has enough, which
 * takes fewer steps the more crashes match. Counted up to this bound (a crash matched both by
 * text and by signature counts twice).
 */
export const FEW_TEXT_MATCHES = 4 * SEARCH_SAMPLE_LIMIT;
/**
 * The crashes `c` of the matched texts or signatures, found by their indexes. SQLite keeps the
 * order of a CROSS JOIN: it does not walk another filter's index (an app's every crash) instead.
 */
const TEXT_MATCHED_CRASHES = `(SELECT id FROM crashes WHERE text_id IN temp.search_texts
  UNION SELECT id FROM crashes WHERE signature_id IN temp.search_signatures) matched CROSS JOIN crashes c ON c.id = matched.id`;
/** The same, checked on each crash another index walks to (the `+` keeps SQLite from using the columns' indexes). */
const TEXT_MATCHED_CHECK = '(+c.text_id IN temp.search_texts OR +c.signature_id IN temp.search_signatures)';

const CRASH_ROW_COLUMNS = `c.crash_id, c.submitted_at, c.app, c.product, c.version, c.environment, c.signature_id, s.signature,
  t.error_type, t.error_message, c.mechanism, c.browser_version AS browser, c.os, c.url_path`;
/** What CRASH_ROW_COLUMNS reads, after the crashes `c` of a FROM. */
const CRASH_ROW_JOINS = 'JOIN texts t ON t.id = c.text_id LEFT JOIN signatures s USING (signature_id)';

function toCrashRow(r: Record<string, unknown>): CrashRow {
  return { ...(r as unknown as CrashRow), submitted_at: iso(r.submitted_at as number)!, signature: (r.signature as string) ?? '' };
}

function fillDays(rows: { day: number; n: number }[], firstDay: number, lastDay: number): DayCount[] {
  const byDay = new Map(rows.map((r) => [r.day, r.n]));
  const out: DayCount[] = [];
  for (let d = firstDay; d <= lastDay; d++) out.push({ day: dayString(d), count: byDay.get(d) ?? 0 });
  return out;
}

function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

type Trie = Map<number, Trie | number>;

/** Counts keyed by tuples of small integers, as nested maps (no string keys to build per row). */
class TupleCounter {
  readonly root: Trie = new Map();

  bump(parts: number[]): void {
    let node = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = node.get(parts[i]!) as Trie | undefined;
      if (!next) node.set(parts[i]!, (next = new Map()));
      node = next;
    }
    const last = parts.at(-1)!;
    node.set(last, ((node.get(last) as number | undefined) ?? 0) + 1);
  }

  *entries(node: Trie = this.root, prefix: number[] = []): Generator<[number[], number]> {
    for (const [key, value] of node) {
      if (typeof value === 'number') yield [[...prefix, key], value];
      else yield* this.entries(value, [...prefix, key]);
    }
  }
}

/**
 * The daily count tables of a bulk load, counted in memory as rows go in (see schema.ts).
 * Strings are interned to integers so counting a row costs a few map lookups.
 */
class BulkCounts {
  readonly #ids = new Map<string, number>();
  readonly #strings: string[] = [];
  readonly apps = new Set<string>();
  /** app -> ProductName -> [crashes, first submitted_at]. */
  readonly appProducts = new Map<string, Map<string, [number, number]>>();
  readonly appDaily = new TupleCounter();
  readonly sigDaily = new TupleCounter();
  readonly sigVersionDaily = new TupleCounter();
  readonly sigVersionBrowserDaily = new TupleCounter();
  readonly facets = new TupleCounter();

  #id(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      id = this.#strings.length;
      this.#ids.set(text, id);
      this.#strings.push(text);
    }
    return id;
  }

  add(row: IndexRow): void {
    this.apps.add(row.app);
    if (row.product !== '') {
      let names = this.appProducts.get(row.app);
      if (!names) this.appProducts.set(row.app, (names = new Map()));
      const seen = names.get(row.product);
      if (seen) {
        seen[0]++;
        seen[1] = Math.min(seen[1], row.submitted_at);
      } else names.set(row.product, [1, row.submitted_at]);
    }
    const app = this.#id(row.app);
    const sig = this.#id(row.signature_id);
    // The environment first: an app has a few, and each level of the tries costs a map per prefix.
    const env = this.#id(row.environment);
    this.appDaily.bump([env, app, row.day]);
    this.sigDaily.bump([env, app, row.day, sig]);
    const version = this.#id(row.version);
    this.sigVersionDaily.bump([env, app, version, row.day, sig]);
    this.sigVersionBrowserDaily.bump([env, app, version, sig, row.day, this.#id(row.browser)]);
    for (let f = 0; f < FACETS.length; f++) this.facets.bump([env, sig, f, this.#id(row[FACETS[f]!]), row.day, app]);
  }

  write(db: Database.Database): void {
    const text = (id: number): string => this.#strings[id]!;
    const app = db.prepare("INSERT INTO apps VALUES (?, '')");
    for (const guid of this.apps) app.run(guid);
    const appProduct = db.prepare('INSERT INTO app_products VALUES (?, ?, ?, ?)');
    for (const [guid, names] of this.appProducts) for (const [product, [n, first]] of names) appProduct.run(guid, product, n, first);
    db.exec(NAME_APPS_SQL);
    const appDaily = db.prepare('INSERT INTO app_daily VALUES (?, ?, ?, ?)');
    for (const [[env, a, day], n] of this.appDaily.entries()) appDaily.run(text(a!), day, text(env!), n);
    const sigDaily = db.prepare('INSERT INTO sig_daily VALUES (?, ?, ?, ?, ?)');
    for (const [[env, a, day, sig], n] of this.sigDaily.entries()) sigDaily.run(text(a!), day, text(sig!), text(env!), n);
    const sigVersionDaily = db.prepare('INSERT INTO sig_version_daily VALUES (?, ?, ?, ?, ?, ?)');
    for (const [[env, a, v, day, sig], n] of this.sigVersionDaily.entries()) sigVersionDaily.run(text(a!), text(v!), day, text(sig!), text(env!), n);
    const sigVersionBrowserDaily = db.prepare('INSERT INTO sig_version_browser_daily VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const [[env, a, v, sig, day, browser], n] of this.sigVersionBrowserDaily.entries()) {
      sigVersionBrowserDaily.run(text(a!), text(v!), text(sig!), day, text(env!), text(browser!), n);
    }
    const facet = db.prepare('INSERT INTO sig_facet_daily VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const [[env, sig, f, value, day, a], n] of this.facets.entries()) facet.run(text(sig!), FACETS[f!], text(value!), day, text(a!), text(env!), n);
  }
}

/** The meta key, before a crash ID, of a deletion under way (CrashIndex.markDeleting). */
const DELETING_KEY = 'deleting:';

/** The meta key of a crash's deletion, the same for every spelling of its ID (`bp-`, upper case); null for no crash ID. */
function deletingKey(crashId: string): string | null {
  const id = normalizeCrashId(crashId);
  return id ? DELETING_KEY + id : null;
}

/** The meta key, before a day (`YYYYMMDD`), of a retention sweep under way (CrashIndex.markSweeping). */
const SWEEPING_KEY = 'sweeping:';
const DAY_PATTERN = /^\d{8}$/;

/** Drops whatever the file holds and creates the tables of this schema, empty. */
function createEmpty(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DROP_ALL_SQL);
    db.exec(TABLES_SQL);
    db.exec(CRASH_INDEXES_SQL);
    db.exec(TRIGGERS_SQL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * The SQLite index of processed crashes beside the filesystem store: one file in the data
 * dir, WAL mode, one row per crash plus per-day counts kept by triggers (see schema.ts).
 * It can always be rebuilt from the stored crashes (`socorrito reindex`).
 *
 * @example
 *   const index = CrashIndex.open(join(dataDir, 'index.sqlite'));
 *   index.upsert(processed);
 *   index.topCrashers(guid, { days: 7 }).rows[0]?.signature;
 */
export class CrashIndex {
  #rebuildReason: string | null;
  readonly #db: Database.Database;
  readonly #now: () => Date;
  readonly #insert: Database.Statement;
  readonly #deleteById: Database.Statement;
  readonly #saveSignature: Database.Statement;
  readonly #saveText: Database.Statement;
  /** Asked for every crash processed and for up to CHECK_NEWEST_FOLDERS at start: prepared once. */
  readonly #signatureIdOf: Database.Statement;
  #bulk: BulkCounts | null = null;

  private constructor(db: Database.Database, rebuildReason: string | null, now: () => Date) {
    this.#db = db;
    db.function('unicode_lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
    db.function('collapse_path', { deterministic: true }, (path: unknown) => (typeof path === 'string' ? collapsePath(path) : path));
    this.#rebuildReason = rebuildReason;
    this.#now = now;
    // After #saveText, which makes sure the text is there.
    this.#insert = db.prepare(`INSERT INTO crashes (crash_id, submitted_at, day, app, product, version, environment, signature_id,
      text_id, mechanism, browser, browser_version, os, url_path)
      VALUES (@crash_id, @submitted_at, @day, @app, @product, @version, @environment, @signature_id,
      (SELECT id FROM texts WHERE error_type = @error_type AND error_message = @error_message),
      @mechanism, @browser, @browser_version, @os, @url_path)`);
    this.#saveText = db.prepare('INSERT INTO texts (error_type, error_message) VALUES (@error_type, @error_message) ON CONFLICT DO NOTHING');
    this.#deleteById = db.prepare('DELETE FROM crashes WHERE crash_id = ?');
    this.#signatureIdOf = db.prepare('SELECT signature_id FROM crashes WHERE crash_id = ?').pluck();
    this.#saveSignature = db.prepare(
      'INSERT INTO signatures VALUES (?, ?) ON CONFLICT DO UPDATE SET signature = excluded.signature WHERE signature != excluded.signature',
    );
  }

  /**
   * Opens (or creates) the index at `path`. A new file, one of another schema version (emptied
   * and recreated here) or one whose last rebuild did not finish reports a `rebuildReason`.
   */
  static open(path: string, options: OpenOptions = {}): CrashIndex {
    const existed = path !== ':memory:' && existsSync(path);
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      throw new Error(`Could not open the crash index ${path}: ${(err as Error).message}`, { cause: err });
    }
    let version: number;
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma(`cache_size = -${CACHE_KIB}`);
      // Sorts for GROUP BY and index builds stay in memory instead of temp files.
      db.pragma('temp_store = MEMORY');
      // Deleted rows are overwritten, not left in free pages: a crash erased on request is gone
      // from the file too (see erase()).
      db.pragma('secure_delete = ON');
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      db.close();
      throw new Error(`Could not open the crash index ${path}: ${(err as Error).message}`, { cause: err });
    }
    let reason: string | null = null;
    // A bulk load cut short (`socorrito reindex` stopped) leaves the crashes without their count
    // triggers and indexes, and half counted: such an index starts over like a new one.
    const bulkCutShort =
      version === SCHEMA_VERSION && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'crashes_counted'").get() === undefined;
    if (version !== SCHEMA_VERSION || bulkCutShort) {
      reason = bulkCutShort
        ? 'the last rebuild did not finish'
        : existed && version !== 0
          ? `schema version ${version} is not ${SCHEMA_VERSION}`
          : 'new index';
      createEmpty(db);
    } else {
      const complete = db.prepare("SELECT value FROM meta WHERE key = 'rebuilt_at'").get();
      if (!complete) reason = 'the last rebuild did not finish';
    }
    return new CrashIndex(db, reason, options.now ?? (() => new Date()));
  }

  /** Why the index must be rebuilt from storage before it is complete, or null. */
  get rebuildReason(): string | null {
    return this.#rebuildReason;
  }

  /**
   * Empties the index, as a new one, to be rebuilt from storage: what it holds does not match the
   * stored crashes (see storageMismatch in open.ts), and a rebuild that only adds would keep rows
   * of crashes that are gone.
   */
  startOver(reason: string): void {
    createEmpty(this.#db);
    this.#rebuildReason = reason;
  }

  /**
   * Notes that the crash is being deleted, before its folder goes (erase() ends the note): a start
   * that finds it indexed without a folder then knows a stop cut its deletion short, rather than
   * taking it for crash folders restored from a backup (see storageMismatch in open.ts).
   */
  markDeleting(crashId: string): void {
    const key = deletingKey(crashId);
    if (key) this.#db.prepare("INSERT OR REPLACE INTO meta VALUES (?, '')").run(key);
  }

  unmarkDeleting(crashId: string): void {
    const key = deletingKey(crashId);
    if (key) this.#db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }

  /** Crashes whose deletion began (markDeleting) and did not reach erase(). */
  deletionsUnderWay(): string[] {
    const keys = this.#db.prepare('SELECT key FROM meta WHERE key LIKE ?').pluck().all(`${DELETING_KEY}%`) as string[];
    return keys.map((key) => key.slice(DELETING_KEY.length));
  }

  /**
   * Notes that retention is deleting a day's crashes, before the first of them leaves the index
   * (unmarkSweeping ends the note once the day's folder is gone): a start after a stop part way
   * through then knows why that day's folder holds crashes the index lacks, rather than taking
   * them for an older copy of the index restored (see storageMismatch in open.ts).
   */
  markSweeping(day: string): void {
    if (!DAY_PATTERN.test(day)) throw new TypeError(`Not a day (YYYYMMDD): ${day}`);
    this.#db.prepare("INSERT OR REPLACE INTO meta VALUES (?, '')").run(SWEEPING_KEY + day);
  }

  unmarkSweeping(day: string): void {
    this.#db.prepare('DELETE FROM meta WHERE key = ?').run(SWEEPING_KEY + day);
  }

  /** Days whose retention sweep began (markSweeping) and did not end (unmarkSweeping). */
  sweepsUnderWay(): string[] {
    const keys = this.#db.prepare('SELECT key FROM meta WHERE key LIKE ?').pluck().all(`${SWEEPING_KEY}%`) as string[];
    return keys.map((key) => key.slice(SWEEPING_KEY.length));
  }

  /** The IDs of the `limit` crashes submitted last. */
  newestCrashIds(limit: number): string[] {
    return this.#db.prepare('SELECT crash_id FROM crashes ORDER BY submitted_at DESC LIMIT ?').pluck().all(limit) as string[];
  }

  /** The stamp the receiver last gave the index and the data dir together (see open.ts), or null. */
  stamp(): string | null {
    return (this.#db.prepare("SELECT value FROM meta WHERE key = 'stamp'").pluck().get() as string | undefined) ?? null;
  }

  /**
   * Records the stamp, synced to disk before it returns: the data dir's copy is written after it,
   * and an index that lost it in a power cut would not match its own data dir.
   */
  setStamp(stamp: string): void {
    this.#db.pragma('synchronous = FULL');
    try {
      this.#db.prepare("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)").run(stamp);
    } finally {
      this.#db.pragma('synchronous = NORMAL');
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** Adds a processed crash, or replaces what the index had for it (reprocessing). */
  upsert(processed: ProcessedCrash): void {
    this.upsertMany([processed]);
  }

  upsertMany(crashes: Iterable<ProcessedCrash>): void {
    this.#db.transaction(() => {
      for (const p of crashes) {
        const row = indexRow(p);
        this.#deleteById.run(row.crash_id);
        this.#saveSignature.run(p.signature_id, p.signature);
        this.#saveText.run(row);
        this.#insert.run(row);
      }
    })();
  }

  /**
   * Crashes of a signature in an app (and, when given, an environment: '' for none) over UTC days
   * `firstDay` to `lastDay` (days since the epoch), from the daily counts.
   */
  signatureCountOverDays(app: string, signatureId: string, firstDay: number, lastDay: number, environment?: string): number {
    return this.#db
      .prepare(
        `SELECT coalesce(sum(n), 0) FROM sig_daily WHERE app = @app AND day >= @firstDay AND day <= @lastDay AND signature_id = @signatureId${
          environment === undefined ? '' : ' AND environment = @environment'
        }`,
      )
      .pluck()
      .get({ app, firstDay, lastDay, signatureId, environment }) as number;
  }

  /** Crashes received after `sinceMs` (ms since the epoch), at most `limit`, oldest first: what spike alerts count after a restart. */
  crashesSince(sinceMs: number, limit = 200_000): { app: string; environment: string; signature_id: string; crash_id: string; submitted_at: number }[] {
    return this.#db
      .prepare('SELECT app, environment, signature_id, crash_id, submitted_at FROM crashes WHERE submitted_at > ? ORDER BY submitted_at LIMIT ?')
      .all(sinceMs, limit) as { app: string; environment: string; signature_id: string; crash_id: string; submitted_at: number }[];
  }

  /** A signature's text, or null when no crash with it was ever indexed. */
  signatureText(signatureId: string): string | null {
    return (this.#db.prepare('SELECT signature FROM signatures WHERE signature_id = ?').pluck().get(signatureId) as string | undefined) ?? null;
  }

  /** Whether a crash of this signature from one of `environments` is in the index (new-signature alerts for some environments ask). */
  hasSignatureIn(signatureId: string, environments: readonly string[]): boolean {
    return (
      this.#db
        .prepare('SELECT 1 FROM sig_daily WHERE signature_id = ? AND environment IN (SELECT value FROM json_each(?)) LIMIT 1')
        .get(signatureId, JSON.stringify(environments)) !== undefined
    );
  }

  /** Whether this crash is in the index already (the start's check against storage asks). */
  hasCrash(crashId: string): boolean {
    return this.signatureIdOf(crashId) !== null;
  }

  /** The signature ID the crash is indexed under, or null when it is not in the index (processing it again moves it: triage asks). */
  signatureIdOf(crashId: string): string | null {
    return (this.#signatureIdOf.get(normalizeCrashId(crashId) ?? crashId) as string | undefined) ?? null;
  }

  /** Whether any crash with this signature was ever indexed (new-signature alerts ask). */
  hasSignature(signatureId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM signatures WHERE signature_id = ?').get(signatureId) !== undefined;
  }

  remove(crashId: string): void {
    const id = normalizeCrashId(crashId);
    if (id) this.#deleteById.run(id);
  }

  /**
   * Removes a crash for good (an erasure request): its row, its signature's text when no other
   * crash has that signature (a message-based signature can hold the message), its app when no
   * other crash has that app, and the old page images in the write-ahead log. Ends what
   * markDeleting began.
   */
  erase(crashId: string, options: { checkpoint?: boolean } = {}): void {
    const id = normalizeCrashId(crashId);
    if (!id) return;
    this.unmarkDeleting(id);
    const row = this.#db.prepare('SELECT signature_id, app FROM crashes WHERE crash_id = ?').get(id) as { signature_id: string; app: string } | undefined;
    this.#deleteById.run(id);
    if (row) {
      this.#db.prepare('DELETE FROM signatures WHERE signature_id = ? AND NOT EXISTS (SELECT 1 FROM crashes WHERE signature_id = ?)').run(row.signature_id, row.signature_id);
      // An app left with no crash leaves the apps list (its name was in the crash).
      this.#db.prepare('DELETE FROM apps WHERE app = ? AND NOT EXISTS (SELECT 1 FROM crashes WHERE app = ?)').run(row.app, row.app);
    }
    if (options.checkpoint !== false) this.checkpoint();
  }

  /** Moves the write-ahead log into the file and empties it: the old page images of erased crashes go. */
  checkpoint(): void {
    if (this.#db.open) this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Number of crashes in the index. */
  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM crashes').get() as { n: number }).n;
  }

  /**
   * Empties the index and drops the count triggers and the crash indexes for a fast
   * `loadBulk`; end with `finishBulk`, which builds them again.
   */
  startBulk(): void {
    this.#db.transaction(() => {
      this.#db.exec("DELETE FROM meta WHERE key = 'rebuilt_at'");
      this.#db.exec(DROP_TRIGGERS_SQL);
      this.#db.exec(DROP_CRASH_INDEXES_SQL);
      this.#db.exec('DELETE FROM crashes; DELETE FROM signatures; DELETE FROM texts;');
      this.#db.exec(RECOUNT_SQL);
    })();
    this.#bulk = new BulkCounts();
  }

  /**
   * Appends crashes in one transaction, without triggers or indexes (see `startBulk`); the
   * daily counts are kept in memory meanwhile, which is much cheaper than recounting after.
   */
  loadBulk(crashes: Iterable<ProcessedCrash>): number {
    const counts = this.#bulk;
    if (!counts) throw new Error('loadBulk() without startBulk()');
    let n = 0;
    this.#db.transaction(() => {
      for (const p of crashes) {
        const row = indexRow(p);
        this.#saveSignature.run(p.signature_id, p.signature);
        this.#saveText.run(row);
        this.#insert.run(row);
        counts.add(row);
        n++;
      }
    })();
    return n;
  }

  /** Builds the indexes, writes the daily counts, restores the triggers, and marks the index complete. */
  finishBulk(): void {
    const counts = this.#bulk;
    if (!counts) throw new Error('finishBulk() without startBulk()');
    this.#bulk = null;
    this.#db.transaction(() => {
      let duplicates = false;
      try {
        this.#db.exec(CRASH_INDEXES_SQL);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
        // The same crash was loaded twice: keep its last row (only then pay for the dedupe).
        duplicates = true;
        this.#db.exec(DEDUPE_SQL);
        this.#db.exec(CRASH_INDEXES_SQL);
      }
      if (duplicates) this.#db.exec(RECOUNT_SQL);
      else counts.write(this.#db);
      this.#db.exec(DROP_TRIGGERS_SQL);
      this.#db.exec(TRIGGERS_SQL);
    })();
    this.markRebuilt();
    this.#db.pragma('optimize');
  }

  /** Who has the index open for writing (`pid@host`), as a running receiver records it; null when none. */
  owner(): string | null {
    return (this.#db.prepare("SELECT value FROM meta WHERE key = 'owner'").pluck().get() as string | undefined) ?? null;
  }

  setOwner(owner: string | null): void {
    if (owner === null) this.#db.prepare("DELETE FROM meta WHERE key = 'owner'").run();
    else this.#db.prepare("INSERT OR REPLACE INTO meta VALUES ('owner', ?)").run(owner);
  }

  /** Records that the index holds every stored crash (a rebuild finished). */
  markRebuilt(): void {
    this.#db.prepare("INSERT OR REPLACE INTO meta VALUES ('rebuilt_at', ?)").run(this.#now().toISOString());
  }

  /**
   * The apps that have crashed, busiest first (crashes in the last 7 days, then all time), a page
   * at a time: anyone can submit, so there may be many (one per ProductName a stranger makes up).
   * Ranking takes one pass over the per-day counts; only the page's apps get their details.
   *
   * With `after` they come by key instead, the page starting after that key ('' for the first):
   * the ranking moves as crashes arrive, so a walk through it by page can list an app twice or
   * never; keys do not move.
   *
   * `also` names apps to list though no crash of them is indexed (set up by the operator, not
   * crashed yet): they take their place among the rest with 0 crashes, by key.
   */
  apps(options: { page?: number; limit?: number; after?: string; also?: readonly string[] } = {}): AppsResult {
    const limit = Math.max(1, Math.min(options.limit ?? APPS_PAGE_SIZE, MAX_APPS_PAGE_SIZE));
    const nowMs = this.#now().getTime();
    const today = dayOf(nowMs);
    const page = Math.max(1, options.page ?? 1);
    let listed: RankedApp[];
    let total: number;
    let next: string | null | undefined;
    const also = JSON.stringify(options.also ?? []);
    const source = appsWith(options.also);
    if (options.after === undefined) {
      const ranked = this.#rankApps(today, options.also);
      total = ranked.length;
      listed = ranked.slice((page - 1) * limit, page * limit);
    } else {
      total = this.#db.prepare(`SELECT count(*) FROM ${source}`).pluck().get({ also }) as number;
      // One more than the page, to tell whether another follows.
      const rows = this.#db
        .prepare(`SELECT a.app, a.product, ${APP_COUNTS} FROM ${source} a LEFT JOIN app_daily d ON d.app = a.app
          WHERE a.app > @after GROUP BY a.app ORDER BY a.app LIMIT @take OFFSET @skip`)
        .all({ week: today - 7, after: options.after, take: limit + 1, skip: (page - 1) * limit, also }) as RankedApp[];
      listed = rows.slice(0, limit);
      next = rows.length > limit ? listed.at(-1)!.app : null;
    }
    const pages = Math.max(1, Math.ceil(total / limit));
    const daily = this.#db.prepare('SELECT day, sum(n) AS n FROM app_daily WHERE app = ? AND day > ? GROUP BY day');
    const since = this.#db.prepare('SELECT count(*) AS n FROM crashes WHERE app = ? AND submitted_at > ?');
    const apps = listed.map(({ app, product, week, total }): AppSummary => ({
      guid: app,
      product,
      kind: appKind(app),
      count_24h: (since.get(app, nowMs - DAY_MS) as { n: number }).n,
      count_7d: week,
      total,
      daily: fillDays(daily.all(app, today - 28) as { day: number; n: number }[], today - 27, today),
    }));
    return { apps, total, page, pages, limit, ...(next === undefined ? {} : { next }) };
  }

  /** The `limit` busiest apps' keys and names, in the apps page's order, without their counts (for choosing one). */
  busiestApps(limit: number): { guid: string; product: string }[] {
    return this.#rankApps(dayOf(this.#now().getTime()))
      .slice(0, limit)
      .map(({ app, product }) => ({ guid: app, product }));
  }

  /** Every app (and those `also` names) with its crashes in the 7 UTC days up to `today` and in all, busiest first. */
  #rankApps(today: number, also?: readonly string[]): RankedApp[] {
    return this.#db
      .prepare(
        `SELECT a.app, a.product, ${APP_COUNTS}
          FROM ${appsWith(also)} a LEFT JOIN app_daily d ON d.app = a.app GROUP BY a.app
          ORDER BY week DESC, total DESC, a.app`,
      )
      .all({ week: today - 7, also: JSON.stringify(also ?? []) }) as RankedApp[];
  }

  /** The app's name, or null when the index has no crash of it. */
  app(guid: string): { guid: string; product: string; kind: AppSummary['kind'] } | null {
    const row = this.#db.prepare('SELECT app, product FROM apps WHERE app = ?').get(guid) as { app: string; product: string } | undefined;
    return row ? { guid: row.app, product: row.product, kind: appKind(row.app) } : null;
  }

  /** The key of an app a crash names that is `key` but for ASCII case (the forwarding registry matches GUIDs so), or null. */
  appKeyIgnoringCase(key: string): string | null {
    return (this.#db.prepare('SELECT app FROM apps WHERE app = ? COLLATE NOCASE LIMIT 1').pluck().get(key) as string | undefined) ?? null;
  }

  /**
   * Socorro's Top Crashers: the app's signatures in the last `days` UTC days (today included),
   * ranked by count, each with its change against the `days` before, up to the same time of day.
   * Signatures `hide` picks (the ignored ones) are left out of the ranking and counted apart.
   */
  topCrashers(
    guid: string,
    options: {
      days: number;
      /** Only crashes of this version; '' for those without one; all when null. */
      version?: string | null;
      /** Only crashes from this environment; '' for those that declared none; all when null. */
      environment?: string | null;
      limit?: number;
      hide?: (signatureId: string, signature: string) => boolean;
      /** The app as the caller knows it when no crash of it is indexed (set up, not crashed yet): answered as one with none, not null. */
      known?: { guid: string; product: string; kind: AppSummary['kind'] };
    },
  ): TopCrashersResult | null {
    const app = this.app(guid) ?? options.known ?? null;
    if (!app) return null;
    const { days } = options;
    const version = options.version ?? null;
    const environment = options.environment ?? null;
    const limit = Math.min(options.limit ?? TOP_CRASHERS_LIMIT, MAX_TOP_CRASHERS_LIMIT);
    const nowMs = this.#now().getTime();
    const today = dayOf(nowMs);
    const first = today - days + 1;
    const prevFirst = first - days;
    // Counts per signature in this period and the one before, summed in SQL from the daily
    // table: a few thousand small rows whatever the number of crashes. The period runs to now,
    // so the one before runs to the same time of day: its last day counts the crashes before
    // that time (from the crashes table), not the whole day.
    // The daily tables have a row per environment: a filter picks one, else they are summed.
    const table = version === null ? 'sig_daily' : 'sig_version_daily';
    const versionClause = version === null ? '' : ' AND version = @version';
    const envClause = environment === null ? '' : ' AND environment = @environment';
    const where = `app = @app${versionClause}${envClause}`;
    const params = { app: guid, version, environment, first, prevFirst, today };
    const counts = this.#db
      .prepare(`SELECT signature_id, sum(iif(day >= @first, n, 0)) AS count, sum(iif(day < @first - 1, n, 0)) AS previous
        FROM ${table} WHERE ${where} AND day >= @prevFirst AND day <= @today GROUP BY signature_id`)
      .all(params) as { signature_id: string; count: number; previous: number }[];
    const bySignature = new Map(counts.map((r) => [r.signature_id, r]));
    // One range count per signature of that day, on the (app, signature, time) index: scanning the
    // day's crashes instead took 50 ms at a million crashes.
    for (const r of this.#db
      .prepare(`SELECT d.signature_id, (SELECT count(*) FROM crashes c WHERE c.app = @app AND c.signature_id = d.signature_id
          AND c.submitted_at >= @start AND c.submitted_at < @end${version === null ? '' : ' AND c.version = @version'}${environment === null ? '' : ' AND c.environment = @environment'}) AS n
        FROM (SELECT DISTINCT signature_id FROM ${table} WHERE ${where} AND day = @day) d`)
      .all({ app: guid, version, environment, day: first - 1, start: (first - 1) * DAY_MS, end: nowMs - days * DAY_MS }) as {
      signature_id: string;
      n: number;
    }[]) {
      if (r.n === 0) continue;
      const row = bySignature.get(r.signature_id);
      if (row) row.previous += r.n;
      else counts.push({ signature_id: r.signature_id, count: 0, previous: r.n });
    }
    let total = 0;
    let previousTotal = 0;
    for (const r of counts) {
      total += r.count;
      previousTotal += r.previous;
    }
    const inPeriod = counts.filter((r) => r.count > 0);
    const texts = new Map<string, string>();
    if (options.hide) {
      for (const r of this.#db
        .prepare('SELECT signature_id, signature FROM signatures WHERE signature_id IN (SELECT value FROM json_each(?))')
        .all(JSON.stringify(inPeriod.map((r) => r.signature_id))) as { signature_id: string; signature: string }[]) {
        texts.set(r.signature_id, r.signature);
      }
    }
    const isHidden = (r: { signature_id: string }): boolean => options.hide?.(r.signature_id, texts.get(r.signature_id) ?? '') ?? false;
    const hidden = inPeriod.filter(isHidden);
    const ranked = inPeriod
      .filter((r) => !isHidden(r))
      .sort((a, b) => b.count - a.count || a.signature_id.localeCompare(b.signature_id))
      .slice(0, limit);
    const ids = JSON.stringify(ranked.map((r) => r.signature_id));

    const perDay = new Map<string, { day: number; n: number }[]>();
    for (const r of this.#db
      .prepare(`SELECT signature_id, day, sum(n) AS n FROM ${table} WHERE ${where} AND day >= @first AND day <= @today
        AND signature_id IN (SELECT value FROM json_each(@ids)) GROUP BY signature_id, day`)
      .all({ ...params, ids }) as { signature_id: string; day: number; n: number }[]) {
      const list = perDay.get(r.signature_id) ?? [];
      list.push(r);
      perDay.set(r.signature_id, list);
    }
    const facetValues = new Map<string, CountByValue[]>();
    // Of one release, its own browsers (and that release alone in the versions column).
    const facetSql =
      version === null
        ? `SELECT signature_id, facet, value, sum(n) AS count FROM sig_facet_daily
        WHERE signature_id IN (SELECT value FROM json_each(@ids)) AND facet IN ('version', 'browser')
        AND day >= @first AND day <= @today AND app = @app${envClause} GROUP BY signature_id, facet, value ORDER BY count DESC, value`
        : `SELECT signature_id, facet, value, sum(n) AS count FROM (
            SELECT signature_id, 'browser' AS facet, browser AS value, n FROM sig_version_browser_daily
              WHERE app = @app AND version = @version AND signature_id IN (SELECT value FROM json_each(@ids)) AND day >= @first AND day <= @today${envClause}
            UNION ALL
            SELECT signature_id, 'version', version, n FROM sig_version_daily
              WHERE app = @app AND version = @version AND signature_id IN (SELECT value FROM json_each(@ids)) AND day >= @first AND day <= @today${envClause})
          GROUP BY signature_id, facet, value ORDER BY count DESC, value`;
    for (const r of this.#db.prepare(facetSql).all({ ...params, ids }) as { signature_id: string; facet: string; value: string; count: number }[]) {
      const key = `${r.signature_id}\n${r.facet}`;
      const list = facetValues.get(key) ?? [];
      list.push({ value: r.value, count: r.count });
      facetValues.set(key, list);
    }
    const signatureText = this.#db.prepare('SELECT signature FROM signatures WHERE signature_id = ?').pluck();
    const firstSeen = this.#db
      .prepare('SELECT submitted_at FROM crashes WHERE app = ? AND signature_id = ? ORDER BY submitted_at LIMIT 1')
      .pluck();
    const lastSeen = this.#db
      .prepare('SELECT submitted_at FROM crashes WHERE app = ? AND signature_id = ? ORDER BY submitted_at DESC LIMIT 1')
      .pluck();
    const periodStart = first * DAY_MS;

    return {
      app,
      version,
      environment,
      period: { days, from: iso(periodStart)!, to: iso((today + 1) * DAY_MS)! },
      limit,
      signatures: inPeriod.length - hidden.length,
      hidden: { signatures: hidden.length, count: hidden.reduce((sum, r) => sum + r.count, 0) },
      total,
      previous_total: previousTotal,
      // Newest release first, as a version menu lists them.
      versions: (
        this.#db
          .prepare(`SELECT version AS value, sum(n) AS count FROM sig_version_daily WHERE app = @app${envClause} AND day > @since GROUP BY version
            ORDER BY count DESC, version LIMIT ${MAX_PICKER_VERSIONS}`)
          .all({ app: guid, environment, since: today - PICKER_DAYS }) as CountByValue[]
      ).sort((a, b) => compareVersions(b.value, a.value)),
      // Of the release shown, when one is.
      environments: this.#db
        .prepare(
          `SELECT environment AS value, sum(n) AS count FROM ${version === null ? 'app_daily' : 'sig_version_daily'} WHERE app = @app${versionClause} AND day > @since
          GROUP BY environment ORDER BY count DESC, value LIMIT ${MAX_PICKER_ENVIRONMENTS}`,
        )
        .all({ app: guid, version, since: today - PICKER_DAYS }) as CountByValue[],
      rows: ranked.map((r, i): TopCrasher => {
        const firstAt = firstSeen.get(guid, r.signature_id) as number;
        return {
          rank: i + 1,
          signature: (signatureText.get(r.signature_id) as string | undefined) ?? '',
          signature_id: r.signature_id,
          count: r.count,
          share: total ? r.count / total : 0,
          previous_count: r.previous,
          change: r.previous ? (r.count - r.previous) / r.previous : null,
          is_new: firstAt >= periodStart,
          first_seen: iso(firstAt)!,
          last_seen: iso(lastSeen.get(guid, r.signature_id) as number)!,
          versions: facetValues.get(`${r.signature_id}\nversion`) ?? [],
          browsers: facetValues.get(`${r.signature_id}\nbrowser`) ?? [],
          daily: fillDays(perDay.get(r.signature_id) ?? [], first, today),
        };
      }),
    };
  }

  /**
   * Socorro's Signature report: totals, crashes per day and facets over the last `days` days
   * (optionally of one app), and its reports newest first, a page at a time.
   */
  signature(
    signatureId: string,
    options: { days: number; app?: string | null; environment?: string | null; page?: number; after?: ListCursor },
  ): SignatureSummary | null {
    const text = this.signatureText(signatureId);
    if (text === null) return null;
    const app = options.app || null;
    // '' is a filter too: the crashes that declared no environment.
    const environment = options.environment ?? null;
    const { days } = options;
    const page = Math.min(Math.max(1, options.page ?? 1), MAX_PAGE);
    const today = dayOf(this.#now().getTime());
    const first = today - days + 1;
    const fromMs = first * DAY_MS;
    const appClause = `${app === null ? '' : ' AND app = @app'}${environment === null ? '' : ' AND environment = @environment'}`;
    const params = { id: signatureId, app, environment, first, today };

    const total = this.#db
      .prepare(`SELECT coalesce(sum(n), 0) FROM sig_daily WHERE signature_id = @id${appClause}`)
      .pluck()
      .get({ id: signatureId, app, environment }) as number;
    const dayRows = this.#db
      .prepare(`SELECT day, sum(n) AS n FROM sig_daily WHERE signature_id = @id AND day >= @first AND day <= @today${appClause} GROUP BY day`)
      .all(params) as { day: number; n: number }[];
    const count = dayRows.reduce((sum, r) => sum + r.n, 0);

    const facetRows = this.#db
      .prepare(`SELECT facet, value, sum(n) AS count FROM sig_facet_daily
        WHERE signature_id = @id AND day >= @first AND day <= @today${appClause} GROUP BY facet, value`)
      .all(params) as { facet: Facet; value: string; count: number }[];
    const facets = Object.fromEntries([...FACETS, 'app', 'environment'].map((f) => [f, [] as CountByValue[]])) as SignatureSummary['facets'];
    for (const r of facetRows) facets[r.facet].push({ value: r.value, count: r.count });
    facets.url_path = collapseCounts(facets.url_path);
    facets.app = this.#db
      .prepare(`SELECT app AS value, sum(n) AS count FROM sig_daily WHERE signature_id = @id AND day >= @first AND day <= @today${appClause}
        GROUP BY app`)
      .all(params) as CountByValue[];
    facets.environment = this.#db
      .prepare(`SELECT environment AS value, sum(n) AS count FROM sig_daily
        WHERE signature_id = @id AND day >= @first AND day <= @today${appClause} GROUP BY environment`)
      .all(params) as CountByValue[];
    for (const list of Object.values(facets)) list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));

    const crashFilter = `${app === null ? '' : ' AND c.app = @app'}${environment === null ? '' : ' AND c.environment = @environment'}`;
    const seen = (order: 'ASC' | 'DESC'): number | undefined =>
      this.#db
        .prepare(`SELECT submitted_at FROM crashes c WHERE c.signature_id = @id${crashFilter} ORDER BY submitted_at ${order} LIMIT 1`)
        .pluck()
        .get({ id: signatureId, app, environment }) as number | undefined;

    const { after } = options;
    // One more than a page, to tell whether another follows.
    const reports = (
      this.#db
        .prepare(`SELECT ${CRASH_ROW_COLUMNS} FROM crashes c ${CRASH_ROW_JOINS}
        WHERE c.signature_id = @id AND c.submitted_at >= @from${crashFilter}${after ? ` AND ${AFTER_CURSOR}` : ''}
        ORDER BY c.submitted_at DESC, c.crash_id LIMIT @limit OFFSET @offset`)
        .all({
          id: signatureId,
          app,
          environment,
          from: fromMs,
          limit: REPORTS_PER_PAGE + 1,
          offset: after ? 0 : (page - 1) * REPORTS_PER_PAGE,
          ...(after ? { afterAt: after.submittedAt, afterId: after.crashId } : {}),
        }) as Record<string, unknown>[]
    ).map(toCrashRow);
    const items = reports.slice(0, REPORTS_PER_PAGE);

    return {
      signature_id: signatureId,
      signature: text,
      total,
      app,
      environment,
      period: { days, from: iso(fromMs)!, to: iso((today + 1) * DAY_MS)! },
      count,
      first_seen: iso(seen('ASC')),
      last_seen: iso(seen('DESC')),
      daily: fillDays(dayRows, first, today),
      facets,
      reports: {
        page,
        per_page: REPORTS_PER_PAGE,
        total: count,
        pages: Math.min(pageCount(count, REPORTS_PER_PAGE), MAX_PAGE),
        items,
        next: reports.length > REPORTS_PER_PAGE ? cursorAfter(items.at(-1)!) : null,
      },
    };
  }

  /**
   * Super Search, small: crashes matching every given filter, newest first, with facet counts.
   * Counting and facets stop at the newest SEARCH_SAMPLE_LIMIT matches so a broad search on a
   * big index stays quick; `total_is_lower_bound` says when that happened.
   */
  search(query: SearchQuery): SearchResult {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.app) {
      where.push('c.app = @app');
      params.app = query.app;
    }
    // '' picks the crashes without a version (or environment), as the index keeps them.
    if (query.version !== undefined) {
      where.push('c.version = @version');
      params.version = query.version;
    }
    if (query.environment !== undefined) {
      where.push('c.environment = @environment');
      params.environment = query.environment;
    }
    if (query.signature) {
      if (query.signature.startsWith('~') && beyondAscii(query.signature)) {
        where.push('c.signature_id IN (SELECT signature_id FROM signatures WHERE instr(unicode_lower(signature), @signature) > 0)');
        params.signature = query.signature.slice(1).toLowerCase();
      } else if (query.signature.startsWith('~')) {
        where.push(
          "c.signature_id IN (SELECT signature_id FROM signatures WHERE signature LIKE '%' || @signature || '%' ESCAPE '\\')",
        );
        params.signature = escapeLike(query.signature.slice(1));
      } else {
        where.push('c.signature_id IN (SELECT signature_id FROM signatures WHERE signature = @signature)');
        params.signature = query.signature;
      }
    }
    if (query.browser) {
      // Any case, and a version matches at a component boundary: "firefox", "Chrome 124" (for
      // "Chrome 124.0.0.0") and "Firefox 153.0" all find what a person means.
      if (query.browser.includes(' ')) {
        where.push("(c.browser_version LIKE @browser ESCAPE '\\' OR c.browser_version LIKE @browser || '.%' ESCAPE '\\')");
      } else {
        where.push("c.browser LIKE @browser ESCAPE '\\'");
      }
      params.browser = escapeLike(query.browser);
    }
    if (query.mechanism) {
      where.push('c.mechanism = @mechanism');
      params.mechanism = query.mechanism;
    }
    if (query.os) {
      // As the browser filter: `windows` finds `Windows`.
      where.push('c.os = @os COLLATE NOCASE');
      params.os = query.os;
    }
    if (query.url) {
      const url = urlCondition(query.url, query.urlAsGiven);
      where.push(url.sql);
      Object.assign(params, url.params);
    }
    if (query.from) {
      where.push('c.submitted_at >= @from');
      params.from = query.from.getTime();
    }
    if (query.to) {
      where.push('c.submitted_at < @to');
      params.to = query.to.getTime();
    }
    const page = Math.min(Math.max(1, query.page ?? 1), MAX_PAGE);

    return this.#db.transaction((): SearchResult => {
      // Newest first on an index, unless `q` matched few crashes: then those are looked up by
      // text and signature and sorted (walking the time index, a rare text would visit every crash).
      let from = 'crashes c';
      if (query.q) {
        if (this.#matchText(query.q)) from = TEXT_MATCHED_CRASHES;
        else where.push(TEXT_MATCHED_CHECK);
      }
      const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
      // One pass over crashes: the newest SEARCH_SAMPLE_LIMIT + 1 matches go to a temp table, and
      // the count, the facets and the page all come from there.
      this.#db.exec('DROP TABLE IF EXISTS temp.search_matches');
      this.#db
        .prepare(`CREATE TEMP TABLE search_matches AS SELECT c.id, c.submitted_at, c.crash_id, c.signature_id, c.app, c.version,
          c.environment, c.browser_version, c.os, c.mechanism, c.url_path FROM ${from} ${whereSql} ORDER BY c.submitted_at DESC LIMIT ${SEARCH_SAMPLE_LIMIT + 1}`)
        .run(params);
      const counted = this.#db.prepare('SELECT count(*) FROM search_matches').pluck().get() as number;
      if (counted > SEARCH_SAMPLE_LIMIT) {
        this.#db.exec('DELETE FROM search_matches WHERE rowid = (SELECT rowid FROM search_matches ORDER BY submitted_at, crash_id DESC LIMIT 1)');
      }
      const facetSql = SEARCH_FACETS.map((f) => {
        const column = f === 'signature' ? 'signature_id' : f === 'browser' ? 'browser_version' : f;
        return `SELECT '${f}' AS facet, ${column} AS value, count(*) AS count FROM search_matches GROUP BY ${column}`;
      }).join(' UNION ALL ');
      const facetRows = this.#db.prepare(facetSql).all() as { facet: (typeof SEARCH_FACETS)[number]; value: string; count: number }[];
      const facets = Object.fromEntries(SEARCH_FACETS.map((f) => [f, [] as CountByValue[]])) as SearchResult['facets'];
      for (const r of facetRows) facets[r.facet].push({ value: r.value, count: r.count });
      facets.url_path = collapseCounts(facets.url_path);
      for (const list of Object.values(facets)) list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value)).splice(50);
      // One more than a page, to tell whether another follows. After a cursor the items come from
      // every match, not the counted newest ones: a script can walk past SEARCH_SAMPLE_LIMIT.
      const rows = (
        query.after
          ? this.#db
              .prepare(`SELECT ${CRASH_ROW_COLUMNS} FROM ${from} ${CRASH_ROW_JOINS}
          ${whereSql ? `${whereSql} AND` : 'WHERE'} ${AFTER_CURSOR} ORDER BY c.submitted_at DESC, c.crash_id LIMIT ${REPORTS_PER_PAGE + 1}`)
              .all({ ...params, afterAt: query.after.submittedAt, afterId: query.after.crashId })
          : this.#db
              // The page's matches first: the rest of a crash row is read for those alone.
              .prepare(`SELECT ${CRASH_ROW_COLUMNS} FROM (SELECT id, submitted_at, crash_id FROM search_matches
            ORDER BY submitted_at DESC, crash_id LIMIT ${REPORTS_PER_PAGE + 1} OFFSET ${(page - 1) * REPORTS_PER_PAGE}) m
          JOIN crashes c ON c.id = m.id ${CRASH_ROW_JOINS} ORDER BY m.submitted_at DESC, m.crash_id`)
              .all()
      ) as Record<string, unknown>[];
      const items = rows.slice(0, REPORTS_PER_PAGE).map(toCrashRow);
      // The counted matches end at SEARCH_SAMPLE_LIMIT; older ones follow the last of them.
      const more = rows.length > REPORTS_PER_PAGE || (!query.after && counted > SEARCH_SAMPLE_LIMIT && page * REPORTS_PER_PAGE >= SEARCH_SAMPLE_LIMIT);
      this.#db.exec('DROP TABLE temp.search_matches; DROP TABLE IF EXISTS temp.search_texts; DROP TABLE IF EXISTS temp.search_signatures;');
      const total = Math.min(counted, SEARCH_SAMPLE_LIMIT);
      return {
        page,
        per_page: REPORTS_PER_PAGE,
        total,
        total_is_lower_bound: counted > SEARCH_SAMPLE_LIMIT,
        pages: Math.min(pageCount(total, REPORTS_PER_PAGE), MAX_PAGE),
        items,
        next: more && items.length ? cursorAfter(items.at(-1)!) : null,
        facets,
      };
    })();
  }

  /**
   * Puts the texts (error type or message) and the signatures that contain `q` in temp tables
   * search_texts and search_signatures, reading each distinct one once rather than every crash.
   * Any case; ASCII by LIKE, anything else lowered by JavaScript (see beyondAscii). The message,
   * the type, and the signature: a signature's message part is one wording for every browser
   * (`Failed to fetch` finds Firefox's "NetworkError when attempting to fetch").
   * True when they have at most FEW_TEXT_MATCHES crashes.
   */
  #matchText(q: string): boolean {
    const unicode = beyondAscii(q);
    const contains = (column: string): string => (unicode ? `instr(unicode_lower(${column}), @q) > 0` : `${column} LIKE @q ESCAPE '\\'`);
    const params = { q: unicode ? q.toLowerCase() : `%${escapeLike(q)}%` };
    this.#db.exec('DROP TABLE IF EXISTS temp.search_texts; DROP TABLE IF EXISTS temp.search_signatures;');
    this.#db
      .prepare(`CREATE TEMP TABLE search_texts AS SELECT id FROM texts WHERE ${contains('error_message')} OR ${contains('error_type')}`)
      .run(params);
    this.#db.prepare(`CREATE TEMP TABLE search_signatures AS SELECT signature_id FROM signatures WHERE ${contains('signature')}`).run(params);
    const counted = this.#db
      .prepare(`SELECT count(*) FROM (SELECT id FROM crashes WHERE text_id IN temp.search_texts
        UNION ALL SELECT id FROM crashes WHERE signature_id IN temp.search_signatures LIMIT ${FEW_TEXT_MATCHES + 1})`)
      .pluck()
      .get() as number;
    return counted <= FEW_TEXT_MATCHES;
  }

  /** Signature texts by ID, for labelling facet values. */
  signatureTexts(ids: string[]): Map<string, string> {
    const get = this.#db.prepare('SELECT signature FROM signatures WHERE signature_id = ?').pluck();
    return new Map(ids.map((id) => [id, (get.get(id) as string | undefined) ?? id]));
  }
}
