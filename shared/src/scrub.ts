/**
 * Removes query strings and fragments from URLs before they leave the browser: tokens, session
 * IDs and e-mail addresses hide there. Used on the page URL, the error's file name, its
 * message and every URL in its stack.
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
// stack frames end; the token stops at white space, `)` or the end of a line. The query part is
// lazy so a trailing `:12:5` is kept as the position rather than eaten as part of the query.
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/[^\s?#()]*)([?#][^\s()]*?)((?::\d+){0,2})(?=[\s)]|$)/gim;

/**
 * Every `scheme://` URL in `text` (a stack, a message) without its query and fragment; line and
 * column suffixes of stack frames stay. Works on Firefox (`fn@url:1:2`) and Chrome
 * (`at fn (url:1:2)`) stacks alike.
 */
export function scrubUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (_match, base: string, _query: string, position: string) => base + position);
}
