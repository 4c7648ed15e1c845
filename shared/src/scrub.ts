/**
 * Removes query strings, fragments and path parameters from URLs before they leave the browser:
 * tokens, session IDs and e-mail addresses hide there. Used on the page URL, the error's file
 * name, its message and every URL in its stack; user names and passwords in URLs go too
 * (dropCredentials).
 *
 * @example
 *   scrubUrl('https://shop.example/cart;jsessionid=1A2B?session=abc#pay')  // 'https://shop.example/cart'
 *   scrubUrlsInText('load@https://shop.example/app.js;jsessionid=1A2B:1:44')  // 'load@https://shop.example/app.js:1:44'
 *   scrubUrlsInText('GET /cart;jsessionid=1A2B failed')  // 'GET /cart failed'
 */

/**
 * The URL without its query, fragment and path parameters (`;jsessionid=…`, or `%3Bjsessionid%3D…`
 * encoded), and without the query, fragment and path parameters of a percent-encoded URL inside it
 * (`/redirect/https%3A%2F%2Fidp%2Fcb%3Ftoken%3D…`, encoded once or more); text that is not a URL is
 * cut at its first `?` or `#`, and loses the `;name=value` parameters of a relative path in it.
 */
export function scrubUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut === -1 ? url : url.slice(0, cut);
  const sep = base.indexOf('://');
  const withoutParams =
    sep < 0 || !hasScheme(base, sep)
      ? stripRelativePathParams(base)
      : base.slice(0, sep + 3) + withoutPathParams(base, sep + 3, base.length, { keepPosition: false, encoded: false });
  // An OAuth fragment carried encoded in the path (`/cb%23access_token%3D…`) goes as in text.
  return stripRelativeQueries(stripEncodedQueries(withoutParams, false));
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

/**
 * `"`, `'`, and the quotes a localized message puts around a URL instead: Firefox writes `“…”`
 * in English, `„…“` in German, `«…»` in French (U+2018 to U+201F, `«`, `»`, `‹`, `›`).
 */
