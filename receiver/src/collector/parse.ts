import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { ANNOTATION_NAME_PATTERN, type Annotations, EXTRA_FIELD } from '../../../shared/src/protocol.ts';
import type { RawCrash } from '../storage/types.ts';
import { SubmissionRejected, malformed, tooLarge } from './errors.ts';
import { boundaryOf, MultipartError, splitMultipart } from './multipart.ts';
import type { BodyDeadlines } from './body-deadlines.ts';
import type { PendingHolding } from './pending.ts';

export interface SubmissionLimits {
  maxBodyBytes: number;
  /** How long a body may take to arrive (ms); a slower one gets 408. Unbounded when not given. */
  submitTimeoutMs?: number;
  maxDecompressedBytes: number;
  maxAnnotationBytes: number;
  maxAnnotations: number;
  maxFiles: number;
}

export interface ParsedFile {
  data: Buffer;
  filename: string;
  contentType: string;
}

export interface ParsedSubmission {
  annotations: Annotations;
  files: Map<string, ParsedFile>;
  contentEncoding: 'gzip' | 'identity';
  /** The multipart body as received (inflated) and its boundary: the crash in its wire form. */
  body: Buffer;
  boundary: string;
}

/**
 * Checks the headers of a submission before any of its body is read: content type, boundary,
 * encoding and declared length.
 */
export function checkSubmissionHeaders(
  header: (name: string) => string | undefined,
  limits: SubmissionLimits,
): { boundary: string; contentEncoding: 'gzip' | 'identity' } {
  const contentType = header('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType.trim())) {
    throw new SubmissionRejected(
      415,
      'wrong_content_type',
      `expected Content-Type multipart/form-data, got ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'none'}`,
    );
  }
  const boundary = boundaryOf(contentType);
  if (!boundary) throw malformed('no_boundary', 'the multipart Content-Type has no boundary (of 1 to 200 characters)');
  const encoding = (header('content-encoding') ?? '').trim().toLowerCase();
  let contentEncoding: 'gzip' | 'identity';
  if (encoding === 'gzip' || encoding === 'x-gzip') contentEncoding = 'gzip';
  else if (encoding === '' || encoding === 'identity') contentEncoding = 'identity';
  else {
    throw new SubmissionRejected(
      415,
      'unsupported_content_encoding',
      `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; send gzip or nothing`,
    );
  }
  const length = Number(header('content-length') ?? NaN);
  if (Number.isFinite(length) && length > limits.maxBodyBytes) {
    throw tooLarge('too_large', `body of ${length} bytes is over the limit of ${limits.maxBodyBytes}`);
  }
  return { boundary, contentEncoding };
}

/** `60 s`, or `400 ms` under a second. */
function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/**
 * Reads a body into memory while it streams in: counted against the size limit as sent, and,
 * when gzipped, inflated chunk by chunk and stopped as soon as the inflated size passes its
 * limit, so a gzip bomb never grows past the limit in memory.
 */
export function readBody(body: Readable, gzip: boolean, limits: SubmissionLimits, holding?: PendingHolding, deadlines?: BodyDeadlines): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => new BodyReader(body, gzip, limits, resolve, reject, holding, deadlines).start());
}

/**
 * readBody's state. A class rather than closures: this runs for every submission, and under tsx
 * each named closure costs a defineProperty call.
 */
class BodyReader {
  readonly #chunks: Buffer[] = [];
  #received = 0;
  #inflated = 0;
  #settled = false;
  readonly #gunzip: Gunzip | null;
  /** The data listener, kept to remove it after a failure. */
  readonly #onData: (chunk: Buffer) => void;

  constructor(
    readonly body: Readable,
    gzip: boolean,
    readonly limits: SubmissionLimits,
    readonly resolve: (body: Buffer) => void,
    readonly reject: (err: SubmissionRejected) => void,
    /** The bytes kept in memory are counted here against the receiver's budget. */
    readonly holding?: PendingHolding,
    /** Cuts off a body that takes too long to arrive. */
    readonly deadlines?: BodyDeadlines,
  ) {
    this.#gunzip = gzip ? createGunzip() : null;
    this.#onData = (chunk) => this.#data(chunk);
  }

