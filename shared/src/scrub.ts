/**
 * Removes query strings, fragments and path parameters from URLs before they leave the browser:
 * tokens, session IDs and e-mail addresses hide there. Used on the page URL, the error's file
 * name, its message and every URL in its stack; user names and passwords in URLs go too
 * (dropCredentials).
 *
 * @example
 *   scrubUrl('https://shop.example/cart;jsessionid=1A2B?session=abc#pay')  // 'https://shop.example/cart'
 *   scrubUrlsInText('load@https://shop.example/app.js;jsessionid=1A2B:1:44')  // 'load@https://shop.example/app.js:1:44'
 */

/**
 * The URL without its query, fragment and path parameters (`;jsessionid=…`), and without the
 * query and fragment of a percent-encoded URL inside it (`/redirect/https%3A%2F%2Fidp%2Fcb%3Ftoken%3D…`);
 * text that is not a URL is cut at its first `?` or `#`.
 */
export function scrubUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut === -1 ? url : url.slice(0, cut);
  const sep = base.indexOf('://');
  const withoutParams = sep < 0 || !hasScheme(base, sep) ? base : base.slice(0, sep + 3) + withoutPathParams(base, sep + 3, base.length, false);
  return stripEncodedQueries(withoutParams, false);
}

// Texts come from anyone (a message or a stack can be a MiB), so these scans are linear: each
// `://` (and each `%3A%2F%2F`) is looked at once, backwards over its scheme and forwards over what
// follows, the next search starting where that URL ended; and each `?` or `#` once, backwards over
// its path. (The regular expressions they replace backtracked quadratically on text like
// `a-a-a-…`: minutes for a MiB.)

const enum Ch {
  Tab = 9,
  Space = 32,
}

function isSpace(c: number): boolean {
  return (c >= Ch.Tab && c <= 13) || c === Ch.Space || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `\w` */
function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 95;
}

/** A character of a URL scheme: `[a-z0-9+.-]`, any case. */
function isSchemeChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 43 || c === 46 || c === 45;
}

/**
 * Whether the `://` at `sep` has a scheme before it: a run of scheme characters ending there that
 * has a letter at a word boundary (`\b[a-z][a-z0-9+.-]*://`).
 */
function hasScheme(text: string, sep: number): boolean {
  let found = false;
  for (let p = sep - 1; p >= 0 && isSchemeChar(text.charCodeAt(p)); p--) {
    if (isLetter(text.charCodeAt(p)) && (p === 0 || !isWordChar(text.charCodeAt(p - 1)))) found = true;
  }
  return found;
}

/** The next `://` at or after `from` with a scheme before it, or -1. */
function nextSchemeSeparator(text: string, from: number): number {
  for (let sep = text.indexOf('://', from); sep >= 0; sep = text.indexOf('://', sep + 1)) if (hasScheme(text, sep)) return sep;
  return -1;
}

/** Where a run of characters for which `inRun` holds, starting at `from`, ends. */
function runEnd(text: string, from: number, inRun: (c: number) => boolean): number {
  let i = from;
  while (i < text.length && inRun(text.charCodeAt(i))) i++;
  return i;
}

/** The start of `(?::\d+){0,2}` at the end of text[from, end): a stack frame's `:line:column`. */
function positionStart(text: string, from: number, end: number): number {
  let t = end;
  for (let groups = 0; groups < 2; groups++) {
    let d = t;
    while (d > from && isDigit(text.charCodeAt(d - 1))) d--;
    if (d === t || d - 1 < from || text.charCodeAt(d - 1) !== 58) break;
    t = d - 1;
  }
  return t;
}

/**
 * Where a run of URL characters starting at `from` ends: `inRun` says which characters may be in
 * it, and `(` and `)` may be too as long as they pair up (`?folder=Inbox(3)`, `/wiki/Foo_(bar)`:
 * browsers do not percent-encode them). A `)` without its `(` in the run closes a bracket around
 * the URL, as in a Chrome frame (`at f (https://x/a.js?v=1:1:2)`) or `fetch(/search?q=1)`.
 * `stopsAt` ends it early, before the character where it says so.
 */
