import { describe, expect, it } from 'vitest';
import { boundaryOf, MultipartError, splitMultipart } from './multipart.ts';

const body = (s: string): Buffer => Buffer.from(s.replaceAll('\n', '\r\n'));
/** The parts of a body with their bytes. */
const parseMultipart = (bytes: Buffer, boundary: string) =>
  splitMultipart(bytes, boundary).parts.map((p) => ({ ...p, data: bytes.subarray(p.start, p.end) }));

describe('splitMultipart', () => {
  it('splits fields and files, with a preamble, quoted names and an empty file', () => {
    const parts = parseMultipart(
      body(`preamble\n--XyZ\nContent-Disposition: form-data; name="ProductName"\n\nShop\n--XyZ\nContent-Disposition: form-data; name="upload_file_minidump"; filename="a \\"b\\".dmp"\nContent-Type: application/octet-stream\n\nMDMP\x00\x01\n--XyZ\nContent-Disposition: form-data; name=empty; filename=""\n\n\n--XyZ--\n`),
      'XyZ',
    );
    expect(parts.map((p) => [p.name, p.filename, p.contentType, p.data.toString('latin1')])).toEqual([
      ['ProductName', undefined, undefined, 'Shop'],
      ['upload_file_minidump', 'a "b".dmp', 'application/octet-stream', 'MDMP\x00\x01'],
      ['empty', '', undefined, ''],
    ]);
  });

  it('keeps CRLF and boundary-like text inside values', () => {
    const [part] = parseMultipart(body('--b\nContent-Disposition: form-data; name="s"\n\nline1\nline2 --b not a delimiter\n--b--'), 'b');
    expect(part!.data.toString()).toBe('line1\r\nline2 --b not a delimiter');
  });

  it.each([
    ['no boundary at all', 'just text', 'no_first_boundary'],
    ['cut off before the end', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', 'truncated'],
    ['no disposition', '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--', 'bad_part_headers'],
    ['no name', '--b\r\nContent-Disposition: form-data; filename="x"\r\n\r\nx\r\n--b--', 'no_name'],
    ['garbage after a boundary', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--bjunk', 'truncated'],
  ])('rejects %s', (_label, text, code) => {
    const err = (() => {
      try {
        parseMultipart(Buffer.from(text), 'b');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MultipartError);
    expect((err as MultipartError).code).toBe(code);
  });

  it('reads quoted and bare boundaries', () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary=----x1')).toBe('----x1');
    expect(boundaryOf('multipart/form-data')).toBeNull();
    expect(boundaryOf('multipart/form-data; boundary=x; charset=utf-8')).toBe('x');
    // Over 200 characters: refused, not cut short (which made every delimiter look missing).
    expect(boundaryOf(`multipart/form-data; boundary=${'b'.repeat(201)}`)).toBeNull();
    expect(boundaryOf(`multipart/form-data; boundary="${'b'.repeat(201)}"`)).toBeNull();
  });

  it('says what is wrong: bare LF line ends, text after a boundary, headers too large', () => {
    const message = (text: string): string => {
      try {
        parseMultipart(Buffer.from(text), 'b');
      } catch (e) {
        return (e as Error).message;
      }
      return 'parsed';
    };
    expect(message('--b\nContent-Disposition: form-data; name="a"\n\nx\n--b--\n')).toBe('lines must end with CRLF (\\r\\n), not a bare LF');
    expect(message('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--bjunk')).toBe('a boundary line has text after the boundary');
    expect(message(`--b\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(17_000)}\r\n\r\nx\r\n--b--`)).toBe("a part's headers are over 16384 bytes");
    expect(message('--b\r\nContent-Disposition: form-data; name="a"\r\n')).toBe('a part header is cut off');
  });
});
