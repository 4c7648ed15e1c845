import { INVISIBLE } from './visible.ts';
/**
 * The Socorro-style submission protocol, as both the extension and the receiver speak it:
 * a multipart/form-data POST to `/submit` whose fields are annotations and whose file parts
 * are attachments, answered with `CrashID=bp-<id>`.
 */

/** Annotations the extension sends for a JavaScript error (DESIGN.md). */
export const Annotation = {
  ProductName: 'ProductName',
  Version: 'Version',
  /** Where the app runs (`production`, `staging`), declared by the page; see environmentName. */
  Environment: 'Environment',
  WebAppGUID: 'WebAppGUID',
  SubmitURL: 'SubmitURL',
  URL: 'URL',
  JSErrorType: 'JSErrorType',
  JSErrorMessage: 'JSErrorMessage',
  JSStack: 'JSStack',
  JSFilename: 'JSFilename',
  JSLine: 'JSLine',
  JSColumn: 'JSColumn',
  JSMechanism: 'JSMechanism',
  JSRepeatCount: 'JSRepeatCount',
  CrashTime: 'CrashTime',
  UserAgent: 'UserAgent',
} as const;

/** How the error reached the hook. */
export type Mechanism = 'onerror' | 'unhandledrejection' | 'manual';

/** The field Antenna accepts as a JSON object holding all annotations at once. */
export const EXTRA_FIELD = 'extra';

/** The file part name Breakpad clients use for a minidump. */
export const MINIDUMP_FIELD = 'upload_file_minidump';

/** Annotation and file part names: a letter, then letters, digits, `_`, `.`, `-`; at most 128. */
export const ANNOTATION_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

export type Annotations = Record<string, string>;

/**
 * A WebAppGUID (it names the app's folder of source maps, its index entry and its forwarding):
 * 1-128 of A-Z a-z 0-9 . _ @ { } + -, starting with a letter, digit or `{`, without `..`.
 * UUIDs, `{uuid}` and `name@domain` (as Firefox add-on IDs look) all fit.
 */
export const APP_GUID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9{][A-Za-z0-9._@{}+-]{0,127}$/;

/** The rule of APP_GUID_PATTERN in words, for error messages. */
export const APP_GUID_RULE = '1-128 of A-Z a-z 0-9 . _ @ { } + -, starting with a letter, digit or {, without ..';

/** Whether `value` is a valid WebAppGUID (APP_GUID_PATTERN), exactly as given: no trimming. */
export function isAppGuid(value: unknown): boolean {
  return typeof value === 'string' && APP_GUID_PATTERN.test(value);
}

/** The most characters of an environment name (Sentry's limit too). */
export const MAX_ENVIRONMENT_CHARS = 64;

/**
 * An environment name as the extension sends it and the receiver keeps it: the declared text
 * trimmed, 1-64 characters without `/` and without the characters that hide or reorder text
 * (controls, line breaks, bidi and zero-width ones: `prod` and `prod\u200B` must not be two
 * environments that look the same); case is kept, as the name is shown. Anything else is no
 * environment (null).
 *
 * @example environmentName(' staging ') // 'staging'
 * @example environmentName('a/b') // null
 */
export function environmentName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.trim();
  return name.length > 0 && name.length <= MAX_ENVIRONMENT_CHARS && !/[\u0000-\u001f\/]/.test(name) && !HIDES_TEXT.test(name) ? name : null;
}

/** A character that hides or reorders text (INVISIBLE, without its global flag). */
const HIDES_TEXT = new RegExp(INVISIBLE.source);

/** Reads the crash ID out of a collector's answer (`CrashID=bp-…`), or null when there is none. */
export function parseSubmitResponse(body: string): { crashId: string } | null {
  const match = /^CrashID=(bp-[0-9a-f-]{36})\s*$/m.exec(body);
  return match ? { crashId: match[1]! } : null;
}

/**
 * A receiver's address made its submit URL, the one way the extension, `socorrito submit` and
 * the forwarder do it: `/submit` is added to a path that does not end with it (a base URL
 * works), the fragment dropped, the query kept.
 *
 * @example withSubmitPath(new URL('http://127.0.0.1:8000/?x=1')).href // 'http://127.0.0.1:8000/submit?x=1'
 */
export function withSubmitPath(url: URL): URL {
  url.hash = '';
  if (!/\/submit\/?$/.test(url.pathname)) url.pathname = url.pathname.replace(/\/?$/, '/submit');
  return url;
}

/**
 * The report page of a crash on the receiver whose submit URL is `submitUrl`: `/submit` becomes
 * `/report/bp-…`, the query and fragment go.
 *
 * @example reportPageUrl('https://crashes.example/shop/submit?x=1', 'bp-1') // 'https://crashes.example/shop/report/bp-1'
 */
export function reportPageUrl(submitUrl: string, crashId: string): string {
  const url = new URL(submitUrl);
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/submit\/?$/, '').replace(/\/$/, '')}/report/${crashId}`;
  return url.href;
}

/** The exact answer the collector sends for an accepted crash. */
export function formatSubmitResponse(crashId: string): string {
  return `CrashID=bp-${crashId}\n`;
}

export interface SubmissionFile {
  name: string;
  filename?: string;
  data: Uint8Array;
  contentType?: string;
}

/** Builds the multipart body of a submission with the platform's FormData (browser or Node). */
export function encodeSubmission(annotations: Annotations, files: SubmissionFile[] = []): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(annotations)) form.append(name, value);
  for (const file of files) {
    const blob = new Blob([file.data as BlobPart], { type: file.contentType ?? 'application/octet-stream' });
    form.append(file.name, blob, file.filename ?? file.name);
  }
  return form;
}