function urlRunEnd(text: string, from: number, inRun: (c: number) => boolean, stopsAt?: (text: string, at: number) => boolean): number {
  let open = 0;
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (stopsAt?.(text, i)) break;
    if (c === 40) open++;
    else if (c === 41) {
      if (open === 0) break;
      open--;
    } else if (!inRun(c)) break;
  }
  return i;
}

// A URL's base runs to white space, `?` or `#`; its query or fragment to white space, a quote or
// `<`/`>` (which a browser percent-encodes in a URL's query, so in text they end the URL:
// `"https://x/a?b=1"` keeps its closing quote); either to an unpaired `)` (urlRunEnd).
const inBase = (c: number): boolean => !isSpace(c) && c !== 63 && c !== 35;
const inQuery = (c: number): boolean => !isSpace(c) && c !== 34 && c !== 39 && c !== 60 && c !== 62;

/**
 * `base` (text[from, end), the part of a URL after `scheme://`) without its path parameters: each
 * `;` in the path and what follows it up to the next `/` (`/cart;jsessionid=1A2B/x` → `/cart/x`).
 * Java servers put the session ID there, and write it into the URLs of scripts too. A parameter
 * also ends where a query would (a quote or `<`/`>`: `source "https://x/a.js;jsessionid=1".`),
 * and so does the URL. A `;` with nothing after it stays (`see https://x.example/a; then`), as does
 * a stack frame's `:line:column` at the end when `keepPosition`. The host and port are left
 * alone: no parameters there.
 */
function withoutPathParams(text: string, from: number, end: number, keepPosition: boolean): string {
  let out = '';
  let copied = from;
  let p = from;
  while (p < end && text.charCodeAt(p) !== 47) p++;
  for (; p < end; p++) {
    if (text.charCodeAt(p) !== 59) continue;
    let paramEnd = p + 1;
    while (paramEnd < end && text.charCodeAt(paramEnd) !== 47 && inQuery(text.charCodeAt(paramEnd))) paramEnd++;
    const last = paramEnd === end || text.charCodeAt(paramEnd) !== 47;
    const cutEnd = keepPosition && last ? positionStart(text, p + 1, paramEnd) : paramEnd;
    if (cutEnd > p + 1) {
      out += text.slice(copied, p);
      copied = cutEnd;
    }
    if (last) break;
    p = paramEnd - 1;
  }
  return out + text.slice(copied, end);
}

/**
 * `scheme://base;params?query:1:2` → `scheme://base:1:2`, for every such URL in `text`: the query
 * and fragment go, and the path parameters (withoutPathParams).
 */
