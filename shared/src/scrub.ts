/**
 * Removes query strings and fragments from URLs before they leave the browser: tokens, session
 * IDs and e-mail addresses hide there. Used on the page URL, the error's file name, its
 * message and every URL in its stack; user names and passwords in URLs go too (dropCredentials).
 *
 * @example
 *   scrubUrl('https://shop.example/cart?session=abc#pay')  // 'https://shop.example/cart'
 *   scrubUrlsInText('load@https://shop.example/app.js?v=3:1:44')  // 'load@https://shop.example/app.js:1:44'
 */

/** The URL without its query and fragment; text that is not a URL is cut at its first `?` or `#`. */
export function scrubUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

// scheme://rest, then an optional query/fragment, then an optional `:line` or `:line:col` as
// stack frames end; the token stops at white space, `)`, a quote or `<`/`>` (which a browser
// percent-encodes in a URL's query, so in text they end the URL: `"https://x/a?b=1"` keeps its
// closing quote), or the end of a line. The query part is lazy so a trailing `:12:5` is kept
// as the position rather than eaten as part of the query.
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/[^\s?#()]*)([?#][^\s()"'<>]*?)((?::\d+){0,2})(?=[\s)"'<>]|$)/gim;

// A relative URL's query or fragment (`GET /api/user?email=bob@example.com failed`): a path after
// white space, a quote, a bracket or `=` (one from `/`, one with a `/` inside as `fetch('api/user?…')`
// takes, or a file name as `search.php`), then `?` or `#` with a `name=value` after it, so a
// regular expression in a message (`/a?b/`) and a question (`why?a=b`) are left alone.
const RELATIVE_URL_QUERY =
  /(^|[\s"'`(\[=,:])(\/[^\s?#"'`()[\]]*|(?:[\w.~%-]+\/)+[\w.~%-]*|[\w~%-]+\.[A-Za-z0-9]+)[?#][^\s=&?#"'`()[\]]+=[^\s"'`()[\]]*/g;

/**
 * Every URL in `text` (a stack, a message) without its query and fragment: `scheme://` URLs,
 * whose line and column suffixes of stack frames stay, and relative ones whose query has a
 * `name=value`. Works on Firefox (`fn@url:1:2`) and Chrome (`at fn (url:1:2)`) stacks alike.
 */
export function scrubUrlsInText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (_match, base: string, _query: string, position: string) => base + position)
    .replace(RELATIVE_URL_QUERY, '$1$2');
}

// `scheme://user:password@`: the user name and password a URL may carry.
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#()@]*@/gi;

/**
 * `text` (a URL, a stack, a message) without the user names and passwords in its URLs: they are
 * never needed to debug a crash, so they go whatever the settings say about queries.
 *
 * @example dropCredentials('f@http://alice:pw@intranet.example/app.js:1:2') // 'f@http://intranet.example/app.js:1:2'
 */
export function dropCredentials(text: string): string {
  return text.replace(CREDENTIALS, '$1');
}
