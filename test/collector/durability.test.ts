import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../receiver/src/server.ts';
import { nodeJournalFs } from '../../receiver/src/storage/journal.ts';
import { CLI, freePort, spawnReceiver, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { multipart } from './multipart.ts';

const run = promisify(execFile);
const AUTH = { authorization: 'Bearer test-admin-token' };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('a receiver process', () => {
  it('loses no accepted crash when killed with SIGKILL right after answering, and cleans temp leftovers on start', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const first = await spawnReceiver(dir.path);
    cleanups.push(() => first.kill('SIGKILL'));

    const answered: string[] = [];
    const inFlight = Array.from({ length: 120 }, (_, i) =>
      submitCrash(`${first.url}/submit`, jsCrashFields({ Seq: String(i) }), [{ name: 'upload_file_minidump', filename: 'd', data: Buffer.alloc(2048, i) }], { gzip: i % 3 === 0 })
        .then((r) => {
          if (r.crashId) answered.push(r.crashId);
        })
        .catch(() => undefined),
    );
    // Kill as soon as the first answers are in, while others are still being written.
    while (answered.length < 40) await new Promise((r) => setTimeout(r, 5));
    await first.kill('SIGKILL');
    await Promise.all(inFlight);
    expect(answered.length).toBeGreaterThanOrEqual(40);

    // What a killed writer leaves behind: a half-built crash folder in tmp/.
    await mkdir(join(dir.path, 'tmp', 'deadbeef.half.tmp', 'files'), { recursive: true });
    await writeFile(join(dir.path, 'tmp', 'deadbeef.half.tmp', 'raw_crash.json'), '{"crash_id": "dead');

    const second = await spawnReceiver(dir.path);
    cleanups.push(() => second.kill('SIGKILL'));
    expect(second.output()).toMatch(/removed \d+ unfinished temp entries/);
    expect(await readdir(join(dir.path, 'tmp'))).not.toContain('deadbeef.half.tmp');

    for (const id of answered) {
      const res = await fetch(`${second.url}/api/crashes/${id}`, { headers: AUTH });
      expect(res.status, id).toBe(200);
      const { raw } = (await res.json()) as { raw: { annotations: Record<string, string>; files: { size: number }[] } };
      expect(raw.annotations.JSErrorType).toBe('TypeError');
      expect(raw.files[0]!.size).toBe(2048);
    }
    // Every answered crash ends up as its own folder (and the journal is emptied).
    const deadline = Date.now() + 20_000;
    let missing: string[] = answered;
    while (missing.length && Date.now() < deadline) {
      const days = await readdir(join(dir.path, 'crashes'));
      const folders = new Set((await Promise.all(days.map((d) => readdir(join(dir.path, 'crashes', d))))).flat());
      missing = answered.filter((id) => !folders.has(id.slice(3)));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(missing).toEqual([]);
  });

  it('finishes an in-flight submission on SIGTERM before exiting', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const receiver = await spawnReceiver(dir.path);
    cleanups.push(() => receiver.kill('SIGKILL'));

    const { body, contentType } = multipart([
      { name: 'ProductName', value: 'Shop' },
      { name: 'upload_file_minidump', value: Buffer.alloc(256 * 1024, 7), filename: 'd' },
    ]);
    let sendRest!: () => void;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(body.subarray(0, 1000));
        await rest;
        controller.enqueue(body.subarray(1000));
        controller.close();
      },
    });
    const answer = fetch(`${receiver.url}/submit`, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': contentType },
      duplex: 'half',
    } as RequestInit).then(async (r) => ({ status: r.status, text: await r.text(), connection: r.headers.get('connection') }));
    await new Promise((r) => setTimeout(r, 300));
    receiver.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.process.exitCode).toBeNull(); // still finishing the upload
    sendRest();
    const result = await answer;
    expect(result.status).toBe(200);
    expect(result.text).toMatch(/^CrashID=bp-/);
    // The client is told not to send another request on a connection the stop will close.
    expect(result.connection).toBe('close');
    expect(await receiver.exited).toBe(0);
    expect(receiver.output()).toMatch(/SIGTERM: finishing in-flight requests/);
    expect(receiver.output()).toMatch(/stopped/);
  });

  it('exits at once, saying so, on a second signal while it waits for an upload', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const receiver = await spawnReceiver(dir.path);
    cleanups.push(() => receiver.kill('SIGKILL'));
    const { body, contentType } = multipart([{ name: 'ProductName', value: 'Shop' }]);
    // An upload that never ends holds the stop.
    const stream = new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(body.subarray(0, 10)) });
    void fetch(`${receiver.url}/submit`, { method: 'POST', body: stream, headers: { 'content-type': contentType }, duplex: 'half' } as RequestInit).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    receiver.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.process.exitCode).toBeNull();
    receiver.process.kill('SIGTERM');
    expect(await receiver.exited).toBe(1);
    expect(receiver.output()).toMatch(/SIGTERM again, exiting now/);
  });
});

