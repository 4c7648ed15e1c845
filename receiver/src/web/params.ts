import type { Context, MiddlewareHandler } from 'hono';
import { type ListCursor, MAX_APPS_PAGE_SIZE, parseListCursor, type SearchQuery } from '../index/crash-index.ts';
import { isPlaceholder } from '../index/url-paths.ts';

/** Periods top crashers offers, in days (Socorro's choices). */
export const TOP_CRASHER_DAYS = [1, 3, 7, 14, 28] as const;
export const DEFAULT_TOP_CRASHER_DAYS = 7;
/** Periods the signature page offers, in days. */
export const SIGNATURE_DAYS = [1, 7, 28, 90, 365] as const;
export const DEFAULT_SIGNATURE_DAYS = 28;
/** Longest text filter accepted. */
const MAX_FILTER_CHARS = 500;

/** Why a signature page or API address is refused before the index is asked. */
export const BAD_SIGNATURE_ID = 'A signature ID is 16 letters, digits, - and _, as in the links on the top crashers page.';

/**
 * A query parameter that cannot be used: answered with 400 and every problem found. `fields`
 * names the search form's fields at fault, for the page to mark them.
 */
export class BadQuery extends Error {
  constructor(
    readonly problems: string[],
    readonly fields: string[] = [],
  ) {
    super(problems.join('; '));
    this.name = 'BadQuery';
  }
}

/** Characters of an app key an answer about an unknown app repeats (real keys are at most about 210). */
export const MAX_APP_KEY_SHOWN = 250;

type Get = (name: string) => string | undefined;

/**
 * A request's query as the readers here take it: a parameter's value by name (the first one when
 * given twice, which strictNames refuses in the API).
 *
 * @example searchParams(queryOf(c), c.req.queries())
 */
export function queryOf(c: Context): Get {
  return (name) => c.req.query(name);
}

/** A request's query parameters by name, each with every value given. */
export type Given = Record<string, string[]>;

/**
 * The API is strict where a page is forgiving: a parameter it does not take (a typo such as
 * `signatur=`) or one given twice would be ignored, and the answer quietly be about everything.
 */
function strictNames(given: Given | undefined, known: readonly string[], problems: string[]): void {
  for (const [name, values] of Object.entries(given ?? {})) {
    if (!known.includes(name)) problems.push(`${JSON.stringify(name.slice(0, 40))} is not a parameter here; it takes ${known.join(', ') || 'none'}`);
    else if (values.length > 1) problems.push(`${name} is given ${values.length} times`);
  }
}

/**
 * For API endpoints with no other checks of their query: throws BadQuery for a parameter the
 * endpoint does not take or one given twice (a misspelt `url=` on a DELETE must not widen it).
 *
 * @example onlyParams(c.req.queries(), ['app', 'release'])
 */
export function onlyParams(given: Given, known: readonly string[]): void {
  const problems: string[] = [];
  strictNames(given, known, problems);
  if (problems.length) throw new BadQuery(problems);
}

/** Middleware for API addresses that take no query parameters: one given is refused (BadQuery), as elsewhere. */
export const noQueryParams: MiddlewareHandler = async (c, next) => {
  onlyParams(c.req.queries(), []);
  await next();
};

/**
 * `limit` of a list the API caps: a whole number from 1 to `max`, `dflt` when not given. A
 * `limit=5000` quietly cut to the cap, or a `limit=abc` taken as the default, would read as the whole list.
 */
export function limitParam(get: Get, max: number, dflt: number): number {
  const problems: string[] = [];
  const limit = positiveInt(get, 'limit', problems, max) ?? dflt;
  if (problems.length) throw new BadQuery(problems);
  return limit;
}

/** The API's answer to a BadQuery, the same from every endpoint. */
export function badQueryBody(err: BadQuery): { error: 'bad_query'; message: string; problems: string[] } {
  return { error: 'bad_query', message: err.message, problems: err.problems };
}

