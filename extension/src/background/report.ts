/** Turns a captured error into the Socorro-style annotations of DESIGN.md. */
import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import { scrubUrl, scrubUrlsInText } from '../../../shared/src/scrub.ts';
import type { AppIdentity } from '../identity.ts';
import type { CapturedError } from '../relay.ts';

export interface ReportInput {
  error: CapturedError;
  identity: AppIdentity | null;
  /** The URL of the document the error happened in, as the browser (not the page) says. */
  pageUrl: string;
  /** Where the report goes; sent as SubmitURL only when the page declared it. */
  submitUrl: string;
  declared: boolean;
  strip: boolean;
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

/** The annotations of one report; empty optional fields are left out. */
export function buildAnnotations(input: ReportInput): Annotations {
  const { error, identity, strip } = input;
  const url = (text: string): string => (strip ? scrubUrl(text) : text);
  const inText = (text: string): string => (strip ? scrubUrlsInText(text) : text);
  const annotations: Annotations = {
    [Annotation.ProductName]: appName(identity, input.pageUrl),
  };
  if (identity?.release) annotations[Annotation.Version] = identity.release;
  if (identity?.guid) annotations[Annotation.WebAppGUID] = identity.guid;
  if (input.declared) annotations[Annotation.SubmitURL] = input.submitUrl;
  Object.assign(annotations, {
    [Annotation.URL]: url(input.pageUrl),
    [Annotation.JSErrorType]: error.type,
    [Annotation.JSErrorMessage]: inText(error.message),
    [Annotation.JSStack]: inText(error.stack),
    [Annotation.JSFilename]: url(error.filename),
    [Annotation.JSLine]: String(error.line),
    [Annotation.JSColumn]: String(error.column),
    [Annotation.JSMechanism]: error.mechanism,
    [Annotation.JSRepeatCount]: String(error.count),
    [Annotation.CrashTime]: String(Math.floor(input.now / 1000)),
    [Annotation.UserAgent]: input.userAgent,
  });
  return annotations;
}
