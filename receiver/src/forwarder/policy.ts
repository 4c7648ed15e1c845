import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import { dropCredentials, scrubUrl, scrubUrlsInText } from '../../../shared/src/scrub.ts';
import type { RawCrash } from '../storage/types.ts';

/**
 * The annotation a forwarder sets on what it sends: how many times the crash has been
 * forwarded. A receiver does not forward a crash that already made `maxHops` hops, so a
 * misconfigured pair (A forwards to B, B to A) stops instead of bouncing forever.
 */
export const HOP_ANNOTATION = 'ForwardHops';

/**
 * The only annotations a master passes on: what the JavaScript pipeline needs, nothing a
 * client or an intermediary added. Everything else stays on the master and is listed as
 * withheld. `URL` goes without its query, fragment and path parameters (see `forwardedUrl`).
 * `SubmitURL` is routing for the master, not data for the app, and `ForwardHops` is replaced,
 * not copied.
 */
export const FORWARDED_ANNOTATIONS: readonly string[] = [
  Annotation.ProductName,
  Annotation.Version,
  Annotation.Environment,
  Annotation.WebAppGUID,
  Annotation.URL,
  Annotation.JSErrorType,
  Annotation.JSErrorMessage,
  Annotation.JSStack,
  Annotation.JSFilename,
  Annotation.JSLine,
  Annotation.JSColumn,
  Annotation.JSMechanism,
  Annotation.JSRepeatCount,
  Annotation.CrashTime,
  Annotation.UserAgent,
];

const FORWARDED = new Set(FORWARDED_ANNOTATIONS);

/** What a master left out of a forwarded crash, recorded on its own copy. */
export interface Withheld {
  /** Annotation names not forwarded, sorted. */
  annotations: string[];
  /** File part names not forwarded (the app is not trusted with files), sorted. */
  files: string[];
  /**
   * A query, fragment or path parameter was removed from `URL` or from a URL in the stack, script
   * URL or message.
   */
  url_query: boolean;
}

/** The hops a received crash has made, from its `ForwardHops` (anything unreadable counts as 0). */
export function hopsOf(annotations: Annotations): number {
  const text = annotations[HOP_ANNOTATION] ?? '';
  return /^\d{1,3}$/.test(text.trim()) ? Number(text.trim()) : 0;
}

/**
 * A page URL without query, fragment, path parameters (`;jsessionid=…`) and user name or password,
 * as scrubUrl leaves it; a value that is not a URL is cut at the first `?` or `#`.
 */
export function forwardedUrl(value: string): string {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    url.username = '';
    url.password = '';
    return scrubUrl(url.toString());
  } catch {
    return scrubUrl(value);
  }
}

/** Forwarded annotations that may carry URLs inside their text, forwarded without their queries and credentials. */
const URLS_INSIDE = new Set<string>([Annotation.JSStack, Annotation.JSFilename, Annotation.JSErrorMessage]);

/**
 * Splits a raw crash into what is forwarded and what is withheld: allowlisted annotations
 * (with the queries of the URL and of URLs in the stack, script URL and message removed, and the
 * hop counter set to `hops`) and, only for a trusted app, its files.
 */
export function forwardedSubmission(
  raw: RawCrash,
  options: { trustFiles: boolean; hops: number },
): { annotations: Annotations; fileNames: string[]; withheld: Withheld } {
  const annotations: Annotations = {};
  const withheldAnnotations: string[] = [];
  let urlQuery = false;
  for (const [name, value] of Object.entries(raw.annotations)) {
    if (!FORWARDED.has(name)) {
      if (name !== HOP_ANNOTATION) withheldAnnotations.push(name);
      continue;
    }
    if (name === Annotation.URL) {
      const stripped = forwardedUrl(value);
      // Not when only the URL's spelling or its credentials changed.
      urlQuery ||= stripped !== value && scrubUrl(value) !== value;
      annotations[name] = stripped;
    } else if (URLS_INSIDE.has(name)) {
      // The same queries hide in the stack, the script's URL and the message (the extension
      // removes them too, unless the user let them through), and user names and passwords as
      // in the URL (another client than the extension may have sent them).
      const withoutCredentials = dropCredentials(value);
      const stripped = scrubUrlsInText(withoutCredentials);
      urlQuery ||= stripped !== withoutCredentials;
      annotations[name] = stripped;
    } else {
      annotations[name] = value;
    }
  }
  annotations[HOP_ANNOTATION] = String(options.hops);
  const names = raw.files.map((f) => f.name);
  return {
    annotations,
    fileNames: options.trustFiles ? names : [],
    withheld: { annotations: withheldAnnotations.sort(), files: options.trustFiles ? [] : names.sort(), url_query: urlQuery },
  };
}