  start(): void {
    this.deadlines?.watch(this, () =>
      this.#fail(new SubmissionRejected(408, 'too_slow', `the body did not arrive within ${seconds(this.deadlines!.timeoutMs)}; send it again`)),
    );
    const gunzip = this.#gunzip;
    if (gunzip) {
      gunzip.on('data', (chunk: Buffer) => this.#inflate(chunk));
      gunzip.on('error', (err) => this.#fail(malformed('gzip', `the gzip body is broken: ${err.message}`, err)));
      gunzip.on('end', () => this.#succeed());
    }
    this.body.on('data', this.#onData);
    this.body.on('end', () => (gunzip ? gunzip.end() : this.#succeed()));
    this.body.on('error', (err) => this.#fail(malformed('body', `could not read the body: ${err.message}`, err)));
    this.body.on('aborted', () => this.#fail(malformed('body', 'the client aborted the upload')));
  }

  #data(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#received > this.limits.maxBodyBytes) {
      return this.#fail(tooLarge('too_large', `body is over the limit of ${this.limits.maxBodyBytes} bytes`));
    }
    if (this.#gunzip) return void this.#gunzip.write(chunk);
    if (this.#keep(chunk)) this.#chunks.push(chunk);
  }

  /** Counts a chunk about to be kept against the budget; false (and refused) when it is spent. */
  #keep(chunk: Buffer): boolean {
    try {
      this.holding?.take(chunk.length);
      return true;
    } catch (err) {
      this.#fail(err as SubmissionRejected);
      return false;
    }
  }

  #inflate(chunk: Buffer): void {
    this.#inflated += chunk.length;
    if (this.#inflated > this.limits.maxDecompressedBytes) {
      return this.#fail(tooLarge('too_large_decompressed', `body inflates past the limit of ${this.limits.maxDecompressedBytes} bytes`));
    }
    if (this.#keep(chunk)) this.#chunks.push(chunk);
  }

  #fail(err: SubmissionRejected): void {
    if (this.#settled) return;
    this.#settled = true;
    this.deadlines?.done(this);
    this.#gunzip?.destroy();
    this.#chunks.length = 0;
    // Keep draining what the client still sends (discarding it) so it can read our answer.
    this.body.removeListener('data', this.#onData);
    this.body.resume();
    this.reject(err);
  }

  #succeed(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.deadlines?.done(this);
    this.resolve(this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks));
  }
}

/**
 * Parses a Socorro-style submission: checks its headers, reads its body within the limits,
 * splits the multipart body, and turns the parts into annotations and files.
 */
export async function parseSubmission(
  body: Readable,
  header: (name: string) => string | undefined,
  limits: SubmissionLimits,
  holding?: PendingHolding,
  deadlines?: BodyDeadlines,
): Promise<ParsedSubmission> {
  const { boundary, contentEncoding } = checkSubmissionHeaders(header, limits);
  const bytes = await readBody(body, contentEncoding === 'gzip', limits, holding, deadlines);
  return { ...decodeSubmission(bytes, boundary, limits), contentEncoding, body: bytes, boundary };
}

/**
 * Turns a multipart body into annotations and files, checking names, sizes and UTF-8. The
 * collector runs it on every submission, and the journal again when it replays one.
 */
export function decodeSubmission(
  bytes: Buffer,
  boundary: string,
  limits: SubmissionLimits,
): { annotations: Annotations; files: Map<string, ParsedFile> } {
  let split;
  try {
    // Every part counts, a name given again too (only distinct annotations count below).
    split = splitMultipart(bytes, boundary, limits.maxAnnotations + limits.maxFiles + 1);
  } catch (err) {
    if (err instanceof MultipartError && err.code === 'too_many_parts') {
      throw tooLarge('too_many_parts', `more than ${limits.maxAnnotations + limits.maxFiles + 1} parts (--max-annotations plus --max-files, and extra)`);
    }
    if (err instanceof MultipartError) throw malformed(err.code === 'no_boundary' ? 'no_boundary' : 'multipart', `could not parse the multipart body: ${err.message}`, err);
    throw err;
  }
  const { parts, text: latin1, ascii } = split;
  // UTF-8 resynchronises at every ASCII byte and parts are cut at ASCII delimiters, so when the
  // whole body is valid UTF-8 every value is too: one check instead of one per part.
  const utf8 = ascii || isUtf8(bytes);

  const annotations: Annotations = {};
  const files = new Map<string, ParsedFile>();
  let extra: string | undefined;
  let fieldCount = 0;
  for (const part of parts) {
    if (part.filename !== undefined) {
      if (!ANNOTATION_NAME_PATTERN.test(part.name)) {
        throw malformed('invalid_file_name', `invalid file part name ${JSON.stringify(part.name.slice(0, 60))}`);
      }
      if (files.has(part.name)) throw malformed('duplicate_file', `file part ${part.name} appears twice`);
      if (files.size >= limits.maxFiles) throw tooLarge('too_many_files', `more than ${limits.maxFiles} ${limits.maxFiles === 1 ? 'file' : 'files'}`);
      files.set(part.name, {
        data: bytes.subarray(part.start, part.end),
        filename: part.filename || part.name,
        contentType: part.contentType || 'application/octet-stream',
      });
      continue;
    }
    if (!ANNOTATION_NAME_PATTERN.test(part.name)) {
      throw malformed('invalid_annotation_name', `invalid annotation name ${JSON.stringify(part.name.slice(0, 60))}`);
    }
    // A name given again replaces its value: it is still one annotation.
    if (!Object.hasOwn(annotations, part.name) && ++fieldCount > limits.maxAnnotations) {
      throw tooLarge('too_many_annotations', `more than ${limits.maxAnnotations} annotations`);
    }
    if (part.end - part.start > limits.maxAnnotationBytes) {
      throw tooLarge('annotation_too_large', `annotation ${part.name} is over ${limits.maxAnnotationBytes} bytes`);
    }
    if (!utf8 && !isUtf8(bytes.subarray(part.start, part.end))) {
      // Binary data in a part without a filename is most often a file sent the wrong way.
      throw malformed('invalid_utf8', `annotation ${part.name} is not valid UTF-8 (to send a file, give its part a filename)`);
    }
    let text = ascii ? latin1.slice(part.start, part.end) : bytes.toString('utf8', part.start, part.end);
    // Browsers' FormData turns every LF in a value into CRLF; stacks are LF-separated.
    if (text.includes('\r\n')) text = text.replace(/\r\n/g, '\n');
    if (part.name === EXTRA_FIELD) extra = text;
    else annotations[part.name] = text;
  }
  if (extra !== undefined) mergeExtra(annotations, extra, limits);
  if (Object.keys(annotations).length === 0 && files.size === 0) {
    throw malformed('empty', 'the submission has no annotations and no files');
  }
  return { annotations, files };
}

/** Folds the `extra` JSON object into the annotations; form fields sent beside it win. */
function mergeExtra(annotations: Annotations, text: string, limits: SubmissionLimits): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw malformed('bad_extra_json', `the extra field is not JSON: ${(err as Error).message}`, err);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformed('bad_extra_json', 'the extra field must be a JSON object');
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  // A name both in extra and sent as a field is one annotation.
  let added = 0;
  for (const [key] of entries) if (!Object.hasOwn(annotations, key)) added++;
  if (added + Object.keys(annotations).length > limits.maxAnnotations) {
    throw tooLarge('too_many_annotations', `more than ${limits.maxAnnotations} annotations`);
  }
  const bad = entries.map(([k]) => k).filter((k) => !ANNOTATION_NAME_PATTERN.test(k));
  if (bad.length) {
    throw malformed(
      'invalid_annotation_name',
      `invalid annotation names in extra: ${bad.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`,
    );
  }
  for (const [key, value] of entries) {
    if (Object.hasOwn(annotations, key) || value === null || value === undefined) continue;
    annotations[key] = typeof value === 'string' ? value : jsonText(key, value);
  }
}

/** A non-string value of extra as its JSON text; one nested past what can be written back is refused. */
function jsonText(key: string, value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw malformed('bad_extra_json', `the value of ${key} in extra is nested too deeply to keep`, err);
  }
}

/**
 * The raw crash the collector stores for a decoded submission. The journal builds it the same
 * way when it replays a submission from its wire form, so both must come from here.
 */
export function rawCrashFrom(
  crashId: string,
  submittedAt: string,
  metadata: RawCrash['metadata'],
  decoded: { annotations: Annotations; files: Map<string, ParsedFile> },
): RawCrash {
  return {
    crash_id: crashId,
    submitted_at: submittedAt,
    annotations: decoded.annotations,
    files: [...decoded.files].map(([name, f]) => ({ name, filename: f.filename, size: f.data.length, contentType: f.contentType })),
    metadata,
  };
}
