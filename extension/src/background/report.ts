/** Turns a captured error into the Socorro-style annotations of DESIGN.md. */
import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import { dropCredentials, hideEmailsAndTokens, scrubUrl, scrubUrlsInText } from '../../../shared/src/scrub.ts';
import { allFromBrowserExtensions } from '../../../shared/src/stack/extension-urls.ts';
import { parseStack } from '../../../shared/src/stack/parse.ts';
import type { AppIdentity } from '../identity.ts';
import { type CapturedError, MAX_MESSAGE_CHARS, MAX_STACK_CHARS, MAX_TYPE_CHARS } from '../relay.ts';

export interface ReportInput {
  error: CapturedError;
  identity: AppIdentity | null;
  /** The URL of the document the error happened in, as the browser (not the page) says. */
  pageUrl: string;
  /** Where the report goes; sent as SubmitURL only when the page declared it. */
  submitUrl: string;
  declared: boolean;
  strip: boolean;
  /** Replace e-mail addresses and tokens with placeholders (the person's choice). */
  hide: boolean;
  now: number;
  userAgent: string;
}

/** The app's name for lists: declared product name, else the page's host. */
export function appName(identity: AppIdentity | null, pageUrl: string): string {
  if (identity?.productName) return identity.productName;
  try {
    return new URL(pageUrl).host;
  } catch {
    return 'unknown';
  }
}

/**
 * The report's annotations as they may leave the browser: user names and passwords in URLs
 * removed always, queries and fragments too when `strip`, e-mail addresses and tokens replaced
 * by placeholders when `hide` (the person's choices). Done when a report is made and again before
 * each attempt, so a report queued before the person turned either on is sent with it on.
 * Running it twice changes nothing more.
 */
export function protectAnnotations(annotations: Annotations, strip: boolean, hide: boolean): Annotations {
  const out = { ...annotations };
  // Credentials first: `//alice:pw@host` would read as an address `pw@host` to hideEmailsAndTokens.
  const finish = (text: string): string => (hide ? hideEmailsAndTokens(text) : text);
  for (const name of [Annotation.URL, Annotation.JSFilename] as const) {
    const value = out[name];
    if (value !== undefined) out[name] = finish(strip ? scrubUrl(dropCredentials(value)) : dropCredentials(value));
  }
  // The type is the page's `error.name`, text it chooses as freely as the message: a URL with a token in it too.
  for (const name of [Annotation.JSErrorType, Annotation.JSErrorMessage, Annotation.JSStack] as const) {
    const value = out[name];
    if (value !== undefined) out[name] = finish(strip ? scrubUrlsInText(dropCredentials(value)) : dropCredentials(value));
  }
  return out;
}

/**
 * A type, message or stack the hook cut at its limit can end inside a URL's user name and password,
 * before the `@` that marks them (`…https://alice:corr`, or percent-encoded `…https%3A%2F%2Falice%3Acorr`),
 * where dropCredentials cannot tell them from a host name: that URL's authority goes, whatever it
 * was. Text under the limit was not cut.
 */
function dropCutAuthority(text: string, max: number): string {
  if (text.length < max) return text;
  let end = -1;
  let encoded = false;
  for (const m of text.matchAll(AUTHORITY_START)) {
    end = m.index + m[0].length;
    encoded = m[0] !== '//';
  }
  const rest = text.slice(end);
  if (end < 0 || /[\s/?#()@]/.test(rest) || (encoded && ENCODED_AUTHORITY_END.test(rest))) return text;
  return text.slice(0, end);
}

/** Where an authority starts: `//`, or `%2F%2F` encoded once or more (`%252F%252F`). */
const AUTHORITY_START = /\/\/|%(?:25)*2f%(?:25)*2f/gi;
/** What ends an encoded authority, at any depth: an encoded `/`, `?`, `#` or `@`. */
const ENCODED_AUTHORITY_END = /%(?:25)*(?:2f|3f|23|40)/i;

/** The annotations of one report; empty optional fields are left out. */
export function buildAnnotations(input: ReportInput): Annotations {
  const { error, identity } = input;
  const annotations: Annotations = {
    [Annotation.ProductName]: appName(identity, input.pageUrl),
  };
  if (identity?.release) annotations[Annotation.Version] = identity.release;
  if (identity?.environment) annotations[Annotation.Environment] = identity.environment;
  if (identity?.guid) annotations[Annotation.WebAppGUID] = identity.guid;
  if (input.declared) annotations[Annotation.SubmitURL] = input.submitUrl;
  Object.assign(annotations, {
    [Annotation.URL]: input.pageUrl,
    [Annotation.JSErrorType]: dropCutAuthority(error.type, MAX_TYPE_CHARS),
    [Annotation.JSErrorMessage]: dropCutAuthority(error.message, MAX_MESSAGE_CHARS),
    [Annotation.JSStack]: dropCutAuthority(error.stack, MAX_STACK_CHARS),
    [Annotation.JSFilename]: error.filename,
    [Annotation.JSLine]: String(error.line),
    [Annotation.JSColumn]: String(error.column),
    [Annotation.JSMechanism]: error.mechanism,
    [Annotation.JSRepeatCount]: String(error.count),
    [Annotation.CrashTime]: String(Math.floor(input.now / 1000)),
    [Annotation.UserAgent]: input.userAgent,
  });
  return protectAnnotations(annotations, input.strip, input.hide);
}

/**
 * Whether an error came from a browser extension's script running in the page, not from the
 * app: every script its stack and its filename name is an extension's. The app's developer can
 * do nothing about it, and the extension's address says which extensions the person has.
 */
export function fromBrowserExtension(error: Pick<CapturedError, 'stack' | 'filename'>): boolean {
  return allFromBrowserExtensions([...parseStack(error.stack).map((f) => f.url), error.filename || null]);
}
