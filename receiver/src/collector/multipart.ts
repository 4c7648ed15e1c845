/**
 * A multipart/form-data parser (RFC 7578) for bodies already in memory. The collector reads a
 * submission into memory anyway (its size is capped while it streams in), and splitting a
 * buffer with `indexOf` is several times faster than a general streaming parser: parsing, not
 * the disk, is what limits a collector's throughput. Parts are zero-copy views of the body.
 */

export interface MultipartPart {
  name: string;
  /** Present for file parts (even when empty). */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export class MultipartError extends Error {
  constructor(
    readonly code: 'no_boundary' | 'no_first_boundary' | 'truncated' | 'bad_part_headers' | 'no_name',
    message: string,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Longest header block of one part we read. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

/** The boundary from a Content-Type header, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;,"]{1,200}))/i.exec(contentType);
  return m ? (m[1] ?? m[2])! : null;
}

/**
 * Splits a multipart body into parts; throws MultipartError for anything malformed.
 *
 * @example
 *   parseMultipart(body, boundaryOf(req.headers['content-type'])!)
 *   // [{ name: 'ProductName', data: <Buffer 53 68 6f 70> }, { name: 'upload_file_minidump', filename: 'x.dmp', data: … }]
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first boundary may come right at the start or after a preamble line.
  let pos = body.subarray(0, dash.length).equals(dash) ? 0 : body.indexOf(delimiter);
  if (pos < 0) throw new MultipartError('no_first_boundary', 'the body does not start with the boundary');
  pos += pos === 0 ? dash.length : delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    // After a boundary: `--` ends the body; otherwise optional whitespace and CRLF.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (!(body[pos] === 0x0d && body[pos + 1] === 0x0a)) throw new MultipartError('truncated', 'the body ends inside a boundary line');
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos);
    if (headerEnd < 0 || headerEnd - pos > MAX_PART_HEADER_BYTES) {
      // A part with no headers at all starts directly with the blank line.
      if (!(body[pos] === 0x0d && body[pos + 1] === 0x0a)) throw new MultipartError('truncated', 'a part header is cut off');
    }
    const headerText = headerEnd < 0 ? '' : body.toString('utf8', pos, headerEnd);
    const dataStart = headerEnd < 0 ? pos + 2 : headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(delimiter, dataStart);
    if (dataEnd < 0) throw new MultipartError('truncated', 'the body ends before the closing boundary');
    parts.push({ ...parsePartHeaders(headerText), data: body.subarray(dataStart, dataEnd) });
    pos = dataEnd + delimiter.length;
  }
}

/** The header nearly every field part has, parsed without splitting lines. */
const SIMPLE_FIELD_HEADER = /^content-disposition:[ \t]*form-data;[ \t]*name="([^"\\%\r\n]*)"$/i;

function parsePartHeaders(text: string): Omit<MultipartPart, 'data'> {
  const simple = SIMPLE_FIELD_HEADER.exec(text);
  if (simple) return { name: simple[1]! };
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split(CRLF.toString())) {
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