describe('the data dir lock', () => {
  it('takes over a lock from another host, saying so (a folder shared over the network may be in use there)', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    await writeFile(join(dir.path, 'receiver.pid'), '4242@some-other-host\n');
    const r = await startTestReceiver({ dataDir: dir.path });
    await r.stop();
    expect(r.logs).toContainEqual(expect.stringMatching(/^storage: took over .*receiver\.pid from 4242@some-other-host, on another host; if a receiver runs there/));
  });
});

describe('the data dir lock after a reboot', () => {
  it('takes over a lock whose process number now belongs to another program', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    // A running process that is not a receiver, as after a reboot that reused the number.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(async () => void other.kill());
    await writeFile(join(dir.path, 'receiver.pid'), `${other.pid}@${hostname()}\n`);
    const r = await startTestReceiver({ dataDir: dir.path });
    await r.stop();
    expect(r.url).toMatch(/^http:/);
  });
});

describe('a starting receiver', () => {
  const post = (url: string): Promise<Response> => {
    const form = new FormData();
    for (const [k, v] of Object.entries(jsCrashFields())) form.append(k, v);
    return fetch(url, { method: 'POST', body: form });
  };
  it('holds its port while it opens the data dir, answering 503 with Retry-After until it is ready', async () => {
    const port = await freePort();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // Opening the data dir waits on the gate: the receiver is listening but not ready.
    const starting = startTestReceiver({ port }, { fs: { ...nodeJournalFs, mkdir: async (path) => (await gate, nodeJournalFs.mkdir(path)) } });
    try {
      let early: Response | undefined;
      for (let i = 0; i < 100 && !early; i++) {
        early = await post(`http://127.0.0.1:${port}/submit`).catch(() => undefined);
        if (!early) await new Promise((r) => setTimeout(r, 20));
      }
      expect(early?.status).toBe(503);
      expect(early?.headers.get('retry-after')).toBe('5');
      expect(early?.headers.get('access-control-allow-origin')).toBe('*');
      expect(await early?.text()).toBe('Discarded=starting: the receiver is starting; retry in 5s\n');
    } finally {
      open();
    }
    const receiver = await starting;
    try {
      const res = await post(`${receiver.url}/submit`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^CrashID=bp-/);
    } finally {
      await receiver.stop();
    }
  });
});

describe('a receiver on a full disk', () => {
  it('does not start, and says so in one line that says what to do; the port is free again', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, mkdir'), { code: 'ENOSPC' });
    const fs = { ...nodeJournalFs, mkdir: async () => Promise.reject(enospc) };
    const failed = await startTestReceiver({ port, dataDir: dir.path }, { fs }).catch((err: Error) => err);
    expect(failed).toBeInstanceOf(StartupError);
    expect((failed as Error).message).toBe(`the disk holding ${dir.path} is full (ENOSPC): free some space and start again; crashes already accepted are kept`);
    // Nothing holds the port or the data dir: a second try (with space) starts.
    const receiver = await startTestReceiver({ port, dataDir: dir.path });
    await receiver.close();
  });
});

