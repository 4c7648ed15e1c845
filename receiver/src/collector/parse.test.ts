import { describe, expect, it } from 'vitest';
import { decodeSubmission, type SubmissionLimits } from './parse.ts';

const LIMITS: SubmissionLimits = { maxBodyBytes: 1e6, maxDecompressedBytes: 1e6, maxAnnotationBytes: 1e5, maxAnnotations: 100, maxFiles: 5 };

/** A multipart body from parts given as [name, value bytes, filename?]. */
function form(parts: [string, Buffer | string, string?][]): Buffer {
  const chunks: Buffer[] = [];
  for (const [name, value, filename] of parts) {
    const disposition = `form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}`;
    chunks.push(Buffer.from(`--B\r\nContent-Disposition: ${disposition}\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('--B--\r\n'));
  return Buffer.concat(chunks);
}

describe('decodeSubmission', () => {
  it('keeps extra keys named like Object methods, and counts a repeated name once', () => {
    const { annotations } = decodeSubmission(form([['extra', '{"ProductName":"P","constructor":"c","toString":"t","hasOwnProperty":"h"}']]), 'B', LIMITS);
    expect(annotations).toEqual({ ProductName: 'P', constructor: 'c', toString: 't', hasOwnProperty: 'h' });
    const repeated = decodeSubmission(form(Array.from({ length: LIMITS.maxAnnotations + 5 }, (_, i) => ['Seq', String(i)] as [string, string])), 'B', LIMITS);
    expect(repeated.annotations).toEqual({ Seq: String(LIMITS.maxAnnotations + 4) });
  });

  it('refuses more parts than annotations and files may be, repeated names included, while splitting', () => {
    const many = form(Array.from({ length: LIMITS.maxAnnotations + LIMITS.maxFiles + 2 }, () => ['Seq', 'x'] as [string, string]));
    expect(() => decodeSubmission(many, 'B', LIMITS)).toThrow(expect.objectContaining({ status: 413, code: 'too_many_parts' }));
  });

  it('reads ASCII and non-ASCII values alike, and turns CRLF into LF', () => {
    const { annotations } = decodeSubmission(
      form([
        ['ProductName', 'Shop'],
        ['JSErrorMessage', 'échec: “quote” 💥'],
        ['JSStack', 'a@x.js:1:2\r\nb@y.js:3:4'],
      ]),
      'B',
      LIMITS,
    );
    expect(annotations).toEqual({ ProductName: 'Shop', JSErrorMessage: 'échec: “quote” 💥', JSStack: 'a@x.js:1:2\nb@y.js:3:4' });
  });

  it('takes binary files byte for byte beside UTF-8 text, and a UTF-8 file name', () => {
    const dump = Buffer.from([0x4d, 0x44, 0xff, 0xfe, 0x00, 0xc3, 0x0d, 0x0a, 0x80]);
    const { annotations, files } = decodeSubmission(form([['ProductName', 'Café'], ['upload_file_minidump', dump, 'düмп.dmp']]), 'B', LIMITS);
    expect(annotations.ProductName).toBe('Café');
    expect(Buffer.compare(Buffer.from(files.get('upload_file_minidump')!.data), dump)).toBe(0);
    expect(files.get('upload_file_minidump')!.filename).toBe('düмп.dmp');
  });

  it('rejects an annotation that is not UTF-8, also when a binary file is beside it', () => {
    const bad = Buffer.from([0x61, 0xc3, 0x28]);
    for (const parts of [[['JSErrorMessage', bad]], [['upload_file_minidump', Buffer.from([0xff]), 'a.dmp'], ['JSErrorMessage', bad]]] as [string, Buffer, string?][][]) {
      expect(() => decodeSubmission(form(parts), 'B', LIMITS)).toThrow(/JSErrorMessage is not valid UTF-8/);
    }
  });

  it('counts a name both in extra and sent as a field once against the annotation limit', () => {
    const names = Array.from({ length: LIMITS.maxAnnotations }, (_, i) => `A${i}`);
    const extra = JSON.stringify(Object.fromEntries(names.map((n) => [n, 'x'])));
    const fields = names.slice(0, 10).map((n) => [n, 'field'] as [string, string]);
    const { annotations } = decodeSubmission(form([...fields, ['extra', extra]]), 'B', LIMITS);
    expect(Object.keys(annotations).length).toBe(LIMITS.maxAnnotations);
    expect(annotations.A0).toBe('field'); // a field wins over extra
    expect(() => decodeSubmission(form([['Other', 'o'], ['extra', extra]]), 'B', LIMITS)).toThrow(/more than 100 annotations/);
  });

  it('refuses an extra value nested too deeply to write back as JSON text, as a malformed submission', () => {
    const depth = 20_000;
    const deep = `{"ProductName":"D","N":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(() => decodeSubmission(form([['extra', deep]]), 'B', LIMITS)).toThrow(expect.objectContaining({ status: 400, code: 'malformed_bad_extra_json' }));
  });
});
