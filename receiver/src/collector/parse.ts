import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import busboy from 'busboy';
import { ANNOTATION_NAME_PATTERN, type Annotations, EXTRA_FIELD } from '../../../shared/src/protocol.ts';
import { SubmissionRejected, malformed, tooLarge } from './errors.ts';

export interface SubmissionLimits {
  maxBodyBytes: number;
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
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Counts bytes through a stream and fails it with `error()` past `limit`. */
class ByteLimit extends Transform {
  #seen = 0;
  constructor(
    private readonly limit: number,
    private readonly error: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.limit) done(this.error());
    else done(null, chunk);
  }
}

/**
 * Checks the headers of a submission before any of its body is read: content type, boundary,
 * encoding and declared length.
 */
export function checkSubmissionHeaders(
  header: (name: string) => string | undefined,
  limits: SubmissionLimits,
): { contentType: string; contentEncoding: 'gzip' | 'identity' } {
  const contentType = header('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType.trim())) {
    throw new SubmissionRejected(
      415,
      'wrong_content_type',
      `expected Content-Type multipart/form-data, got ${JSON.stringify(contentType.slice(0, 100)) || 'none'}`,
    );
  }
  if (!/;\s*boundary=/i.test(contentType)) throw malformed('no_boundary', 'the multipart Content-Type has no boundary');
  const encoding = (header('content-encoding') ?? '').trim().toLowerCase();
  let contentEncoding: 'gzip' | 'identity';
  if (encoding === 'gzip' || encoding === 'x-gzip') contentEncoding = 'gzip';
  else if (encoding === '' || encoding === 'identity') contentEncoding = 'identity';
  else throw new SubmissionRejected(415, 'unsupported_content_encoding', `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; send gzip or nothing`);
  const length = Number(header('content-length') ?? NaN);
  if (Number.isFinite(length) && length > limits.maxBodyBytes) {
    throw tooLarge('too_large', `body of ${length} bytes is over the limit of ${limits.maxBodyBytes}`);
  }
  return { contentType, contentEncoding };
}

/**
 * Parses a Socorro-style submission while it streams in: the body is counted against the size
 * limit, inflated if gzipped (and stopped as soon as the inflated size passes its limit, so a
 * gzip bomb never grows in memory), and split into annotations and files.
 */