function oneOf(get: Get, name: string, allowed: readonly number[], dflt: number, problems: string[]): number {
  const text = get(name);
  if (text === undefined || text === '') return dflt;
  const n = Number(text);
  if (!allowed.includes(n)) {
    problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text.slice(0, 40))}`);
    return dflt;
  }
  return n;
}

function positiveInt(get: Get, name: string, problems: string[], max = 1_000_000): number | undefined {
  const text = get(name);
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    problems.push(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(text.slice(0, 40))}`);
    return undefined;
  }
  return Number(text);
}

function text(get: Get, name: string, problems: string[]): string | undefined {
  const value = get(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_FILTER_CHARS) {
    problems.push(`${name} is longer than ${MAX_FILTER_CHARS} characters`);
    return undefined;
  }
  return value;
}

/**
 * An ISO date or time. A bare date as `to` means the whole of that day, so `from=to=2026-11-29`
 * finds that day's crashes.
 */
function date(get: Get, name: string, endOfDay: boolean, problems: string[]): Date | undefined {
  const value = get(name);
  if (value === undefined || value === '') return undefined;
  const ms = parseIsoDate(value);
  if (ms === null) {
    // A `+` written into a query string by hand arrives as a space.
    const plus = /[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}:?\d{2}$/.test(value) ? ' (a + in a query string means a space: send the zone as %2B01:00, or use Z)' : '';
    problems.push(`${name} must be an ISO date like 2026-11-29 or 2026-11-29T10:00:00Z, got ${JSON.stringify(value.slice(0, 40))}${plus}`);
    return undefined;
  }
  const dateOnly = value.length === 10;
  return new Date(dateOnly && endOfDay ? ms + 86_400_000 : ms);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A date, or a date and time, in milliseconds; null for anything else, including days and times
 * that do not exist (2026-02-30, 24:00), which Date.parse would roll over. Without a zone it is
 * UTC, as every period the pages show.
 */
function parseIsoDate(value: string): number | null {
  const m = ISO_DATE.exec(value);
  if (!m) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', zone] = m;
  if (+hour > 23 || +minute > 59 || +second > 59) return null;
  const calendar = new Date(Date.UTC(+year!, +month! - 1, +day!));
  if (calendar.getUTCMonth() !== +month! - 1 || calendar.getUTCDate() !== +day!) return null;
  const time = value.length > 10 ? value.slice(11, value.length - (zone?.length ?? 0)) : '00:00';
  const ms = Date.parse(`${year}-${month}-${day}T${time}${zone ? zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : 'Z'}`);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * `after`, the API's place in a list of crashes (an answer's `next`), which replaces `page`: the
 * two together would contradict each other.
 */
function cursor(get: Get, problems: string[]): ListCursor | undefined {
  const value = get('after');
  if (value === undefined || value === '') return undefined;
  const parsed = parseListCursor(value);
  if (!parsed) problems.push(`after must be the "next" of an earlier answer, got ${JSON.stringify(value.slice(0, 60))}`);
  else if (get('page') !== undefined && get('page') !== '') problems.push('after and page cannot be given together: after already says where the page starts');
  return parsed ?? undefined;
}

/**
 * How the version and environment filters spell "no value": `(none)`, as the pages label the
 * crashes without one, so what a breakdown shows is what a person types. An empty parameter
 * stays "no filter". A version can be any text that is not blank and an environment any name
 * environmentName keeps, `(none)` among them, so no bare word is free: a real `(none)` is
 * written `\(none)`, a real `\(none)` `\\(none)`, and so on. Only those spellings change meaning.
 *
 * @example filterValue('(none)') // '' (crashes without one, as the index keeps them)
 * @example filterValue('\\(none)') // '(none)'
 */
export const NONE_FILTER = '(none)';
const NONE_SPELLING = /^(\\*)\(none\)$/;
/** The filters whose "(none)" can be asked for; other facets' empty values pick nothing. */
export const NONE_FILTERS: readonly string[] = ['version', 'environment'];

/** A version or environment filter as given, made the value the index keeps ('' for none). */
export function filterValue(given: string): string {
  const m = NONE_SPELLING.exec(given);
  return m ? (m[1] ? given.slice(1) : '') : given;
}

/** A value the index keeps as a version or environment filter spells it, for links and menus (filterValue undone). */
export function filterText(value: string): string {
  return value === '' ? NONE_FILTER : NONE_SPELLING.test(value) ? `\\${value}` : value;
}

/** filterText for a page's current filter, which is null when there is none. */
export function filterParam(value: string | null): string | null {
  return value === null ? null : filterText(value);
}

/** An environment filter, trimmed as the receiver keeps names (a pasted ` staging` finds `staging`); null when blank. */
function environmentFilter(given: string | undefined): string | null {
  const name = given?.trim();
  return name ? filterValue(name) : null;
}

/**
 * `/` and `/api/apps`: `page` and `limit`, busiest first, or the apps by key with `order=key`,
 * continued with `after=<key>` (an answer's `next`). The ranking moves as crashes arrive, so a
 * walk through every app goes by key: `after` is '' for the first page. With `given` (the API),
 * a parameter it does not take, or one given twice, is refused too.
 */
export function appsParams(get: Get, given?: Given): { page: number; limit?: number; after?: string } {
  const problems: string[] = [];
  strictNames(given, ['page', 'limit', 'order', 'after'], problems);
  const page = positiveInt(get, 'page', problems) ?? 1;
  const limit = positiveInt(get, 'limit', problems, MAX_APPS_PAGE_SIZE);
  const order = get('order') || 'busiest';
  if (order !== 'busiest' && order !== 'key') problems.push(`order must be busiest or key, got ${JSON.stringify(order.slice(0, 40))}`);
  // `after=` with nothing after it is a walk by key from its start, as `order=key` alone is.
  const after = get('after') === '' ? '' : text(get, 'after', problems);
  if (after !== undefined) {
    if (get('order') === 'busiest') problems.push('after walks the apps by key: give it without order, or with order=key');
    if (get('page') !== undefined && get('page') !== '') problems.push('after and page cannot be given together: after already says where the page starts');
  }
  if (problems.length) throw new BadQuery(problems);
  return { page, limit, after: after ?? (order === 'key' ? '' : undefined) };
}

export function topCrashersParams(
  get: Get,
  given?: Given,
): { query: { days: number; version: string | null; environment: string | null; limit?: number }; showIgnored: boolean } {
  const problems: string[] = [];
  strictNames(given, ['days', 'version', 'environment', 'limit', 'ignored'], problems);
  const days = oneOf(get, 'days', TOP_CRASHER_DAYS, DEFAULT_TOP_CRASHER_DAYS, problems);
  const givenVersion = text(get, 'version', problems);
  const version = givenVersion === undefined ? null : filterValue(givenVersion);
  const environment = environmentFilter(text(get, 'environment', problems));
  const limit = positiveInt(get, 'limit', problems, 500);
  // Ignored signatures are left out (and counted as hidden) unless ?ignored=1.
  const ignored = get('ignored');
  if (ignored !== undefined && !['', '0', '1'].includes(ignored)) problems.push(`ignored must be 0 or 1, got ${JSON.stringify(ignored.slice(0, 40))}`);
  if (problems.length) throw new BadQuery(problems);
  return { query: { days, version, environment, limit }, showIgnored: ignored === '1' };
}

export function signatureParams(
  get: Get,
  given?: Given,
): { days: number; app: string | null; environment: string | null; page: number; after?: ListCursor } {
  const problems: string[] = [];
  strictNames(given, ['days', 'app', 'environment', 'page', 'after'], problems);
  const days = oneOf(get, 'days', SIGNATURE_DAYS, DEFAULT_SIGNATURE_DAYS, problems);
  const app = text(get, 'app', problems) ?? null;
  const environment = environmentFilter(text(get, 'environment', problems));
  const page = positiveInt(get, 'page', problems, 200) ?? 1;
  const after = cursor(get, problems);
  if (problems.length) throw new BadQuery(problems);
  return { days, app, environment, page, after };
}

/** The search form's fields, exactly as given (to refill the form), and the query they make. */
export interface SearchForm {
  app?: string;
  version?: string;
  environment?: string;
  signature?: string;
  q?: string;
  browser?: string;
  os?: string;
  mechanism?: string;
  url?: string;
  from?: string;
  to?: string;
}

export const SEARCH_FIELDS = ['app', 'version', 'environment', 'signature', 'q', 'browser', 'os', 'mechanism', 'url', 'from', 'to'] as const;

/** What a browser percent-encodes in a path (the URL standard's path set); `%` stays. */
const PATH_ENCODED = /[\x00-\x20"<>`{}\x7f]|[^\x00-\x7f]/gu;
const utf8 = new TextEncoder();

function percentEncode(c: string): string {
  return Array.from(utf8.encode(c), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * A `url` filter in the form the index stores paths (`new URL(…).pathname`): a pasted address
 * loses its origin, query and fragment, and what a browser would percent-encode is encoded,
 * so `/café` finds `/caf%C3%A9`. Placeholders (`<n>`) and a final `*` stay as they are.
 *
 * @example urlFilter('https://shop.example/café?x=1') // '/caf%C3%A9'
 */
function urlFilter(value: string): { url: string; urlAsGiven?: string } {
  const afterOrigin = value.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, '');
  const path = afterOrigin.replace(/[?#].*$/s, '') || (afterOrigin === value ? '' : '/');
  // The final `*` of a prefix is not part of the last segment (`/products/<n>*`).
  const prefix = path.endsWith('*');
  const encoded = (prefix ? path.slice(0, -1) : path)
    .split('/')
    .map((segment) => (isPlaceholder(segment) ? segment : segment.replace(PATH_ENCODED, percentEncode)))
    .join('/');
  const url = prefix ? `${encoded}*` : encoded;
  // A page address that did not parse is stored as it came (`not a url`): it is found as given too.
  return url === path ? { url } : { url, urlAsGiven: path };
}

export function searchParams(get: Get, given?: Given): { form: SearchForm; query: SearchQuery } {
  const problems: string[] = [];
  const fields: string[] = [];
  /** Reads one field, noting the field when that finds a problem. */
  const checked = <T>(field: string, read: () => T): T => {
    const before = problems.length;
    const value = read();
    if (problems.length > before) fields.push(field);
    return value;
  };
  strictNames(given, [...SEARCH_FIELDS, 'page', 'after'], problems);
  const form: SearchForm = {};
  for (const f of SEARCH_FIELDS) {
    const v = checked(f, () => text(get, f, problems));
    if (v !== undefined) form[f] = v;
  }
  const query: SearchQuery = {
    app: form.app,
    version: form.version === undefined ? undefined : filterValue(form.version),
    environment: environmentFilter(form.environment) ?? undefined,
    signature: form.signature,
    q: form.q,
    browser: form.browser,
    os: form.os,
    mechanism: form.mechanism,
    ...(form.url === undefined ? {} : urlFilter(form.url)),
    from: checked('from', () => date(get, 'from', false, problems)),
    to: checked('to', () => date(get, 'to', true, problems)),
    page: positiveInt(get, 'page', problems, 200) ?? 1,
    after: cursor(get, problems),
  };
  if (query.url === '') {
    problems.push(`url must be a page path such as /checkout, got ${JSON.stringify(form.url!.slice(0, 40))}`);
    fields.push('url');
  }
  if (query.from && query.to && query.from >= query.to) {
    problems.push('from must be before to');
    fields.push('from', 'to');
  }
  if (problems.length) throw new BadQuery(problems, [...new Set(fields)]);
  return { form, query };
}