function isQuote(c: number): boolean {
  return c === 34 || c === 39 || (c >= 0x2018 && c <= 0x201f) || c === 0xab || c === 0xbb || c === 0x2039 || c === 0x203a;
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
// `"https://x/a?b=1"` and `“https://x/a?b=1”.` keep their closing quote, isQuote); either to an
// unpaired `)` (urlRunEnd).
const inBase = (c: number): boolean => !isSpace(c) && c !== 63 && c !== 35;
const inQuery = (c: number): boolean => !isSpace(c) && !isQuote(c) && c !== 60 && c !== 62;

/** How withoutPathParams reads a URL's base. */
interface PathParamsOptions {
  /** Keep a stack frame's `:line:column` at the end. */
  keepPosition: boolean;
  /** The URL was carried percent-encoded: its path starts at its first `/`, encoded or not. */
  encoded: boolean;
}

/**
 * `base` (text[from, end), the part of a URL after `scheme://` or `scheme%3A%2F%2F`) without its
 * path parameters: each `;` in the path and what follows it up to the next `/` (`/cart;jsessionid=1A2B/x`
 * → `/cart/x`). Java servers put the session ID there, and write it into the URLs of scripts too. A
 * parameter also ends where a query would (a quote or `<`/`>`: `source "https://x/a.js;jsessionid=1".`),
 * and so does the URL. A `;` with nothing after it stays (`see https://x.example/a; then`), as does a
 * stack frame's `:line:column` at the end when `keepPosition`. The host and port are left alone: no
 * parameters there. An encoded `;` (`%3B`, `%253B`…) counts too (pathParamsRemoved).
 */
function withoutPathParams(text: string, from: number, end: number, { keepPosition, encoded }: PathParamsOptions): string {
  let path = from;
  while (path < end && text.charCodeAt(path) !== 47 && !(encoded && escapeOf(text, path, 0x2f) > 0)) path++;
  return text.slice(from, path) + pathParamsRemoved(text, path, end, keepPosition);
}

/**
 * text[from, end), a path, without its parameters (withoutPathParams). Percent-encoded ones go as
 * plain ones do: `app.js%3Bjsessionid%3D1A2B` is what a URL carried encoded inside another holds
 * (`/redirect/https%3A%2F%2Fidp%2Fcb%3Bjsessionid%3D…`), and an encoded parameter ends at an
 * encoded `/` of its own depth or shallower too. A plain one does not: `%2F` in a plain
 * parameter's value is only data.
 */
function pathParamsRemoved(text: string, from: number, end: number, keepPosition: boolean): string {
  let out = '';
  let copied = from;
  for (let p = from; p < end; p++) {
    const start = paramStartEnd(text, p);
    if (start < 0) continue;
    const depth = escapeDepth(p, start);
    let paramEnd = start;
    let last = true;
    for (; paramEnd < end; paramEnd++) {
      const c = text.charCodeAt(paramEnd);
      if (c === 47 || (depth > 0 && c === 37 && isEncodedSlashWithin(text, paramEnd, depth))) {
        last = false;
        break;
      }
      if (!inQuery(c)) break;
    }
    const cutEnd = keepPosition && last ? positionStart(text, start, paramEnd) : paramEnd;
    if (cutEnd > start) {
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
    const base = withoutPathParams(text, sep + 3, queryAt, { keepPosition: !hasQuery, encoded: false });
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
// base running as a plain one's does, its query from `%3F` or `%23` as a plain one's does. A URL
// carried inside one that is itself carried encoded is encoded again, its `%` becoming `%25`
// (`https%253A%252F%252F…%253Ftoken%253D…`), so every escape here is read at any depth: `%`, any
// number of `25`, then two hex digits. Each `%` is read once per scan, forwards over its own
// `25`s, so depth costs nothing more than length.

/** An ASCII letter in lower case; anything else as it is. */
function lowerCase(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (lowerCase(c) >= 97 && lowerCase(c) <= 102);
}

function hexValue(c: number): number {
  return isDigit(c) ? c - 48 : lowerCase(c) - 87;
}

/** Where the percent escape at `at` (`%3F`, `%253F`, `%25253F`…) ends, or -1 if none starts there. */
function escapeEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== 37) return -1;
  let p = at + 1;
  while (text.charCodeAt(p) === 50 && text.charCodeAt(p + 1) === 53) p += 2;
  if (isHexDigit(text.charCodeAt(p)) && isHexDigit(text.charCodeAt(p + 1))) return p + 2;
  // `%2525` with no hex after it: the last `25` was the character, a `%`.
  return p > at + 1 ? p : -1;
}

/** The character an escape ending at `end` (escapeEnd) stands for. */
function escapedCode(text: string, end: number): number {
  return hexValue(text.charCodeAt(end - 2)) * 16 + hexValue(text.charCodeAt(end - 1));
}

/** Where an escape of the character `code` at `at` ends, at any depth, or -1. */
function escapeOf(text: string, at: number, code: number): number {
  const end = escapeEnd(text, at);
  return end > 0 && escapedCode(text, end) === code ? end : -1;
}

/** How many times the escape text[at, end) was encoded: 1 for `%3B`, 2 for `%253B`; 0 for a plain character. */
function escapeDepth(at: number, end: number): number {
  return (end - at - 1) >> 1;
}

/** Whether an encoded `/` at most `depth` deep is at `at`. */
function isEncodedSlashWithin(text: string, at: number, depth: number): boolean {
  const end = escapeOf(text, at, 0x2f);
  return end > 0 && escapeDepth(at, end) <= depth;
}

/** Where `%3A%2F%2F` (any case, any depth, the same for all three) at `at` ends, or -1. */
function encodedSeparatorEnd(text: string, at: number): number {
  const colon = escapeOf(text, at, 0x3a);
  if (colon < 0) return -1;
  const width = colon - at;
  const slash = escapeOf(text, colon, 0x2f);
  if (slash - colon !== width) return -1;
  const second = escapeOf(text, slash, 0x2f);
  return second - slash === width ? second : -1;
}

/** Where a `%3F` or `%23` (any case, any depth) at `at` ends, or -1. */
function encodedQueryEnd(text: string, at: number): number {
  const end = escapeEnd(text, at);
  if (end < 0) return -1;
  const code = escapedCode(text, end);
  return code === 0x3f || code === 0x23 ? end : -1;
}

/**
 * Whether the `%3A%2F%2F` at `sep` has a scheme before it: as hasScheme, and a letter right after
 * a percent escape starts one too (`%2Fhttps%3A%2F%2F…`, a URL encoded inside an encoded path).
 */
function hasEncodedScheme(text: string, sep: number): boolean {
  let p = sep;
  let found = false;
  for (; p > 0 && isSchemeChar(text.charCodeAt(p - 1)); p--) {
    if (isLetter(text.charCodeAt(p - 1)) && (p - 1 === 0 || !isWordChar(text.charCodeAt(p - 2)))) found = true;
  }
  if (found || p === sep || p === 0) return found;
  // The run stopped at a `%`: hex digits are scheme characters, so the escape is the `%` and the
  // start of the run, and what follows it must be a letter.
  const escaped = escapeEnd(text, p - 1);
  return escaped > 0 && escaped < sep && isLetter(text.charCodeAt(escaped));
}

/**
 * Where an encoded URL's base starting at `from` ends: at its `%3F` or `%23`, or where a plain
 * URL's base would (urlRunEnd with inBase). Not the one then the other: the query's end can come
 * before the base's (at a quote), and scanning on to the base's end for every URL could be quadratic.
 */
function encodedBaseEnd(text: string, from: number): number {
  return urlRunEnd(text, from, inBase, (t, at) => encodedQueryEnd(t, at) >= 0);
}

/**
 * `scheme%3A%2F%2Fbase%3Bparams%3Fquery:1:2` → `scheme%3A%2F%2Fbase:1:2` for every percent-encoded
 * URL in `text`, at any depth, keeping a stack frame's `:line:column` when `keepPosition`.
 */
function stripEncodedQueries(text: string, keepPosition: boolean): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    let sep = text.indexOf('%', from);
    let baseFrom = -1;
    while (sep >= 0 && ((baseFrom = encodedSeparatorEnd(text, sep)) < 0 || !hasEncodedScheme(text, sep))) sep = text.indexOf('%', sep + 1);
    if (sep < 0) break;
    const queryAt = encodedBaseEnd(text, baseFrom);
    // As for plain URLs, a later encoded URL inside this one ends where it does.
    from = queryAt;
    const queryFrom = encodedQueryEnd(text, queryAt);
    const base = withoutPathParams(text, baseFrom, queryAt, { keepPosition: keepPosition && queryFrom < 0, encoded: true });
    if (queryFrom < 0 && base.length === queryAt - baseFrom) continue;
    const end = queryFrom < 0 ? queryAt : urlRunEnd(text, queryAt, inQuery);
    const position = queryFrom >= 0 && keepPosition ? text.slice(positionStart(text, queryFrom, end), end) : '';
    out += text.slice(copied, baseFrom) + base + position;
    copied = from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// A relative URL's query or fragment (`GET /api/user?email=bob@example.com failed`): `?` or `#`
// with a `name=value` after it, so a regular expression in a message (`/a?b/`) and a question
// (`Is it ready? yes`) are left alone, after a path. A path is one from `/` that starts after
// white space, a quote, a bracket or `=`, `,`, `:`, or any word glued to the `?` or `#` (`GET
// user?email=…`, `fetch failed for api?token=…`, `callback#access_token=…` as OAuth's implicit
// flow answers): prose puts no `name=` right after a `?` or `#` (`Is it ready?`, `issue #42`), and
// code puts a private field there only after a `.` (`this.#count=1`), which stays. An encoded `#`
// (`%23`, `%2523`…) with a `name=` or `name%3D` after it counts as a `#` (`callback%23access_token%3D…`).
// The value runs to white space, a quote or a square bracket, or an unpaired `)` (urlRunEnd).
const inPath = (c: number): boolean =>
  !isSpace(c) && !isQuote(c) && c !== 63 && c !== 35 && c !== 96 && c !== 40 && c !== 41 && c !== 91 && c !== 93;
const inName = (c: number): boolean => inPath(c) && c !== 61 && c !== 38;
const inValue = (c: number): boolean => !isSpace(c) && !isQuote(c) && c !== 96 && c !== 91 && c !== 93;
/** What may come right before a relative path. */
const beforePath = (c: number): boolean => isSpace(c) || isQuote(c) || c === 96 || c === 40 || c === 91 || c === 61 || c === 44 || c === 58;
/** The characters of a path written without a leading `/`: `[\w.~%-]` and `/`. */
const inBarePath = (c: number): boolean => isWordChar(c) || c === 46 || c === 126 || c === 37 || c === 45 || c === 47;

/** A name after an encoded `#`: it stops at a `%`, which must be its encoded `=` (namedValueStart). */
const inEncodedName = (c: number): boolean => inName(c) && c !== 37;

/**
 * Where the value after a `?` or `#` ending at `from` starts (just after its `name=`), or -1 when
 * no `name=` follows. After an encoded `#` (`encoded`) the `=` may be encoded too, at any depth
 * (`%23access_token%3D…`, `%2523access_token%253D…`), so the name stops at a `%`: read on to the
 * next `=` instead, each `%23` of `w%23a%23a…` would read the rest of the text again.
 */
function namedValueStart(text: string, from: number, encoded: boolean): number {
  const eq = runEnd(text, from, encoded ? inEncodedName : inName);
  if (eq === from) return -1;
  if (text.charCodeAt(eq) === 61) return eq + 1;
  return encoded ? escapeOf(text, eq, 0x3d) : -1;
}

/**
 * `path?name=value…` → `path` for every relative URL in `text` (see above), and `path%23name%3Dvalue…`
 * → `path` the same way: an OAuth redirect carried encoded (`next=callback%23access_token%3D…`), at
 * any depth. An encoded fragment keeps a stack frame's `:line:column` at its end, as an encoded URL's
 * query does: it may be in the URL of a frame (`cb@https://app.example/cb%23access_token%3D…:7:3`).
 * One pass: whether the run of path characters read so far holds a path from `/` is carried
 * forward, not looked for backwards from each `?`, `#` or `%23` (`%` is a path character, so runs
 * of `%23` would be read again and again).
 */
function stripRelativeQueries(text: string): string {
  let out = '';
  let copied = 0;
  /** Where the last match ended: the next one starts at or after it. */
  let lastEnd = 0;
  /** Whether the run of path characters since lastEnd, up to `q`, holds a `/` that starts a path. */
  let pathInRun = false;
  for (let q = 0; q < text.length; q++) {
    const c = text.charCodeAt(q);
    const encoded = c === 37;
    const marker = c === 63 || c === 35 ? q + 1 : encoded ? escapeOf(text, q, 0x23) : -1;
    const value = marker < 0 ? -1 : namedValueStart(text, marker, encoded);
    if (value >= 0) {
      // A path from `/` in this run, or any word glued to the marker; a fragment not after a `.` (`this.#count=1`).
      const before = text.charCodeAt(q - 1);
      if (pathInRun || (q > lastEnd && inBarePath(before) && (c === 63 || before !== 46))) {
        // Only now, so that a value is scanned once: it may hold many `?a=` that match nothing.
        const end = urlRunEnd(text, value, inValue);
        out += text.slice(copied, q);
        copied = encoded ? positionStart(text, value, end) : end;
        lastEnd = end;
        q = end - 1;
        pathInRun = false;
        continue;
      }
    }
    if (!inPath(c)) pathInRun = false;
    else if (c === 47 && (q === 0 || (q > lastEnd && beforePath(text.charCodeAt(q - 1))))) pathInRun = true;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// A relative URL's path parameters (`GET /cart;jsessionid=1A2B failed`): a `;` (or `%3B`, at any
// depth) with a `name=` (or `name%3D`) after it, glued to a path that starts as a relative query's
// does (after white space, a quote, a bracket or `=`, `,`, `:`) and is one from `/`, `./`, `../`
// or an encoded `/`, one whose first `/` (or encoded `/`) follows a word with a letter in it
// (`api/user;jsessionid=…`, as fetch takes paths relative to the page; `1/2;got=3` is a fraction),
// or a file name as `app.js`. The `name=` leaves prose and code alone (`done; next`, `x;y`), and a
// host has no parameters (`https://shop.example;x=1`, `//cdn;x=1`). A media type is a word, a `/`
// and a word too: its own parameters stay after one (`text/html;charset=UTF-8`, MEDIA_TYPE_PARAMS).

/** The characters of a relative path and its parameters: inPath without `<` and `>`. */
const inRelativePath = (c: number): boolean => inPath(c) && c !== 60 && c !== 62;
/** The characters of a parameter's name: `[\w.~-]`. */
const inParamName = (c: number): boolean => isWordChar(c) || c === 46 || c === 126 || c === 45;
/** The characters of a file name: `[\w.~%-]`. */
const inFileName = (c: number): boolean => inParamName(c) || c === 37;

/**
 * A media type (`text/html;charset=UTF-8`, `multipart/form-data;boundary=…`) reads as a word, a `/`
 * and a word: error messages quote them, and their parameters hold nothing private, so these
 * stay after one of these top-level types. Lower case.
 */
const MEDIA_TYPES = new Set(['application', 'audio', 'font', 'image', 'message', 'model', 'multipart', 'text', 'video']);
const MEDIA_TYPE_PARAMS = new Set(['charset', 'boundary', 'codecs', 'profile', 'version', 'format']);

/** Whether the parameter whose name starts at `at` is a media type's (MEDIA_TYPE_PARAMS). */
function isMediaTypeParam(text: string, at: number): boolean {
  return MEDIA_TYPE_PARAMS.has(text.slice(at, runEnd(text, at, inParamName)).toLowerCase());
}

/** Where the `;` or encoded `;` at `at` ends, or -1. */
function paramStartEnd(text: string, at: number): number {
  return text.charCodeAt(at) === 59 ? at + 1 : escapeOf(text, at, 0x3b);
}

/** Whether `name=` or `name%3D` (any depth) starts at `at`. */
function hasNamedValue(text: string, at: number): boolean {
  const eq = runEnd(text, at, inParamName);
  return eq > at && (text.charCodeAt(eq) === 61 || escapeOf(text, eq, 0x3d) > 0);
}

/** What the run of path characters read so far holds (stripRelativePathParams). */
interface RunState {
  /** A path's start: `/`, `./`, `../` or an encoded `/` after a delimiter, or a `/` after a host. */
  path: boolean;
  /** That path starts with a media type's top-level type and a `/` (`text/html`, MEDIA_TYPES). */
  mediaType: boolean;
  /** A scheme-relative or scheme's `//`, and no path yet: what follows is a host. */
  host: boolean;
  /** The word being read (`[\w.~%-]`) started after a delimiter. */
  wordAtStart: boolean;
  /** Where that word starts. */
  wordStart: number;
  /** It has a `.` after at least one character. */
  dotted: boolean;
  /** It has an ASCII letter. */
  lettered: boolean;
  /** How many letters or digits, a letter first, follow its last `.`; -1 when something else does or there is none. */
  extension: number;
}

const freshRun = (): RunState => ({ path: false, mediaType: false, host: false, wordAtStart: false, wordStart: 0, dotted: false, lettered: false, extension: -1 });

/** Reads text[from, to), all path characters, into `run`. */
function readRun(text: string, from: number, to: number, run: RunState): void {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const startsAt = i === 0 || beforePath(text.charCodeAt(i - 1));
    if (!run.path) {
      if (startsAt && c === 47) {
        if (text.charCodeAt(i + 1) === 47) run.host = true;
        else run.path = true;
      } else if (startsAt && c === 46) {
        run.path = text.charCodeAt(i + 1) === 47 || (text.charCodeAt(i + 1) === 46 && text.charCodeAt(i + 2) === 47);
      } else if (startsAt && c === 37) {
        run.path = escapeOf(text, i, 0x2f) > 0;
      } else if (run.host && c === 47 && text.charCodeAt(i - 1) !== 47) {
        run.path = true;
      } else if (run.wordAtStart && run.lettered && i > 0 && inFileName(text.charCodeAt(i - 1))) {
        // `api/user`: the word read so far ends here, at a `/` or an encoded one.
        run.path = c === 47 || (c === 37 && escapeOf(text, i, 0x2f) > 0);
        run.mediaType = c === 47 && MEDIA_TYPES.has(text.slice(run.wordStart, i).toLowerCase());
      }
    }
    if (!inFileName(c)) continue;
    const glued = i > 0 && inFileName(text.charCodeAt(i - 1));
    if (!glued) {
      run.wordAtStart = startsAt;
      run.wordStart = i;
      run.dotted = false;
      run.lettered = false;
      run.extension = -1;
    }
    run.lettered ||= isLetter(c);
    if (c === 46) {
      run.dotted ||= glued;
      run.extension = 0;
    } else if (run.extension >= 0) {
      // An extension begins with a letter: `1.0;got=2` is a number, not a file name.
      run.extension = isLetter(c) || (isDigit(c) && run.extension > 0) ? run.extension + 1 : -1;
    }
  }
}

/**
 * `path;name=value…` → `path` for every relative path in `text` (see above), keeping a stack
 * frame's `:line:column`. It goes from `;` to `%` (all a parameter can start with) and, for each
 * `;name=`, reads the run of path characters that holds it: back to where that run starts or to
 * where the last reading stopped, whose state it carries on from. So each character is read at
 * most twice.
 */
function stripRelativePathParams(text: string): string {
  let out = '';
  let copied = 0;
  let run = freshRun();
  /** Where reading stopped: `run` describes what comes before. */
  let read = 0;
  let semicolon = text.indexOf(';');
  let percent = text.indexOf('%');
  while (semicolon >= 0 || percent >= 0) {
    const i = semicolon < 0 ? percent : percent < 0 ? semicolon : Math.min(semicolon, percent);
    const params = paramStartEnd(text, i);
    let next = i + 1;
    // The run is read only for a `;name=`: most `;` and `%` are none, and the next one that is
    // reads what was skipped, once.
    if (params > 0 && hasNamedValue(text, params)) {
      let runStart = i;
      while (runStart > read && inRelativePath(text.charCodeAt(runStart - 1))) runStart--;
      if (runStart > read) run = freshRun();
      readRun(text, runStart, i, run);
      read = i;
      const glued = i > 0 && inFileName(text.charCodeAt(i - 1));
      const path = run.path && !(run.mediaType && isMediaTypeParam(text, params));
      if (path || (glued && run.wordAtStart && run.dotted && run.extension > 0)) {
        const end = runEnd(text, i, inRelativePath);
        out += text.slice(copied, i) + pathParamsRemoved(text, i, end, true);
        copied = read = next = end;
        run = freshRun();
      }
    }
    if (semicolon >= 0 && semicolon < next) semicolon = text.indexOf(';', next);
    if (percent >= 0 && percent < next) percent = text.indexOf('%', next);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Every URL in `text` (a stack, a message) without its query and fragment: `scheme://` URLs,
 * which lose their path parameters too and whose line and column suffixes of stack frames stay,
 * percent-encoded `scheme%3A%2F%2F` ones (encoded once or more) with their encoded path
 * parameters, relative ones whose query has a `name=value`, and relative paths' `;name=value`
 * parameters. Works on Firefox (`fn@url:1:2`) and Chrome (`at fn (url:1:2)`) stacks alike.
 */
export function scrubUrlsInText(text: string): string {
  // Plain URLs first: a plain query holding an encoded URL goes whole. Relative parameters before
  // relative queries, so that `/cart;jsessionid=1?x=2` is one path when its query is looked for.
  return stripRelativeQueries(stripRelativePathParams(stripEncodedQueries(stripAbsoluteQueries(text), true)));
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
    let at = runEnd(text, start, inUserInfo);
    if (text.charCodeAt(at) !== 64) continue;
    // A browser ends the user info at the last `@` before the host (`alice:p@ss@host` has the
    // password `p@ss`), so what runs on to another `@` is user info too.
    for (let next = runEnd(text, at + 1, inUserInfo); text.charCodeAt(next) === 64; next = runEnd(text, at + 1, inUserInfo)) at = next;
    out += text.slice(copied, start);
    copied = from = at + 1;
  }
  return dropEncodedCredentials(copied === 0 ? text : out + text.slice(copied));
}

/**
 * `text` without the user names and passwords of the percent-encoded URLs in it, at any depth
 * (`/redirect/https%3A%2F%2Falice%3Apw%40intranet.example` → `…%2F%2Fintranet.example`): the user
 * info runs, as a plain one's does, to the last `%40` of the URL's own depth before a `%2F`, `%3F`
 * or `%23` of that depth. Each scan starts where the last URL's user info ended: linear.
 */
function dropEncodedCredentials(text: string): string {
  let out = '';
  let copied = 0;
  for (let p = text.indexOf('%'); p >= 0; p = text.indexOf('%', p + 1)) {
    const start = encodedSeparatorEnd(text, p);
    if (start < 0 || !hasEncodedScheme(text, p)) continue;
    const width = (start - p) / 3;
    let at = -1;
    let i = start;
    while (i < text.length && inUserInfo(text.charCodeAt(i))) {
      const end = escapeEnd(text, i);
      if (end < 0) {
        i++;
        continue;
      }
      if (end - i === width) {
        const code = escapedCode(text, end);
        if (code === 0x2f || code === 0x3f || code === 0x23) break;
        if (code === 0x40) at = end;
      }
      i = end;
    }
    if (at >= 0) {
      out += text.slice(copied, start);
      copied = at;
    }
    p = Math.max(p, (at >= 0 ? at : i) - 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Where the next URL authority (what follows `//`) at or after `from` starts, or -1: after
 * `scheme://` (or any `://`), or after a scheme-relative `//` wherever a URL can start: at the start
 * of the text or after any character that cannot be part of a word or a path before it (`GET //alice:pw@…`,
 * `mirrors=a,//bob:pw@…`, `a|//bob:pw@…`). Not after a word, a `/` or a `.` (`see a//b@c`, `x///y@z`).
 * Removing too much here costs only what runs from `//` to an `@` with no `/`, space or bracket
 * between; too little leaks a password.
 */
function nextAuthority(text: string, from: number): number {
  for (let slashes = text.indexOf('//', from); slashes >= 0; slashes = text.indexOf('//', slashes + 1)) {
    const before = slashes === 0 ? -1 : text.charCodeAt(slashes - 1);
    if (!continuesWord(before)) return slashes + 2;
  }
  return -1;
}

/** Whether a `//` after the character `c` (-1: none) would be inside a word or a path: `\w`, `/`, `.`, `-`, `~`, `%`, `+`. */
function continuesWord(c: number): boolean {
  return isWordChar(c) || c === 47 || c === 46 || c === 45 || c === 126 || c === 37 || c === 43;
}

// Personal data in plain text, URLs or not: e-mail addresses, JSON Web Tokens, `Bearer …` and
// `Basic …` credentials, and the values of `password=…` or `"token":"…"` pairs. Each becomes a
// fixed placeholder, so that reports of one bug read (and group, on the receiver) as one whatever
// address or token they carried. Every scan here is linear, as above: each looks at a character
// a bounded number of times whatever the text.

/** What an e-mail address becomes. */
export const EMAIL_PLACEHOLDER = '[email]';
/** What a JSON Web Token or an Authorization header's credentials become. */
export const TOKEN_PLACEHOLDER = '[token]';
/** What the value of a secret-like `name=value` becomes. */
export const FILTERED_PLACEHOLDER = '[filtered]';

/**
 * `text` with e-mail addresses, tokens and secret values replaced by placeholders ([email],
 * [token], [filtered]). Stack frames (`fn@https://x/app.js:1:2`, `fn@foo.js:1:2`), npm scopes,
 * `pkg@1.2.3` versions and CSS `@media` are no addresses and stay. Running it again changes nothing.
 *
 * @example hideEmailsAndTokens('user alice@example.com not found') // 'user [email] not found'
 * @example hideEmailsAndTokens('login failed: {"user":"bob","password":"hunter2"}') // 'login failed: {"user":"bob","password":"[filtered]"}'
 */
export function hideEmailsAndTokens(text: string): string {
  return hideSecretValues(hideEmails(hideAuthorizations(hideKnownKeys(hideJsonWebTokens(text)))));
}

/**
 * Keys whose form gives them away without a name beside them, as code hosts' secret scanning
 * finds them: GitHub (`ghp_…`, `github_pat_…`), Stripe secret and restricted keys (`sk_live_…`;
 * publishable `pk_` keys are public), Slack (`xoxb-…`), AWS access key IDs (`AKIA…`), Google API
 * keys (`AIza…`) and npm tokens (`npm_…`). Each starts at a word boundary with a fixed prefix and
 * runs a bounded length: linear.
 */
const KNOWN_KEY =
  /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,255}|xox[abprs]-[A-Za-z0-9-]{10,255}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[\w-]{35}|npm_[A-Za-z0-9]{36})\b/g;

function hideKnownKeys(text: string): string {
  return text.replace(KNOWN_KEY, TOKEN_PLACEHOLDER);
}

/** `[A-Za-z0-9_-]`: base64url, what each part of a JSON Web Token is written in. */
const inBase64Url = (c: number): boolean => isWordChar(c) || c === 45;

/**
 * JSON Web Tokens (`eyJhbGciOi….eyJzdWIi….sig`): a header that is base64url JSON (so it starts with
 * `eyJ`, `{"`), then one or more `.`-separated base64url parts. A token starts after a character
 * that cannot be in one, so the runs read for two candidates never overlap by more than a part.
 */
function hideJsonWebTokens(text: string): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('eyJ'); at >= 0; at = text.indexOf('eyJ', at + 1)) {
    if (at > 0 && inBase64Url(text.charCodeAt(at - 1))) continue;
    const headerEnd = runEnd(text, at, inBase64Url);
    // `{"alg":"x"}` is 16 characters in base64url: shorter is no token header.
    if (headerEnd - at < 16 || text.charCodeAt(headerEnd) !== 46) continue;
    const payloadEnd = runEnd(text, headerEnd + 1, inBase64Url);
    if (payloadEnd === headerEnd + 1 || text.charCodeAt(payloadEnd) !== 46) continue;
    // The signature may be empty (`alg: none`); a JWE has two more parts.
    let end = runEnd(text, payloadEnd + 1, inBase64Url);
    while (text.charCodeAt(end) === 46 && inBase64Url(text.charCodeAt(end + 1))) end = runEnd(text, end + 1, inBase64Url);
    out += text.slice(copied, at) + TOKEN_PLACEHOLDER;
    copied = end;
    at = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The credentials of an Authorization header written into a message (`Bearer abc123…`, `Basic
 * dXNlcjpwdw==`): base64 or RFC 6750's token characters. Words stay (`Bearer undefined`, `Basic
 * authentication failed`): a credential has 8 characters or more and a digit or a symbol, or 20 or more.
 */
const AUTHORIZATION = /\b(Bearer|Basic)([ \t]+)([A-Za-z0-9._~+/-]+=*)/gi;

function hideAuthorizations(text: string): string {
  return text.replace(AUTHORIZATION, (whole: string, scheme: string, space: string, credentials: string) =>
    credentials.length >= 20 || (credentials.length >= 8 && /[^A-Za-z]/.test(credentials)) ? `${scheme}${space}${TOKEN_PLACEHOLDER}` : whole,
  );
}

/** `[A-Za-z0-9._%+-]`: what the part of an e-mail address before its `@` is made of, in practice. */
const inLocalPart = (c: number): boolean => isWordChar(c) || c === 46 || c === 37 || c === 43 || c === 45;
/** `[A-Za-z0-9.-]`: a domain's labels and dots. */
const inDomain = (c: number): boolean => isLetter(c) || isDigit(c) || c === 46 || c === 45;

/**
 * Names that end like a host but are files: `fn@foo.js:1:2` is a Firefox frame of a script named
 * with `//# sourceURL=foo.js`, and `logo@2x.png` an image for high-density screens (as asset
 * pipelines name them), not addresses. None of these is a top-level domain. Lower case.
 */
const FILE_EXTENSIONS = new Set([
  ...['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'vue', 'svelte', 'html', 'htm', 'xhtml', 'json', 'wasm', 'css', 'map', 'php', 'aspx', 'jsp'],
  ...['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'ico', 'bmp', 'woff', 'ttf', 'otf', 'eot'],
]);

/**
 * Where the domain of an address starting at `from` ends, or -1 when what follows is no domain:
 * two labels or more, the last one (the top-level domain) of letters only and no file extension,
 * and not a version (`pkg@1.2.3`, `pkg@1.0.0-beta.alpha`: its first two labels are numbers).
 */
function domainEnd(text: string, from: number): number {
  let end = runEnd(text, from, inDomain);
  while (end > from && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
  const domain = text.slice(from, end);
  const labels = domain.split('.');
  const tld = labels.at(-1)!;
  if (labels.length < 2 || labels.some((l) => l === '') || tld.length < 2 || !/^[a-z]+$/i.test(tld)) return -1;
  if (FILE_EXTENSIONS.has(tld.toLowerCase())) return -1;
  if (/^\d+$/.test(labels[0]!) && /^\d+$/.test(labels[1]!) && labels.length > 2) return -1;
  return end;
}

/**
 * E-mail addresses (`alice@example.com`, also `alice%40example.com` as a URL's path carries it):
 * a local part glued to the `@` and a domain after it (domainEnd). A stack frame's `fn@https://…`
 * has no domain there (`https` is one label), `@scope/pkg` and `@media` no local part. Each `@`
 * reads back to the last one and forward to the next at most: linear.
 */
function hideEmails(text: string): string {
  let out = '';
  let copied = 0;
  /** Where the last `@` or `%40` ended: a local part starts after it (`%40` is made of local part characters). */
  let lastAt = 0;
  for (let at = 0; at < text.length; at++) {
    const c = text.charCodeAt(at);
    const width = c === 64 ? 1 : c === 37 && text.charCodeAt(at + 1) === 52 && text.charCodeAt(at + 2) === 48 ? 3 : 0;
    if (width === 0) continue;
    let start = at;
    while (start > Math.max(copied, lastAt) && inLocalPart(text.charCodeAt(start - 1))) start--;
    lastAt = at + width;
    // An escaped character that is no local part's ends one (`/users%2Falice%40…`, `%20`); `%2B` (`+`) does not.
    for (let p = at - 3; p >= start; p--) {
      if (escapeEnd(text, p) === p + 3 && !inLocalPart(escapedCode(text, p + 3))) {
        start = p + 3;
        break;
      }
    }
    while (start < at && text.charCodeAt(start) === 46) start++;
    if (start === at) continue;
    const end = domainEnd(text, at + width);
    // A stack frame's position follows its script (`s@index.android.bundle:157:88`, a React
    // Native bundle, or any name the extension list does not know); an address takes no `:line`.
    if (end < 0 || (text.charCodeAt(end) === 58 && isDigit(text.charCodeAt(end + 1)))) continue;
    out += text.slice(copied, start) + EMAIL_PLACEHOLDER;
    copied = end;
    at = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The characters of a pair's name: `[\w.-]` (`config.password`, `x-api-key`). */
const inPairName = (c: number): boolean => isWordChar(c) || c === 46 || c === 45;
/** An unquoted value runs to white space, a quote, or what ends a query's value, a call or an object. */
const inPairValue = (c: number): boolean =>
  !isSpace(c) && !isQuote(c) && c !== 96 && c !== 38 && c !== 59 && c !== 44 && c !== 35 && c !== 40 && c !== 41 && c !== 123 && c !== 125 && c !== 60 && c !== 62;

/**
 * Parts of names that always mean a secret (`newPassword`, `client_secret`, `x-api-key`), and
 * endings that do (`csrf_token`, `oauth`, `jsessionid`, `session`, PHP's `PHPSESSID`, an Azure
 * shared access signature's `sig`).
 */
const SECRET_NAME_PARTS = ['password', 'passwd', 'passphrase', 'secret', 'apikey', 'privatekey', 'accesskey', 'credential'];
const SECRET_NAME_ENDINGS = ['token', 'pwd', 'auth', 'authorization', 'session', 'sessionid', 'sessid', 'sid', 'sig'];
/** Values that say what is missing, not what it is: kept (`password=undefined` is the bug). */
const PLAIN_VALUES = new Set(['null', 'undefined', 'true', 'false', 'none', FILTERED_PLACEHOLDER]);

/** Whether a pair's name is secret-like: `password`, `api_key`, `authToken`, `access_token`… */
function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.]/g, '');
  return SECRET_NAME_PARTS.some((p) => n.includes(p)) || SECRET_NAME_ENDINGS.some((e) => n.endsWith(e));
}

/**
 * The values of pairs with a secret-like name (isSecretName) in free text: `password=hunter2`,
 * `?token=abc`, `"password":"hunter2"`, `'token': 'abc'`, `{password: "x"}`. A value keeps its
 * quotes, and in a stack frame its `:line:column`. Left alone: `token == x`, `token => x`, a value
 * after a space that is not quoted (`Unexpected token: }`), `name: value` unless the name is quoted
 * or follows `{` or `,` (an object's key), and empty or plain values (PLAIN_VALUES).
 */
function hideSecretValues(text: string): string {
  let out = '';
  let copied = 0;
  for (let sep = 0; sep < text.length; sep++) {
    const c = text.charCodeAt(sep);
    if (c !== 61 && c !== 58) continue;
    // The name, back from the separator: `name`, or `"name"` (`\"name\"` in JSON inside JSON).
    let p = sep;
    while (p > copied && text.charCodeAt(p - 1) === Ch.Space) p--;
    const quoted = p > copied && isQuote(text.charCodeAt(p - 1));
    if (quoted) p -= text.charCodeAt(p - 2) === 92 ? 2 : 1;
    const nameEnd = p;
    while (p > copied && inPairName(text.charCodeAt(p - 1))) p--;
    if (p === nameEnd || (quoted && !isQuote(text.charCodeAt(p - 1)))) continue;
    if (c === 61 && (text.charCodeAt(sep + 1) === 61 || text.charCodeAt(sep + 1) === 62)) continue;
    if (c === 58 && !quoted && !startsKey(text, p)) continue;
    if (!isSecretName(text.slice(p, nameEnd))) continue;
    // The value: quoted after optional spaces, or unquoted right after the separator.
    let v = sep + 1;
    while (text.charCodeAt(v) === Ch.Space) v++;
    const escaped = text.charCodeAt(v) === 92 && isQuote(text.charCodeAt(v + 1));
    const open = text.charCodeAt(escaped ? v + 1 : v);
    if (isQuote(open) || open === 96) {
      const from = escaped ? v + 2 : v + 1;
      const to = quotedEnd(text, from, open, escaped);
      if (to === from || PLAIN_VALUES.has(text.slice(from, to))) continue;
      out += text.slice(copied, from) + FILTERED_PLACEHOLDER;
      copied = to;
      sep = to - 1;
      continue;
    }
    if (v !== sep + 1) continue;
    const to = runEnd(text, v, inPairValue);
    const cut = positionStart(text, v, to);
    if (cut === v || PLAIN_VALUES.has(text.slice(v, cut)) || text.startsWith(FILTERED_PLACEHOLDER, v)) continue;
    out += text.slice(copied, v) + FILTERED_PLACEHOLDER;
    copied = cut;
    sep = to - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Whether a name starting at `at` is an object's key: after `{` or `,`, white space between allowed. */
function startsKey(text: string, at: number): boolean {
  let p = at;
  while (p > 0 && isSpace(text.charCodeAt(p - 1))) p--;
  return p > 0 && (text.charCodeAt(p - 1) === 123 || text.charCodeAt(p - 1) === 44);
}

/**
 * Where a quoted value starting at `from` ends: at its closing quote `quote` (a `\`-escaped one
 * does not close it; when the value was opened by `\"`, only `\"` does), or at the end of the line
 * when it is never closed (a message cut at its limit): then all of it goes. A typographic quote
 * is closed by any quote.
 */
function quotedEnd(text: string, from: number, quote: number, escaped: boolean): number {
  // `“…”`, `«…»`: closed by another quote than the one that opened them.
  const typographic = quote !== 34 && quote !== 39 && quote !== 96;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
    if (c === 92) {
      if (escaped && text.charCodeAt(i + 1) === quote) return i;
      i++;
    } else if (!escaped && (c === quote || (typographic && isQuote(c)))) return i;
  }
  return text.length;
}
