import { isAscii } from 'node:buffer';

/**
 * A multipart/form-data parser (RFC 7578) for bodies already in memory. The collector reads a
 * submission into memory anyway (its size is capped while it streams in). The body is searched
 * as a latin1 string, one character per byte, so that finding delimiters is plain string
 * search inside V8 rather than a call into C++ per delimiter, and an ASCII value comes out as
 * a slice of that string without decoding it again. Parts are byte ranges of the body.
 */

export interface MultipartPart {
  name: string;
  /** Present for file parts (even when empty). */
  filename?: string;
  contentType?: string;
  /** The part's bytes are `body[start, end)`. */
  start: number;
  end: number;
}

export interface SplitBody {
  parts: MultipartPart[];
  /** The body as latin1 (byte i is character i); a slice of it is a value when `ascii`. */
  text: string;
  /** Every byte is ASCII: latin1 and UTF-8 read the body alike. */
  ascii: boolean;
}

export class MultipartError extends Error {
  constructor(
    readonly code: 'no_boundary' | 'no_first_boundary' | 'truncated' | 'bad_part_headers' | 'no_name' | 'too_many_parts',
    message: string,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

const CRLF = '\r\n';
const HEADER_END = '\r\n\r\n';
/** Longest header block of one part we read. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

/** The boundary from a Content-Type header, or null. */
export function boundaryOf(contentType: string): string | null {
  // RFC 2046 allows 70 characters; longer ones are taken up to a generous limit, not cut short.
  const m = /;\s*boundary=(?:"([^"]{1,200})"(?=$|[\s;,])|([^\s;,"]{1,200})(?=$|[\s;,]))/i.exec(contentType);
  return m ? (m[1] ?? m[2])! : null;
}

/**
 * Splits a multipart body into parts; throws MultipartError for anything malformed.
 *
 * @example
 *   const { parts } = splitMultipart(body, boundaryOf(req.headers['content-type'])!);
 *   // [{ name: 'ProductName', start: 68, end: 72 }, { name: 'upload_file_minidump', filename: 'x.dmp', start: …, end: … }]
 */
export function splitMultipart(body: Buffer, boundary: string, maxParts = Infinity): SplitBody {
  const text = body.toString('latin1');
  const ascii = isAscii(body);
  const dash = `--${boundary}`;
  const delimiter = `\r\n--${boundary}`;
  // The first boundary may come right at the start or after a preamble line.
  let pos = text.startsWith(dash) ? 0 : text.indexOf(delimiter);
  if (pos < 0) throw new MultipartError('no_first_boundary', 'the body does not start with the boundary');
  pos += pos === 0 ? dash.length : delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    // After a boundary: `--` ends the body; otherwise optional whitespace and CRLF.
    if (text.startsWith('--', pos)) return { parts, text, ascii };
    while (text[pos] === ' ' || text[pos] === '\t') pos++;
    if (!text.startsWith(CRLF, pos)) {
      if (pos >= text.length) throw new MultipartError('truncated', 'the body ends inside a boundary line');
      throw new MultipartError('truncated', text[pos] === '\n' ? 'lines must end with CRLF (\\r\\n), not a bare LF' : 'a boundary line has text after the boundary');
    }
    pos += 2;
    const headerEnd = text.indexOf(HEADER_END, pos);
    if (headerEnd < 0 || headerEnd - pos > MAX_PART_HEADER_BYTES) {
      // A part with no headers at all starts directly with the blank line.
      if (!text.startsWith(CRLF, pos)) {
        throw headerEnd < 0
          ? new MultipartError('truncated', 'a part header is cut off')
          : new MultipartError('bad_part_headers', `a part's headers are over ${MAX_PART_HEADER_BYTES} bytes`);
      }
    }
    // Headers are UTF-8 (a file name may not be ASCII); the latin1 slice is right only for ASCII.
    const headerText = headerEnd < 0 ? '' : ascii ? text.slice(pos, headerEnd) : body.toString('utf8', pos, headerEnd);
    const start = headerEnd < 0 ? pos + 2 : headerEnd + HEADER_END.length;
    const end = text.indexOf(delimiter, start);
    if (end < 0) throw new MultipartError('truncated', 'the body ends before the closing boundary');
    // Counted as they are found: a small gzip body can hold a million tiny parts.
    if (parts.length >= maxParts) throw new MultipartError('too_many_parts', `more than ${maxParts} parts`);
    const part = parsePartHeaders(headerText) as MultipartPart;
    part.start = start;
    part.end = end;
    parts.push(part);
    pos = end + delimiter.length;
  }
}

/** The header nearly every field part has, parsed without splitting lines. */
const SIMPLE_FIELD_HEADER = /^content-disposition:[ \t]*form-data;[ \t]*name="([^"\\%\r\n]*)"$/i;

function parsePartHeaders(text: string): Omit<MultipartPart, 'start' | 'end'> {
  const simple = SIMPLE_FIELD_HEADER.exec(text);
  if (simple) return { name: simple[1]! };
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('bad_part_headers', 'a part header line has no name');
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') disposition = value;
    else if (key === 'content-type') contentType = value;
  }
  if (!disposition || !/^form-data\b/i.test(disposition)) {
    throw new MultipartError('bad_part_headers', 'a part has no Content-Disposition: form-data header');
  }
  const name = dispositionParam(disposition, 'name');
  if (name === undefined) throw new MultipartError('no_name', 'a part has no name');
  const filename = dispositionParam(disposition, 'filename');
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) };
}

const paramPattern = (param: string): RegExp => new RegExp(`;\\s*${param}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i');
const PARAM_PATTERNS = { name: paramPattern('name'), filename: paramPattern('filename') };

/** A parameter of Content-Disposition, quoted (with browsers' %22 escaping) or bare. */
function dispositionParam(disposition: string, param: keyof typeof PARAM_PATTERNS): string | undefined {
  const m = PARAM_PATTERNS[param].exec(disposition);
  if (!m) return undefined;
  if (m[2] !== undefined) return m[2];
  return m[1]!.replace(/\\(.)/g, '$1').replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
}
