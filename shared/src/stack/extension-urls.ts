/**
 * Where browser extensions' scripts live, in Firefox, Chromium, Safari and old Edge; Safari shows
 * an extension's script in a stack as `webkit-masked-url://hidden/`.
 */
const EXTENSION_URL = /^(?:moz-extension|chrome-extension|safari-extension|safari-web-extension|ms-browser-extension|webkit-masked-url):/i;

/**
 * Whether every script address of a stack is a browser extension's: the error came from an
 * extension's script running in the page, not from the app. Built-in frames (`<anonymous>`,
 * `[native code]`, no address) have no scheme and say nothing either way; a stack with no
 * address at all is not an extension's.
 */
export function allFromBrowserExtensions(urls: readonly (string | null)[]): boolean {
  const addresses = urls.filter((url): url is string => url !== null && /^[a-z][\w+.-]*:/i.test(url));
  return addresses.length > 0 && addresses.every((url) => EXTENSION_URL.test(url));
}