describe('socorrito submit', () => {
  it('sends fields and files like a Breakpad client and prints the crash ID', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const receiver = await spawnReceiver(dir.path);
    cleanups.push(() => receiver.kill('SIGKILL'));
    const dump = join(dir.path, 'crash.dmp');
    await writeFile(dump, Buffer.from('MDMP fake dump bytes'));
    const { stdout } = await run(process.execPath, [CLI, 'submit', '--url', receiver.url, '--field', 'ProductName=Shop', '--field', 'Note=a=b', '--file', `upload_file_minidump=${dump}`, '--gzip']);
    const id = stdout.trim();
    expect(id).toMatch(/^bp-[0-9a-f-]{36}$/);
    const { raw } = (await (await fetch(`${receiver.url}/api/crashes/${id}`, { headers: AUTH })).json()) as { raw: { annotations: object; files: { filename: string }[] } };
    expect(raw.annotations).toEqual({ ProductName: 'Shop', Note: 'a=b' });
    expect(raw.files[0]!.filename).toBe('crash.dmp');

    const bad = await run(process.execPath, [CLI, 'submit', '--url', receiver.url]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/answered 400: Discarded=malformed_empty/);
    const usage = await run(process.execPath, [CLI, 'submit']).catch((e: { code: number; stderr: string }) => e);
    expect((usage as { code: number }).code).toBe(2);
    expect((usage as { stderr: string }).stderr).toMatch(/--url is required/);
  });

  it('serve fails fast on invalid configuration, naming every problem', async () => {
    const result = await run(
      process.execPath,
      [CLI, 'serve', '--port', 'eighty', '--max-body-bytes', 'lots', '--public-url', 'notaurl', '--throttle-rules', '/nonexistent/rules.json', '--tuning-dir', '/nonexistent', '--library-url-patterns', '(['],
      { env: { ...process.env, SOCORRITO_TRUST_PROXY: 'maybe' } },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((result as { code: number }).code).toBe(2);
    const stderr = (result as { stderr: string }).stderr;
    expect(stderr).toMatch(/--port: expected a whole number/);
    expect(stderr).toMatch(/--max-body-bytes: expected a size/);
    expect(stderr).toMatch(/SOCORRITO_TRUST_PROXY: expected true, false, or the proxies' addresses and CIDRs .*"maybe" is not an IP address or CIDR/);
    expect(stderr).toMatch(/--public-url: expected an http\(s\) URL/);
    expect(stderr).toMatch(/--throttle-rules: no such file/);
    expect(stderr).toMatch(/--tuning-dir: no such folder/);
    expect(stderr).toMatch(/--library-url-patterns: not regular expressions/);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/); // a usage error, not a stack
  });

  it('serve says plainly why it cannot start: a busy port, a busy data dir, a bad rules file', async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const first = await spawnReceiver(dir.path);
    cleanups.push(() => first.kill('SIGKILL'));
    const port = new URL(first.url).port;
    const fail = (args: string[]) => run(process.execPath, [CLI, 'serve', ...args]).catch((e: { code: number; stderr: string }) => e) as Promise<{ code: number; stderr: string }>;

    const other = await tempDir();
    cleanups.push(other.cleanup);
    const notYet = join(other.path, 'not-yet');
    const busyPort = await fail(['--port', port, '--data-dir', notYet]);
    expect(busyPort.code).toBe(1);
    expect(busyPort.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the port is in use; choose another --port/);
    expect(existsSync(notYet)).toBe(false); // the port is tried before anything is made on disk

    const busyDir = await fail(['--port', '0', '--data-dir', dir.path]);
    expect(busyDir.code).toBe(1);
    expect(busyDir.stderr).toMatch(/another receiver \(\d+@.+\) is using .*; stop it first/);
    expect(busyDir.stderr).toContain(`remove ${join(dir.path, 'receiver.pid')}`);

    const rules = join(other.path, 'rules.json');
    await writeFile(rules, '[{"name": "x", "action": "explode"}]');
    const badRules = await fail(['--port', '0', '--data-dir', other.path, '--throttle-rules', rules]);
    expect(badRules.code).toBe(1);
    expect(badRules.stderr).toMatch(/--throttle-rules: Invalid throttle rules:\s+rule 1: "action" must be accept, reject or sample/);
    for (const r of [busyPort, busyDir, badRules]) expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);

    // The first receiver is untouched and still serves.
    expect((await fetch(`${first.url}/__heartbeat__`)).status).toBe(200);
  });

  it('every command prints its own help', async () => {
    for (const command of ['serve', 'submit', 'upload-sourcemaps', 'reprocess', 'reindex', 'apps']) {
      const { stdout } = await run(process.execPath, [CLI, command, '--help']);
      expect(stdout, command).toMatch(new RegExp(`socorrito ${command}`));
    }
  });
});