export function parseSubmission(
  body: Readable,
  header: (name: string) => string | undefined,
  limits: SubmissionLimits,
): Promise<ParsedSubmission> {
  const { contentType, contentEncoding } = checkSubmissionHeaders(header, limits);
  return new Promise<ParsedSubmission>((resolve, reject) => {
    const annotations: Annotations = {};
    const files = new Map<string, ParsedFile>();
    let extra: string | undefined;
    let failed = false;
    let pendingFiles = 0;
    let parserFinished = false;
    const stages: (Readable | Transform)[] = [];

    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      for (const stage of stages) {
        stage.unpipe?.();
        if (stage !== body) stage.destroy();
      }
      // Keep draining what the client still sends, so it can read our answer.
      body.resume();
      reject(
        err instanceof SubmissionRejected
          ? err
          : malformed('multipart', `could not parse the multipart body: ${(err as Error)?.message ?? String(err)}`, err),
      );
    };

    const finish = (): void => {
      if (failed || !parserFinished || pendingFiles > 0) return;
      try {
        if (extra !== undefined) mergeExtra(annotations, extra, limits);
        if (Object.keys(annotations).length === 0 && files.size === 0) {
          throw malformed('empty', 'the submission has no annotations and no files');
        }
        resolve({ annotations, files, contentEncoding });
      } catch (err) {
        fail(err);
      }
    };

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        // latin1 maps bytes to chars one to one, so the UTF-8 check below sees the raw bytes.
        defCharset: 'latin1',
        defParamCharset: 'utf8',
        limits: {
          fieldNameSize: 128,
          fieldSize: limits.maxAnnotationBytes,
          fields: limits.maxAnnotations + 1,
          files: limits.maxFiles,
          parts: limits.maxAnnotations + limits.maxFiles + 1,
          fileSize: limits.maxDecompressedBytes,
        },
      });
    } catch (err) {
      fail(malformed('multipart', `bad multipart header: ${(err as Error).message}`, err));
      return;
    }

    parser.on('field', (name, value, info) => {
      if (failed) return;
      if (info.nameTruncated || !ANNOTATION_NAME_PATTERN.test(name)) {
        return fail(malformed('invalid_annotation_name', `invalid annotation name ${JSON.stringify(name.slice(0, 60))}`));
      }
      if (info.valueTruncated) {
        return fail(tooLarge('annotation_too_large', `annotation ${name} is over ${limits.maxAnnotationBytes} bytes`));
      }
      let text: string;
      try {
        text = utf8.decode(Buffer.from(value, 'latin1'));
      } catch {
        return fail(malformed('invalid_utf8', `annotation ${name} is not valid UTF-8`));
      }
      // Browsers' FormData turns every LF in a value into CRLF; stacks are LF-separated.
      text = text.replace(/\r\n/g, '\n');
      if (name === EXTRA_FIELD) extra = text;
      else annotations[name] = text;
    });

    parser.on('file', (name, stream, info) => {
      // Destroying the parser destroys an open file stream with an error: always listen.
      stream.on('error', fail);
      if (failed || !ANNOTATION_NAME_PATTERN.test(name)) {
        stream.resume();
        if (!failed) fail(malformed('invalid_file_name', `invalid file part name ${JSON.stringify(name.slice(0, 60))}`));
        return;
      }
      if (files.has(name)) {
        stream.resume();
        return fail(malformed('duplicate_file', `file part ${name} appears twice`));
      }
      pendingFiles++;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(tooLarge('too_large_decompressed', `file ${name} is over the size limit`)));
      stream.on('end', () => {
        pendingFiles--;
        files.set(name, {
          data: Buffer.concat(chunks),
          filename: info.filename || name,
          contentType: info.mimeType || 'application/octet-stream',
        });
        finish();
      });
    });

    parser.on('fieldsLimit', () => fail(tooLarge('too_many_annotations', `more than ${limits.maxAnnotations} annotations`)));
    parser.on('filesLimit', () => fail(tooLarge('too_many_files', `more than ${limits.maxFiles} files`)));
    parser.on('partsLimit', () => fail(tooLarge('too_many_parts', 'too many multipart parts')));
    parser.on('error', fail);
    parser.on('close', () => {
      parserFinished = true;
      finish();
    });

    const compressedLimit = new ByteLimit(limits.maxBodyBytes, () =>
      tooLarge('too_large', `body is over the limit of ${limits.maxBodyBytes} bytes`),
    );
    stages.push(body, compressedLimit);
    body.on('error', (err) => fail(malformed('body', `could not read the body: ${err.message}`, err)));
    body.on('aborted', () => fail(malformed('body', 'the client aborted the upload')));
    compressedLimit.on('error', fail);
    let input: Transform = body.pipe(compressedLimit);
    if (contentEncoding === 'gzip') {
      const gunzip = createGunzip();
      const inflatedLimit = new ByteLimit(limits.maxDecompressedBytes, () =>
        tooLarge('too_large_decompressed', `body inflates past the limit of ${limits.maxDecompressedBytes} bytes`),
      );
      gunzip.on('error', (err) => fail(malformed('gzip', `the gzip body is broken: ${err.message}`, err)));
      inflatedLimit.on('error', fail);
      stages.push(gunzip, inflatedLimit);
      input = input.pipe(gunzip).pipe(inflatedLimit);
    }
    stages.push(parser as unknown as Transform);
    input.pipe(parser);
  });
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
  if (entries.length + Object.keys(annotations).length > limits.maxAnnotations) {
    throw tooLarge('too_many_annotations', `more than ${limits.maxAnnotations} annotations`);
  }
  const bad = entries.map(([k]) => k).filter((k) => !ANNOTATION_NAME_PATTERN.test(k));
  if (bad.length) {
    throw malformed('invalid_annotation_name', `invalid annotation names in extra: ${bad.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`);
  }
  for (const [key, value] of entries) {
    if (key in annotations || value === null || value === undefined) continue;
    annotations[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
}
