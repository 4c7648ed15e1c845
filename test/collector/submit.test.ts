import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_ID_PATTERN, crashIdDate } from '../../shared/src/crash-id.ts';
import { type JournalFs, nodeJournalFs } from '../../receiver/src/storage/journal.ts';
import { startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitProcessed } from '../processor/helpers.ts';
import { multipart } from './multipart.ts';

const AUTH = { authorization: 'Bearer test-admin-token' };

async function post(url: string, body: BodyInit | Buffer, headers: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${url}/submit`, { method: 'POST', body: body as BodyInit, headers, duplex: 'half' } as RequestInit);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function getCrash(url: string, id: string): Promise<Response> {
  return fetch(`${url}/api/crashes/${id}`, { headers: AUTH });
}

describe('POST /submit', () => {
  let r: TestReceiver;
  beforeAll(async () => {
    r = await startTestReceiver({ maxDecompressedBytes: 8 * 1024 * 1024, maxBodyBytes: 8 * 1024 * 1024 });
  });
  afterAll(() => r.stop());

  it('accepts annotations as form fields and answers exactly CrashID=bp-<id>', async () => {
    const fields = jsCrashFields();
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${r.url}/submit`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^CrashID=bp-[0-9a-f-]{36}\n$/);
    const id = text.slice('CrashID=bp-'.length).trim();
    expect(id).toMatch(CRASH_ID_PATTERN);
    expect(id.slice(-7, -6)).toBe('0');
    expect(crashIdDate(id).toISOString().slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));

    const stored = (await (await getCrash(r.url, `bp-${id}`)).json()) as { raw: { annotations: Record<string, string> }; processed: unknown };
    expect(stored.raw.annotations).toEqual(fields);
    // Laid out as its own folder, found from its ID alone: the day folder comes from the ID.
    await r.storage.drained();
    const onDisk = JSON.parse(await readFile(join(r.dataDir, 'crashes', `20${id.slice(-6)}`, id, 'raw_crash.json'), 'utf8'));
    expect(onDisk.annotations.JSStack).toBe(fields.JSStack);
    expect(await readdir(join(r.dataDir, 'queue'))).toContain(id);
  });

  it('accepts one extra field holding a JSON object of annotations', async () => {
    const { body, contentType } = multipart([
      { name: 'extra', value: JSON.stringify({ ProductName: 'Shop', JSLine: 12, Nested: { a: 1 }, Version: '2.0' }) },
      { name: 'Version', value: '2.1' },
    ]);
    const res = await post(r.url, body, { 'content-type': contentType });
    expect(res.status).toBe(200);
    const id = res.text.trim().slice('CrashID='.length);
    const { raw } = (await (await getCrash(r.url, id)).json()) as { raw: { annotations: Record<string, string> } };
    expect(raw.annotations).toEqual({ ProductName: 'Shop', JSLine: '12', Nested: '{"a":1}', Version: '2.1' });
  });

  it('accepts gzip and stores a 5 MB dump byte-identical', async () => {
    const dump = randomBytes(5 * 1024 * 1024);
    const result = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, [{ name: 'upload_file_minidump', filename: 'x.dmp', data: dump }], { gzip: true });
    expect(result.status).toBe(200);
    const id = result.crashId!;
    const { raw } = (await (await getCrash(r.url, id)).json()) as { raw: { files: unknown[]; metadata: Record<string, unknown> } };
    expect(raw.files).toEqual([{ name: 'upload_file_minidump', filename: 'x.dmp', size: dump.length, contentType: 'application/octet-stream' }]);
    expect(raw.metadata.content_encoding).toBe('gzip');
    const stored = await r.storage.getFile(id, 'upload_file_minidump');
    expect(Buffer.compare(Buffer.from(stored!), dump)).toBe(0);
    // And back over HTTP, as a download.
    const file = await fetch(`${r.url}/api/crashes/${id}/files/upload_file_minidump`, { headers: AUTH });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(Buffer.compare(Buffer.from(await file.arrayBuffer()), dump)).toBe(0);
    const missing = await fetch(`${r.url}/api/crashes/${id}/files/upload_file_other`, { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toMatch(/has no file upload_file_other \(it has: upload_file_minidump\)/);
    expect((await fetch(`${r.url}/api/crashes/${id}/files/..%2F..%2Fraw.json`, { headers: AUTH })).status).toBe(400);
    expect((await fetch(`${r.url}/api/crashes/${id}/files/upload_file_minidump`)).status).toBe(401);
  });

  it('takes submissions at /submit/ too, for clients configured with a trailing slash', async () => {
    const res = await submitCrash(`${r.url}/submit/`, { ProductName: 'Shop' }, []);
    expect(res.status).toBe(200);
    expect(res.crashId).toMatch(/^bp-/);
    expect((await fetch(`${r.url}/submit/`)).status).toBe(405);
  });

  it('records the host and path a crash was submitted to, without the query, and the host a trusted proxy names', async () => {
    const withHeaders = (extra: Record<string, string>): typeof fetch => (url, init) =>
      fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...extra } });
    const submittedTo = async (url: string, headers: Record<string, string> = {}, receiver = r): Promise<unknown> => {
      const res = await submitCrash(url, { ProductName: 'Shop' }, [], { fetch: withHeaders(headers) });
      expect(res.status).toBe(200);
      return ((await (await getCrash(receiver.url, res.crashId!)).json()) as { raw: { metadata: Record<string, unknown> } }).raw.metadata.submitted_to;
    };
    const host = new URL(r.url).host;
    expect(await submittedTo(`${r.url}/submit?from=test`)).toBe(`${host}/submit`);
    expect(await submittedTo(`${r.url}/submit/`)).toBe(`${host}/submit/`);
    // X-Forwarded-Host counts only behind a trusted proxy.
    expect(await submittedTo(`${r.url}/submit`, { 'x-forwarded-host': 'crashes.example' })).toBe(`${host}/submit`);
    const proxied = await startTestReceiver({ trustProxy: true });
    try {
      expect(await submittedTo(`${proxied.url}/submit`, { 'x-forwarded-host': 'Crashes.Example, inner.local' }, proxied)).toBe('crashes.example/submit');
    } finally {
      await proxied.stop();
    }
  });

  it('takes request targets the way the router reads them, and records a host only when the Host header names one', async () => {
    const host = new URL(r.url).host;
    const { body, contentType } = multipart([{ name: 'ProductName', value: 'Shop' }]);
    const exchange = (requestLine: string, headers: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(r.port, '127.0.0.1', () =>
          socket.write(`${requestLine}\r\n${headers}Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('latin1')}`, 'latin1'),
        );
        let answer = '';
        socket.on('data', (d) => (answer += d));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const submittedTo = async (answer: string): Promise<unknown> => {
      const id = /CrashID=(bp-[0-9a-f-]+)/.exec(answer)?.[1];
      expect(id, answer).toBeDefined();
      return ((await (await getCrash(r.url, id!)).json()) as { raw: { metadata: Record<string, unknown> } }).raw.metadata.submitted_to;
    };
    expect(await submittedTo(await exchange(`POST http://${host}/submit HTTP/1.1`, `Host: ${host}\r\n`))).toBe(`${host}/submit`);
    // The absolute form's host is the one addressed, whatever Host says.
    expect(await submittedTo(await exchange('POST http://crashes.example:8000/submit HTTP/1.1', `Host: ${host}\r\n`))).toBe('crashes.example:8000/submit');
    expect(await submittedTo(await exchange('POST /./%73ubmit HTTP/1.1', `Host: ${host}\r\n`))).toBe(`${host}/submit`);
    // A Host that names no host is not stored as one: the address the client reached is.
    expect(await submittedTo(await exchange('POST /submit HTTP/1.1', 'Host: a b/x?y#z\r\n'))).toBe(`${host}/submit`);
    // The collector answers with its length, and Expect: 100-continue is judged as a submission on these targets too.
    const answer = await exchange('POST /./submit HTTP/1.1', `Host: ${host}\r\n`);
    expect(answer).toMatch(/\r\ncontent-length: 48\r\n/i);
    const early = await new Promise<number>((resolve, reject) => {
      const req = request(`${r.url}/./submit`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '100', expect: '100-continue' } });
      req.on('continue', () => reject(new Error('the body was invited')));
      req.on('response', (res) => (res.resume(), resolve(res.statusCode!)));
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(early).toBe(415);
  });

  it('answers a client that shut down its sending side after the body (the crash is stored, so it must hear so)', async () => {
    const { body, contentType } = multipart([{ name: 'ProductName', value: 'Shop' }]);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(r.port, '127.0.0.1', () =>
        socket.end(Buffer.concat([Buffer.from(`POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`), body])),
      );
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n\r\nCrashID=bp-/);
  });

  it('closes the connection after refusing a body it has not read, rather than reading what the client still sends', async () => {
    // No Expect header: the client starts sending a body its Content-Length says is 10 GB.
    const outcome = await new Promise<{ answer: string; sent: number }>((resolve, reject) => {
      const socket = connect(r.port, '127.0.0.1');
      let answer = '';
      let sent = 0;
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const pump = (): void => {
        while (!socket.destroyed && sent < 2 * 1024 ** 3) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.on('connect', () => {
        socket.write(`POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000000\r\n\r\n`);
        pump();
      });
      socket.on('data', (d) => (answer += d));
      socket.on('close', () => resolve({ answer, sent }));
      socket.on('error', () => undefined); // a reset once the receiver closes
      setTimeout(() => reject(new Error(`still open after sending ${sent} bytes`)), 20_000).unref();
    });
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413/);
    expect(outcome.answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(outcome.sent).toBeLessThan(2 * 1024 ** 3);
  });

  it('answers 405 to anything but POST, without asking for a login, readable from any origin', async () => {
    const res = await fetch(`${r.url}/submit`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.text()).toMatch(/^Discarded=method_not_allowed/);
  });

  it('tells a crash sent to a wrong path where crashes go, instead of asking for a login', async () => {
    for (const path of ['//submit', '/SUBMIT', '/submit/extra']) {
      const form = new FormData();
      form.append('ProductName', 'Shop');
      const res = await fetch(`${r.url}${path}`, { method: 'POST', body: form });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.text()).toBe(`Discarded=wrong_path: crashes are submitted with POST to /submit, not to ${JSON.stringify(path)}\n`);
    }
    // Other requests without a login still get the 401.
    const form = await fetch(`${r.url}/triage`, { method: 'POST', body: new URLSearchParams({ x: '1' }) });
    expect(form.status).toBe(401);
  });

  it('answers CORS preflight and sets Access-Control-Allow-Origin: *', async () => {
    const pre = await fetch(`${r.url}/submit`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const res = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, []);
    expect(res.status).toBe(200);
    const real = await fetch(`${r.url}/submit`, { method: 'POST', body: new FormData(), headers: { origin: 'https://app.example' } });
    expect(real.headers.get('access-control-allow-origin')).toBe('*');
  });

  describe('rejections: one clear line, right status, nothing stored', () => {
    const count = async (): Promise<number> => {
      let n = 0;
      for await (const _ of r.storage.listCrashIds()) n++;
      return n;
    };

    it.each([
      ['no content type', 415, /Discarded=wrong_content_type/, () => ({ body: 'x', headers: {} })],
      ['json', 415, /wrong_content_type/, () => ({ body: '{}', headers: { 'content-type': 'application/json' } })],
      ['no boundary', 400, /malformed_no_boundary/, () => ({ body: 'x', headers: { 'content-type': 'multipart/form-data' } })],
      [
        'truncated multipart',
        400,
        /malformed_/,
        () => {
          const m = multipart([{ name: 'ProductName', value: 'Shop' }]);
          return { body: m.body.subarray(0, m.body.length - 20), headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'broken gzip',
        400,
        /malformed_gzip/,
        () => {
          const m = multipart([{ name: 'ProductName', value: 'Shop' }]);
          const gz = gzipSync(m.body);
          gz[20] ^= 0xff;
          return { body: gz.subarray(0, gz.length - 4), headers: { 'content-type': m.contentType, 'content-encoding': 'gzip' } };
        },
      ],
      [
        'gzip header on a plain body',
        400,
        /malformed_gzip/,
        () => {
          const m = multipart([{ name: 'ProductName', value: 'Shop' }]);
          return { body: m.body, headers: { 'content-type': m.contentType, 'content-encoding': 'gzip' } };
        },
      ],
      ['unknown encoding', 415, /unsupported_content_encoding/, () => ({ body: 'x', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'br' } })],
      [
        'invalid annotation name',
        400,
        /malformed_invalid_annotation_name/,
        () => {
          const m = multipart([{ name: '../etc/passwd', value: 'x' }]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'file part with a path in its name',
        400,
        /malformed_invalid_file_name/,
        () => {
          const m = multipart([{ name: '../../x', value: 'x', filename: 'a.dmp' }]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'a WebAppGUID with a path in it',
        400,
        /malformed_invalid_guid/,
        () => {
          const m = multipart([{ name: 'WebAppGUID', value: '../../etc' }, { name: 'ProductName', value: 'Shop' }]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'invalid UTF-8',
        400,
        /malformed_invalid_utf8/,
        () => {
          const m = multipart([{ name: 'JSErrorMessage', value: Buffer.from([0x61, 0xff, 0xfe, 0x62]) }]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'extra that is not JSON',
        400,
        /malformed_bad_extra_json/,
        () => {
          const m = multipart([{ name: 'extra', value: '{"a":' }]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
      [
        'empty submission',
        400,
        /malformed_empty/,
        () => {
          const m = multipart([]);
          return { body: m.body, headers: { 'content-type': m.contentType } };
        },
      ],
    ] as const)('%s → %i', async (_label, status, reason, make) => {
      const before = await count();
      const { body, headers } = make();
      const res = await post(r.url, body as BodyInit, headers as Record<string, string>);
      expect(res.status).toBe(status);
      expect(res.text).toMatch(reason);
      expect(res.text.trimEnd().split('\n')).toHaveLength(1);
      expect(await count()).toBe(before);
    });

    it('413 for a declared length over the limit, before reading it', async () => {
      const m = multipart([{ name: 'upload_file_minidump', value: Buffer.alloc(9 * 1024 * 1024), filename: 'd' }]);
      const res = await post(r.url, m.body, { 'content-type': m.contentType });
      expect(res.status).toBe(413);
      expect(res.text).toMatch(/Discarded=too_large/);
    });

    it('with Expect: 100-continue, refuses an oversized body before inviting it, and invites one that fits', async () => {
      const ask = (length: number, contentType: string): Promise<{ status: number; text: string; invited: boolean }> =>
        new Promise((resolve, reject) => {
          const req = request(`${r.url}/submit`, {
            method: 'POST',
            headers: { 'content-type': contentType, 'content-length': String(length), expect: '100-continue' },
          });
          let invited = false;
          req.on('continue', () => {
            invited = true;
            req.end(Buffer.alloc(length)); // a body the right size; what it holds does not matter here
          });
          req.on('response', (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, text, invited }));
          });
          req.on('error', reject);
          req.flushHeaders();
        });
      const huge = await ask(50 * 1024 * 1024, 'multipart/form-data; boundary=abc');
      expect(huge).toMatchObject({ status: 413, invited: false });
      expect(huge.text).toMatch(/^Discarded=too_large: body of 52428800 bytes is over the limit/);
      expect((await ask(100, 'application/json')).status).toBe(415);
      const fits = await ask(100, 'multipart/form-data; boundary=abc');
      expect(fits).toMatchObject({ status: 400, invited: true }); // read, then found not to be multipart
    });

    it('413 for a chunked body that grows past the limit while streaming', async () => {
      const m = multipart([{ name: 'upload_file_minidump', value: Buffer.alloc(9 * 1024 * 1024), filename: 'd' }]);
      const stream = Readable.toWeb(Readable.from([m.body.subarray(0, 1 << 20), m.body.subarray(1 << 20)])) as ReadableStream;
      const res = await post(r.url, stream, { 'content-type': m.contentType });
      expect(res.status).toBe(413);
    });

    it('413 for a gzip bomb, stopped while inflating without growing the server', async () => {
      const boundary = 'bomb';
      const gzip = createGzip({ level: 9 });
      const compressed: Buffer[] = [];
      gzip.on('data', (d: Buffer) => compressed.push(d));
      const done = new Promise((resolve) => gzip.on('end', resolve));
      gzip.write(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="d"\r\n\r\n`);
      const zeros = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 1024; i++) gzip.write(zeros); // 1 GiB inflated
      gzip.end(`\r\n--${boundary}--\r\n`);
      await done;
      const body = Buffer.concat(compressed);
      expect(body.length).toBeLessThan(2 * 1024 * 1024);

      const rssBefore = process.memoryUsage().rss;
      const res = await post(r.url, body, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-encoding': 'gzip' });
      expect(res.status).toBe(413);
      expect(res.text).toMatch(/too_large_decompressed/);
      // The limit is 8 MiB; inflating the whole GiB would show here.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    });

    it('413 for an annotation over its size limit', async () => {
      const small = await startTestReceiver({ maxAnnotationBytes: 1024 });
      try {
        const res = await submitCrash(`${small.url}/submit`, { JSStack: 'x'.repeat(2048) }, []);
        expect(res.status).toBe(413);
        expect(res.body).toMatch(/annotation_too_large/);
      } finally {
        await small.stop();
      }
    });
  });

  it('never goes down: after all that garbage it still accepts crashes', async () => {
    const res = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    expect(res.status).toBe(200);
    expect((await fetch(`${r.url}/__heartbeat__`)).status).toBe(200);
  });
});

describe('memory held by unfinished submissions', () => {
  it('refuses with 503 what would pass the budget for bodies in memory (a quarter of it per client), and frees it when a client goes', async () => {
    const MIB = 1024 * 1024;
    const r = await startTestReceiver({ maxPendingBytes: 4 * MIB, maxDecompressedBytes: MIB, maxBodyBytes: MIB });
    // A gzip body that inflates to 900 KB and then never ends: its trailer is not sent and the connection stays open.
    const bomb = gzipSync(Buffer.alloc(900 * 1024, 'a'));
    const openBomb = (): Promise<{ answer: Promise<number>; close: () => void }> =>
      new Promise((resolve, reject) => {
        const req = request(`${r.url}/submit`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' },
        });
        const answer = new Promise<number>((done) => req.on('response', (res) => (res.resume(), done(res.statusCode!))));
        req.on('error', () => undefined);
        req.write(bomb.subarray(0, bomb.length - 8), (err) => (err ? reject(err) : resolve({ answer, close: () => req.destroy() })));
      });
    try {
      const held = await openBomb();
      // Wait until the receiver has inflated it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await openBomb();
      expect(await second.answer).toBe(503);
      second.close();
      held.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, [{ name: 'upload_file_minidump', filename: 'dump', data: Buffer.alloc(600 * 1024) }]);
      expect(after.status).toBe(200);
      expect(r.logs.join('\n')).toContain('the receiver holds too many submissions in memory right now');
    } finally {
      await r.stop();
    }
  });
});

describe('rate limits and throttling', () => {
  it('answers 429 with Retry-After per client and per app', async () => {
    const r = await startTestReceiver({ clientRatePerMinute: 3, appRatePerMinute: 0 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await submitCrash(`${r.url}/submit`, { ProductName: `P${i}` }, [])).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await fetch(`${r.url}/submit`, { method: 'POST', body: new FormData() });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.text()).toMatch(/client_rate_limited/);
      // With Expect: 100-continue the client is told before it uploads.
      const early = await new Promise<{ status: number; invited: boolean; retryAfter: string | undefined }>((resolve, reject) => {
        const req = request(`${r.url}/submit`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': '1000000', expect: '100-continue' } });
        let invited = false;
        req.on('continue', () => {
          invited = true;
          req.end(Buffer.alloc(1_000_000));
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode!, invited, retryAfter: res.headers['retry-after'] as string | undefined });
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(early.status).toBe(429);
      expect(early.invited).toBe(false);
      expect(Number(early.retryAfter)).toBeGreaterThan(0);
      // Without it, a client still uploading a crash of a few hundred kB when it is refused gets
      // the 429 after its last byte, on a connection that stays open: closing on bytes not yet
      // read made the kernel reset it, and a client still writing saw a broken pipe instead.
      const answers = await new Promise<string>((resolve, reject) => {
        const body = Buffer.alloc(600_000, 0x61);
        const head = `POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${body.length}\r\n\r\n`;
        const socket = connect(r.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => {
          answer += d;
          if (answer.match(/HTTP\/1\.1/g)?.length === 2) socket.end(() => resolve(answer));
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(answer));
        socket.write(head);
        socket.write(body.subarray(0, 16_384));
        // The rest once the receiver has had time to refuse, then a second submission on the same connection.
        setTimeout(() => socket.write(Buffer.concat([body.subarray(16_384), Buffer.from(head), body])), 100);
      });
      const [first, second] = answers.split(/(?=HTTP\/1\.1 )/);
      expect(first).toMatch(/^HTTP\/1\.1 429/);
      expect(first).toMatch(/\r\nretry-after: [1-9]/i);
      expect(first).not.toMatch(/\r\nconnection: close/i);
      expect(second).toMatch(/^HTTP\/1\.1 429/);
    } finally {
      await r.stop();
    }
    const a = await startTestReceiver({ clientRatePerMinute: 0, appRatePerMinute: 2 });
    try {
      const send = (guid: string) => submitCrash(`${a.url}/submit`, { WebAppGUID: guid }, []);
      expect([(await send('a')).status, (await send('a')).status]).toEqual([200, 200]);
      const third = await send('a');
      expect(third.status).toBe(429);
      expect(third.body).toMatch(/app_rate_limited/);
      expect((await send('b')).status).toBe(200);
    } finally {
      await a.stop();
    }
  });

  it('answers a crash rejected by a throttle rule, counts it, and does not store it', async () => {
    const dir = await tempDir();
    const rules = join(dir.path, 'rules.json');
    await (await import('node:fs/promises')).writeFile(rules, JSON.stringify([{ name: 'no_test_builds', if: { Version: '/-test$/' }, action: 'reject' }]));
    const r = await startTestReceiver({ throttleRules: rules });
    try {
      const rejected = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop', Version: '1.0-test' }, []);
      expect(rejected.status).toBe(200);
      expect(rejected.body).toBe('Discarded=no_test_builds\n');
      expect(rejected.crashId).toBeNull();
      const accepted = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop', Version: '1.0' }, []);
      expect(accepted.crashId).not.toBeNull();
      const ids = [];
      for await (const id of r.storage.listCrashIds()) ids.push(id);
      expect(ids).toEqual([accepted.crashId!.slice(3)]);
      const stats = (await (await fetch(`${r.url}/api/stats`, { headers: AUTH })).json()) as { collector: { discarded: number; accepted: number } };
      expect(stats.collector).toMatchObject({ discarded: 1, discardedByRule: { no_test_builds: 1 }, accepted: 1 });
    } finally {
      await r.stop();
      await dir.cleanup();
    }
  });
});

describe('the log', () => {
  it('sums up what the collector did, with reasons for what it turned away', async () => {
    const r = await startTestReceiver({}, { activityLogMs: 150 });
    try {
      await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
      await fetch(`${r.url}/submit`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
      const deadline = Date.now() + 5_000;
      while (!r.logs.some((l) => l.startsWith('collector:')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(r.logs.find((l) => l.startsWith('collector:'))).toBe(
        'collector: in the last minute 1 accepted, 0 discarded by throttle rules, 1 rejected (wrong_content_type ×1)',
      );
    } finally {
      await r.stop();
    }
  });

  it('sums up the minute under way when the receiver stops', async () => {
    const r = await startTestReceiver();
    await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    await r.stop();
    expect(r.logs.filter((l) => l.startsWith('collector:'))).toEqual([
      expect.stringMatching(/^collector: in the last \d+ s 1 accepted, 0 discarded by throttle rules, 0 rejected$/),
    ]);
  });
});

describe('full disk', () => {
  it('answers 503 with Retry-After, keeps what was accepted, and recovers when space is back', async () => {
    let free = 64 * 1024;
    const enospc = (path: string): Error =>
      Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28 });
    const take = (path: string, size: number): void => {
      if (size > free) throw enospc(path);
      free -= size;
    };
    // A disk with `free` bytes left, for the journal and for crash folders alike.
    const fullDisk: JournalFs = {
      ...nodeJournalFs,
      async writeFile(path, data) {
        take(path, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
        return nodeJournalFs.writeFile(path, data);
      },
      async openAppend(path) {
        const file = await nodeJournalFs.openAppend(path);
        return {
          ...file,
          async writev(buffers) {
            const size = buffers.reduce((n, b) => n + b.length, 0);
            if (size > free) {
              // A real full disk writes what fits, then fails: leave a torn record behind.
              await file.writev([buffers[0]!.subarray(0, Math.min(free, buffers[0]!.length))]);
              throw enospc(path);
            }
            free -= size;
            return file.writev(buffers);
          },
        };
      },
    };
    const r = await startTestReceiver({}, { fs: fullDisk });
    try {
      const first = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
      expect(first.status).toBe(200);
      const big = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, [{ name: 'upload_file_minidump', filename: 'd', data: randomBytes(128 * 1024) }]);
      expect(big.status).toBe(503);
      expect(big.body).toMatch(/^Discarded=storage_unavailable: .*ENOSPC.*retry/);
      // Every refusal is answered, but the log says so once, not once per submission.
      for (let i = 0; i < 5; i++) {
        expect((await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, [{ name: 'upload_file_minidump', filename: 'd', data: randomBytes(128 * 1024) }])).status).toBe(503);
      }
      expect(r.logs.filter((l) => /^collector: could not store the crash \(ENOSPC\)/.test(l))).toHaveLength(1);
      // Nothing half-written is left behind, the first crash is intact.
      await r.storage.drained();
      expect(await readdir(join(r.dataDir, 'tmp'))).toEqual([]);
      const ids = [];
      for await (const id of r.storage.listCrashIds()) ids.push(id);
      expect(ids).toEqual([first.crashId!.slice(3)]);
      expect((await getCrash(r.url, first.crashId!)).status).toBe(200);
      free = 10 * 1024 * 1024;
      const again = await submitCrash(`${r.url}/submit`, { ProductName: 'Shop' }, [{ name: 'upload_file_minidump', filename: 'd', data: randomBytes(128 * 1024) }]);
      expect(again.status).toBe(200);
    } finally {
      await r.stop();
    }
  });
});

describe('a journal flush that fails', () => {
  it('answers 503 for the crashes it covered, says so in the heartbeat, and takes crashes again once a flush works', async () => {
    let failNext = false;
    // fdatasync reports an I/O error (a failing disk) when asked to; the writes themselves work.
    const failingFlush: JournalFs = {
      ...nodeJournalFs,
      async openAppend(path) {
        const file = await nodeJournalFs.openAppend(path);
        return {
          ...file,
          async datasync() {
            if (!failNext) return file.datasync();
            failNext = false;
            throw Object.assign(new Error(`EIO: i/o error, fdatasync`), { code: 'EIO', errno: -5 });
          },
        };
      },
    };
    const r = await startTestReceiver({}, { fs: failingFlush });
    try {
      failNext = true;
      const lost = await submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: 'unflushed' }), []);
      // Never a crash ID for a crash that may not be on disk: the client keeps it and retries.
      expect(lost.status).toBe(503);
      expect(lost.crashId).toBeNull();
      expect(lost.body).toMatch(/^Discarded=storage_unavailable: .*EIO.*retry/);
      const heartbeat = await fetch(`${r.url}/__heartbeat__`);
      expect(heartbeat.status).toBe(500);
      expect(await heartbeat.json()).toMatchObject({ checks: { storage: expect.stringMatching(/journal.*EIO/) } });

      const kept = await submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: 'flushed' }), []);
      expect(kept.status).toBe(200);
      expect((await fetch(`${r.url}/__heartbeat__`)).status).toBe(200);
      await r.storage.drained();
      const ids: string[] = [];
      for await (const id of r.storage.listCrashIds()) ids.push(id);
      expect(ids).toEqual([kept.crashId!.slice(3)]);
    } finally {
      await r.stop();
    }
  });
});

describe('concurrency', () => {
  it('stores each of 300 parallel submissions exactly once', async () => {
    const r = await startTestReceiver();
    try {
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: String(i) }), [], { gzip: i % 2 === 0 })),
      );
      expect(results.map((x) => x.status)).toEqual(Array(300).fill(200));
      const answered = new Set(results.map((x) => x.crashId!.slice(3)));
      expect(answered.size).toBe(300);
      const stored: string[] = [];
      for await (const id of r.storage.listCrashIds()) stored.push(id);
      expect(stored.sort()).toEqual([...answered].sort());
      const seqs = await Promise.all(stored.map(async (id) => (await r.storage.getRaw(id))!.annotations.Seq));
      expect(new Set(seqs).size).toBe(300);
      await r.storage.drained();
      // Each is laid out as a folder, and the journal holds nothing more than its open segment.
      const days = await readdir(join(r.dataDir, 'crashes'));
      const folders = (await Promise.all(days.map((d) => readdir(join(r.dataDir, 'crashes', d))))).flat();
      expect(folders.sort()).toEqual(stored.sort());
      expect((await readdir(join(r.dataDir, 'journal'))).filter((n) => n.endsWith('.log'))).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});

describe('GET /api/crashes/<id>', () => {
  let r: TestReceiver;
  beforeAll(async () => {
    r = await startTestReceiver();
  });
  afterAll(() => r.stop());

  it('needs the token', async () => {
    const res = await fetch(`${r.url}/api/crashes/bp-de1bb258-cbbf-4589-a673-34f800261129`);
    expect(res.status).toBe(401);
    const wrong = await fetch(`${r.url}/api/crashes/bp-de1bb258-cbbf-4589-a673-34f800261129`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('404 for an unknown ID, 400 for malformed ones and path tricks', async () => {
    expect((await getCrash(r.url, 'bp-de1bb258-cbbf-4589-a673-34f800261129')).status).toBe(404);
    for (const bad of ['nope', '..%2F..%2Fadmin-token', 'de1bb258-cbbf-4589-a673-34f800261399', 'bp-de1bb258-cbbf-4589-a673-34f800261129.json']) {
      const res = await getCrash(r.url, bad);
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_crash_id' });
    }
  });
});

describe('a disk that fills after the journal flush', () => {
  it('keeps answered crashes in the journal, serves them, and lays them out once writes work again', async () => {
    let folderWritesFail = true;
    // The journal (appends) still works; every other file write (crash folders, queue entries)
    // fails as on a full disk.
    const flakyFolders: JournalFs = {
      ...nodeJournalFs,
      async writeFile(path, data) {
        if (folderWritesFail) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        }
        return nodeJournalFs.writeFile(path, data);
      },
    };
    const r = await startTestReceiver({}, { fs: flakyFolders });
    try {
      const sent = await submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: 'kept' }), []);
      expect(sent.status).toBe(200);
      const id = sent.crashId!;
      // Answered from the journal while its folder cannot be written.
      const early = await fetch(`${r.url}/api/crashes/${id}`, { headers: AUTH });
      expect(((await early.json()) as { raw: { annotations: { Seq: string } } }).raw.annotations.Seq).toBe('kept');
      const deadline = Date.now() + 2_000;
      while (!r.logs.some((l) => /could not lay out crash .*ENOSPC/.test(l)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(r.logs.join('\n')).toMatch(/could not lay out crash .*ENOSPC.*stays in the journal/);
      expect(await readdir(join(r.dataDir, 'crashes'))).toEqual([]);

      folderWritesFail = false;
      await r.storage.drained(); // the retry comes within MATERIALIZE_RETRY_MS
      const day = `20${id.slice(-6)}`;
      const folder = JSON.parse(await readFile(join(r.dataDir, 'crashes', day, id.slice(3), 'raw_crash.json'), 'utf8'));
      expect(folder.annotations.Seq).toBe('kept');
    } finally {
      await r.stop();
    }
  });

  it('processes the crashes after one whose folder cannot be written, says so in the heartbeat, and still stops promptly', async () => {
    let stuckFails = true;
    // Only the folder of the crash marked `Seq: stuck` cannot be written (its queue entry can):
    // the disk filled up just as that crash was laid out.
    const stuckFolder: JournalFs = {
      ...nodeJournalFs,
      async writeFile(path, data) {
        if (stuckFails && path.endsWith('raw_crash.json') && String(data).includes('"Seq":"stuck"')) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        }
        return nodeJournalFs.writeFile(path, data);
      },
    };
    const r = await startTestReceiver({}, { fs: stuckFolder });
    let stopped = false;
    try {
      const stuck = await submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: 'stuck' }), []);
      expect(stuck.status).toBe(200);
      const deadline = Date.now() + 3_000;
      while (!r.logs.some((l) => /could not lay out crash .*ENOSPC/.test(l)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const heartbeat = await fetch(`${r.url}/__heartbeat__`);
      expect(heartbeat.status).toBe(500);
      expect(await heartbeat.json()).toMatchObject({ status: 'error', checks: { storage: expect.stringMatching(/lay out.*ENOSPC/) } });

      const others = await Promise.all([1, 2, 3].map((i) => submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: `next ${i}` }), [])));
      for (const o of others) expect((await waitProcessed(r.url, o.crashId!, 10_000)).crash_id).toBe(o.crashId!.slice(3));
      const stuckNow = (await (await fetch(`${r.url}/api/crashes/${stuck.crashId}`, { headers: AUTH })).json()) as { raw: unknown; processed: unknown };
      expect(stuckNow.raw).not.toBeNull();
      expect(stuckNow.processed).toBeNull();
      // The stats show where it waits: still in the journal, and queued (its entry came first).
      const stats = (await (await fetch(`${r.url}/api/stats`, { headers: AUTH })).json()) as { layout: { waiting: number }; processing: { queued: number } };
      expect(stats).toMatchObject({ layout: { waiting: 1 }, processing: { queued: 1 } });

      // Space is back: the stuck crash is laid out and processed, and the heartbeat is fine again.
      stuckFails = false;
      expect((await waitProcessed(r.url, stuck.crashId!, 15_000)).crash_id).toBe(stuck.crashId!.slice(3));
      expect((await fetch(`${r.url}/__heartbeat__`)).status).toBe(200);

      // With a crash stuck again, stopping does not wait for it (it stays in the journal).
      stuckFails = true;
      await submitCrash(`${r.url}/submit`, jsCrashFields({ Seq: 'stuck' }), []);
      const started = Date.now();
      await r.stop();
      stopped = true;
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      if (!stopped) await r.stop();
    }
  }, 40_000);
});
