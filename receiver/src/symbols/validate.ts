/**
 * Checks for the names that become folders and lookup keys in the source map store. Anything
 * that could climb out of the store (`..`, separators, NUL) is refused with a reason.
 */
import { APP_GUID_RULE, isAppGuid } from '../../../shared/src/protocol.ts';

export class InvalidSymbolsInput extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidSymbolsInput';
  }
}

/** Releases: `1.4.2`, `2026.11.29+abc`, `v3-rc1`; at most 128 characters. */
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const MAX_FILE_KEY_CHARS = 2048;

export function validateAppGuid(guid: string | undefined | null): string {
  if (!guid) throw new InvalidSymbolsInput('missing_app', 'app (the WebAppGUID) is required');
  // The extension and `socorrito apps add` check the same shared rule.
  if (!isAppGuid(guid)) throw new InvalidSymbolsInput('bad_app', `app (a GUID) must be ${APP_GUID_RULE}`);
  return guid;
}

export function validateRelease(release: string | undefined | null): string {
  if (!release) throw new InvalidSymbolsInput('missing_release', 'release (the Version annotation) is required');
  if (!RELEASE.test(release) || release.includes('..')) {
    throw new InvalidSymbolsInput('bad_release', 'release must be 1-128 of A-Z a-z 0-9 . _ + - , not starting with a dot');
  }
  return release;
}

/**
 * The key an uploaded file is found by: `~/static/app.js` (any origin) or an absolute
 * `https://host/static/app.js`. Query and fragment are dropped; `.`/`..` segments, backslashes,
 * control characters and empty keys are refused.
 *
 * @example normalizeFileKey('~/static/app.js') // '~/static/app.js'
 * @example normalizeFileKey('static/app.js')   // '~/static/app.js'
 */
export function normalizeFileKey(name: string): string {
  if (!name || name.length > MAX_FILE_KEY_CHARS) throw new InvalidSymbolsInput('bad_file_name', `file name must be 1-${MAX_FILE_KEY_CHARS} characters`);
  let origin = '';
  let path: string;
  const absolute = /^(https?:\/\/[^/?#]+)(\/[^?#]*)?/i.exec(name);
  if (absolute) {
    origin = absolute[1]!.toLowerCase();
    path = absolute[2] ?? '/';
  } else if (name.startsWith('~/')) {
    origin = '~';
    path = name.slice(1).replace(/[?#].*$/, '');
  } else if (/^[a-z][\w+.-]*:/i.test(name)) {
    throw new InvalidSymbolsInput('bad_file_name', 'file URLs must be http(s):// or start with ~/');
  } else {
    origin = '~';
    path = `/${name.replace(/^\/+/, '').replace(/[?#].*$/, '')}`;
  }
  path = decodePath(path);
  // Checked once decoded (`%00` is a NUL too); a query, cut off above, does not matter.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(origin + path)) throw new InvalidSymbolsInput('bad_file_name', 'file name has control characters or backslashes');
  const segments = path.split('/');
  if (segments.some((s, i) => (s === '.' || s === '..') || (s === '' && i > 0 && i < segments.length - 1))) {
    throw new InvalidSymbolsInput('bad_file_name', 'file name must not contain . or .. segments or empty segments');
  }
  if (path.endsWith('/')) throw new InvalidSymbolsInput('bad_file_name', 'file name must name a file, not a folder');
  return `${origin}${path}`;
}

/** Debug IDs are UUIDs (`//# debugId=<uuid>`); lower-cased for lookup. */
export function normalizeDebugId(id: unknown): string | null {
  if (typeof id !== 'string') return null;
  const m = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i.exec(id.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase() : null;
}

/**
 * Keys under which a frame's script may have been uploaded, most specific first: the exact
 * URL (no query or fragment), then `~/path` for any origin.
 */
export function fileKeysForUrl(url: string): string[] {
  const m = /^(https?:\/\/[^/?#]+)(\/[^?#]*)?/i.exec(url);
  if (m) {
    const path = decodePath(m[2] ?? '/');
    return [`${m[1]!.toLowerCase()}${path}`, `~${path}`];
  }
  if (url.startsWith('~/')) return [decodePath(url.replace(/[?#].*$/, ''))];
  return [];
}

/**
 * A URL path with its percent-escapes decoded (a malformed one is left as it is), so that a
 * script uploaded as `~/my dir/app.js` is found for the `my%20dir/app.js` a browser reports, and
 * one named `app #1.js` (sent as `app%20%231.js`) is not cut at its `#`.
 */
function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}