function stripAbsoluteQueries(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = nextSchemeSeparator(text, from);
    if (sep < 0) break;
    const queryAt = urlRunEnd(text, sep + 3, inBase);
    const q = text.charCodeAt(queryAt);
    const hasQuery = q === 63 || q === 35;
    // A later `://` inside this base ends at the same place: it cannot match otherwise.
    from = queryAt;
    const base = withoutPathParams(text, sep + 3, queryAt, !hasQuery);
    if (!hasQuery && base.length === queryAt - sep - 3) continue;
    const end = hasQuery ? urlRunEnd(text, queryAt + 1, inQuery) : queryAt;
    const position = hasQuery ? text.slice(positionStart(text, queryAt + 1, end), end) : '';
    out += text.slice(copied, sep + 3) + base + position;
    copied = from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// A percent-encoded URL, carried inside another's path or query or quoted in a message
// (`/redirect/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc`): `scheme%3A%2F%2F` in any case, its
// base running as a plain one's does, its query from `%3F` or `%23` as a plain one's does.

/** `://` encoded, in lower case. */
const ENCODED_SEPARATOR = '%3a%2f%2f';

/** Whether `%3A%2F%2F` (any case) is at `at`. */
function isEncodedSeparator(text: string, at: number): boolean {
  if (at + ENCODED_SEPARATOR.length > text.length) return false;
  for (let i = 0; i < ENCODED_SEPARATOR.length; i++) if (lowerCase(text.charCodeAt(at + i)) !== ENCODED_SEPARATOR.charCodeAt(i)) return false;
  return true;
}

/** An ASCII letter in lower case; anything else as it is. */
function lowerCase(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Whether a `%3F` or `%23` (any case) is at `at`. */
function isEncodedQueryStart(text: string, at: number): boolean {
  if (text.charCodeAt(at) !== 37) return false;
  const hi = text.charCodeAt(at + 1);
  const lo = lowerCase(text.charCodeAt(at + 2));
  return (hi === 51 && lo === 102) || (hi === 50 && lo === 51);
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (lowerCase(c) >= 97 && lowerCase(c) <= 102);
}

/**
 * Whether the `%3A%2F%2F` at `sep` has a scheme before it: as hasScheme, and a letter right after
 * a percent escape starts one too (`%2Fhttps%3A%2F%2F…`, a URL encoded inside an encoded path).
 */
function hasEncodedScheme(text: string, sep: number): boolean {
  let found = false;
  for (let p = sep - 1; p >= 0 && isSchemeChar(text.charCodeAt(p)); p--) {
    if (!isLetter(text.charCodeAt(p))) continue;
    const escaped = p >= 3 && text.charCodeAt(p - 3) === 37 && isHexDigit(text.charCodeAt(p - 2)) && isHexDigit(text.charCodeAt(p - 1));
    if (p === 0 || !isWordChar(text.charCodeAt(p - 1)) || escaped) found = true;
  }
  return found;
}

/**
 * Where an encoded URL's base starting at `from` ends: at its `%3F` or `%23`, or where a plain
 * URL's base would (urlRunEnd with inBase). Not the one then the other: the query's end can come
 * before the base's (at a quote), and scanning on to the base's end for every URL could be quadratic.
 */
function encodedBaseEnd(text: string, from: number): number {
  return urlRunEnd(text, from, inBase, isEncodedQueryStart);
}

/**
 * `scheme%3A%2F%2Fbase%3Fquery:1:2` → `scheme%3A%2F%2Fbase:1:2` for every percent-encoded URL in
 * `text`, keeping a stack frame's `:line:column` when `keepPosition`.
 */
function stripEncodedQueries(text: string, keepPosition: boolean): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    let sep = text.indexOf('%', from);
    while (sep >= 0 && !(isEncodedSeparator(text, sep) && hasEncodedScheme(text, sep))) sep = text.indexOf('%', sep + 1);
    if (sep < 0) break;
    const queryAt = encodedBaseEnd(text, sep + ENCODED_SEPARATOR.length);
    // As for plain URLs, a later encoded URL inside this one ends where it does.
    from = queryAt;
    if (!isEncodedQueryStart(text, queryAt)) continue;
    const end = urlRunEnd(text, queryAt, inQuery);
    out += text.slice(copied, queryAt) + text.slice(keepPosition ? positionStart(text, queryAt + 3, end) : end, end);
    copied = from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// A relative URL's query or fragment (`GET /api/user?email=bob@example.com failed`): `?` or `#`
// with a `name=value` after it, so a regular expression in a message (`/a?b/`) and a question
// (`Is it ready? yes`) are left alone, after a path. Before a `?`, any word is a path (`GET
// user?email=…`, `fetch failed for api?token=…`: a question has no `=` glued to it). Before a `#`,
// which prose and code use more, the path starts after white space, a quote, a bracket or `=`,
// `,`, `:` and is one from `/`, one with a `/` inside as `fetch('api/user#…')` takes, or a file
// name as `search.php`. The value runs to white space, a quote or a square bracket, or an
// unpaired `)` (urlRunEnd).
const inPath = (c: number): boolean =>
  !isSpace(c) && c !== 63 && c !== 35 && c !== 34 && c !== 39 && c !== 96 && c !== 40 && c !== 41 && c !== 91 && c !== 93;
const inName = (c: number): boolean => inPath(c) && c !== 61 && c !== 38;
const inValue = (c: number): boolean => !isSpace(c) && c !== 34 && c !== 39 && c !== 96 && c !== 91 && c !== 93;
/** What may come right before a relative path. */
const beforePath = (c: number): boolean => isSpace(c) || c === 34 || c === 39 || c === 96 || c === 40 || c === 91 || c === 61 || c === 44 || c === 58;
/** The characters of a path written without a leading `/`: `[\w.~%-]` and `/`. */
const inBarePath = (c: number): boolean => isWordChar(c) || c === 46 || c === 126 || c === 37 || c === 45 || c === 47;
const SEGMENTED_PATH = /^(?:[\w.~%-]+\/)+[\w.~%-]*$/;
const FILE_NAME = /^[\w~%-]+\.[A-Za-z0-9]+$/;

/** `path?name=value…` → `path` for every relative URL in `text` (see above). */
function stripRelativeQueries(text: string): string {
  let out = '';
  let copied = 0;
  /** Where the last match ended: the next one starts at or after it. */
  let lastEnd = 0;
  for (let q = 0; q < text.length; q++) {
    const c = text.charCodeAt(q);
    if (c !== 63 && c !== 35) continue;
    const eq = runEnd(text, q + 1, inName);
    if (eq === q + 1 || text.charCodeAt(eq) !== 61) continue;
    // The path: back from `q` over path characters, and a start with a delimiter before it.
    let runStart = q;
    while (runStart > lastEnd && inPath(text.charCodeAt(runStart - 1))) runStart--;
    const startsAt = (p: number): boolean => p === 0 || (p - 1 >= lastEnd && beforePath(text.charCodeAt(p - 1)));
    let matched = false;
    for (let p = runStart; p < q && !matched; p++) matched = text.charCodeAt(p) === 47 && startsAt(p);
    if (!matched) {
      let bare = q;
      while (bare > runStart && inBarePath(text.charCodeAt(bare - 1))) bare--;
      const path = text.slice(bare, q);
      matched = bare < q && (c === 63 || (startsAt(bare) && (SEGMENTED_PATH.test(path) || FILE_NAME.test(path))));
    }
    if (!matched) continue;
    // Only now, so that a value is scanned once: it may hold many `?a=` that match nothing.
    const end = urlRunEnd(text, eq + 1, inValue);
    out += text.slice(copied, q);
    copied = lastEnd = end;
    q = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Every URL in `text` (a stack, a message) without its query and fragment: `scheme://` URLs,
 * which lose their path parameters too and whose line and column suffixes of stack frames stay,
 * percent-encoded `scheme%3A%2F%2F` ones, and relative ones whose query has a `name=value`.
 * Works on Firefox (`fn@url:1:2`) and Chrome (`at fn (url:1:2)`) stacks alike.
 */
export function scrubUrlsInText(text: string): string {
  // Plain URLs first: a plain query holding an encoded URL goes whole.
  return stripRelativeQueries(stripEncodedQueries(stripAbsoluteQueries(text), true));
}

// `scheme://user:password@`: the user name and password a URL may carry, up to white space,
// `/`, `?`, `#`, a bracket or the `@`.
const inUserInfo = (c: number): boolean => !isSpace(c) && c !== 47 && c !== 63 && c !== 35 && c !== 40 && c !== 41 && c !== 64;

/**
 * `text` (a URL, a stack, a message) without the user names and passwords in its URLs: they are
 * never needed to debug a crash, so they go whatever the settings say about queries.
 *
 * @example dropCredentials('f@http://alice:pw@intranet.example/app.js:1:2') // 'f@http://intranet.example/app.js:1:2'
 */
export function dropCredentials(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const start = nextAuthority(text, from);
    if (start < 0) break;
    from = start;
    const at = runEnd(text, start, inUserInfo);
    if (text.charCodeAt(at) !== 64) continue;
    out += text.slice(copied, start);
    copied = from = at + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Where the next URL authority (what follows `//`) at or after `from` starts, or -1: after
 * `scheme://`, or after a scheme-relative `//` at the start of the text or after white space, a
 * quote or a bracket (`GET //alice:pw@intranet.example/x`).
 */
function nextAuthority(text: string, from: number): number {
  for (let slashes = text.indexOf('//', from); slashes >= 0; slashes = text.indexOf('//', slashes + 1)) {
    const before = slashes === 0 ? -1 : text.charCodeAt(slashes - 1);
    if (before === 58 ? hasScheme(text, slashes - 1) : before === -1 || isSpace(before) || before === 34 || before === 39 || before === 40 || before === 91 || before === 61) {
      return slashes + 2;
    }
  }
  return -1;
}
