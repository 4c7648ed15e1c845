import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, spawnReceiver, tempDir } from '../../../test/helpers/receiver.ts';
import { waitFor } from '../../../test/helpers/wait.ts';

describe('socorrito serve flags', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-serve-flags-');
  });
  afterEach(() => dir.cleanup());

  it('takes on/off options as bare flags, last one included, and with a value after = or a space', async () => {
    const r = await spawnReceiver(dir.path, [
      '--forward-by-submit-url',
      '--trust-proxy',
      '--demo=false',
      '--fetch-allow-private',
      'false',
      '--forward-allow-http',
    ]);
    try {
      const config = /configuration: (.*)/.exec(r.output())![1]!;
      expect(config).toContain('forward-by-submit-url=true');
      expect(config).toContain('trust-proxy=true');
      expect(config).toContain('demo=false');
      expect(config).toContain('fetch-allow-private=false');
      expect(config).toContain('forward-allow-http=true');
    } finally {
      await r.kill();
    }
  });

  it('prints the demo banner with the npm run firefox command for the port it listens on', async () => {
    const r = await spawnReceiver(dir.path, ['--demo=true']);
    try {
      const line = await (async () => {
        for (let i = 0; i < 200; i++) {
          const found = /Extension {5}(.*) {3}opens Firefox/.exec(r.output());
          if (found) return found[1];
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return undefined;
      })();
      expect(line).toBe(`SOCORRITO_URL=${r.url} npm run firefox`);
    } finally {
      await r.kill();
    }
  });

  it('says the address it listens on apart from its public URL, and keeps a webhook URL\'s secret path out of the log', async () => {
    const r = await spawnReceiver(dir.path, ['--host', '0.0.0.0', '--public-url', 'https://crashes.example.com', '--webhook-url', 'https://hooks.example.com/services/T0/B0/s3cr3t']);
    try {
      for (let i = 0; i < 100 && !r.output().includes('submit crashes to'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const out = r.output();
      expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out).toContain(`listening on ${r.url} (all interfaces: 0.0.0.0)`);
      expect(out).toContain('public URL https://crashes.example.com (--public-url)');
      expect(out).toContain('submit crashes to https://crashes.example.com/submit');
      expect(out).toContain('webhook-url="https://hooks.example.com/…"');
      expect(out).not.toContain('s3cr3t');
    } finally {
      await r.kill();
    }
  });

  it('starts each log line with its UTC time, unless told not to', async () => {
    const listeningLine = async (flags: string[]): Promise<string> => {
      const r = await spawnReceiver(dir.path, flags);
      try {
        return r.output().split('\n').find((l) => l.includes('socorrito: listening on'))!;
      } finally {
        await r.kill();
      }
    };
    const stamped = await listeningLine([]);
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z socorrito: listening on /);
    expect(Math.abs(Date.now() - Date.parse(stamped.slice(0, 24)))).toBeLessThan(60_000);
    expect(await listeningLine(['--no-log-timestamps'])).toMatch(/^socorrito: listening on /);
  });

  it('keeps crash data and the admin token from other users of the machine, and prints the token only when it makes it', async () => {
    const r = await spawnReceiver(dir.path, [], { SOCORRITO_ADMIN_TOKEN: '' }); // a generated token, kept in the data dir
    const token = (await readFile(join(dir.path, 'admin-token'), 'utf8')).trim();
    try {
      const mode = async (name: string): Promise<number> => (await stat(join(dir.path, name))).mode & 0o777;
      expect(await mode('admin-token')).toBe(0o600);
      for (const name of ['index.sqlite', 'crashes', 'journal']) expect((await mode(name)) & 0o007, name).toBe(0);
      // Said after the listening line: waited for.
      await waitFor('the admin token line', () => r.output().includes('admin token'));
      expect(r.output()).toContain(`socorrito: admin token ${token} (kept in ${dir.path}/admin-token)`);
    } finally {
      await r.kill();
    }
    // Later starts name the file: a log is often shipped where the file's mode does not reach.
    const again = await spawnReceiver(dir.path, [], { SOCORRITO_ADMIN_TOKEN: '' });
    try {
      await waitFor('the admin token line', () => again.output().includes('admin token'));
      expect(again.output()).toContain(`socorrito: admin token in ${dir.path}/admin-token (readable by this user only)`);
      expect(again.output()).not.toContain(token);
    } finally {
      await again.kill();
    }
  });

  it('refuses an admin token written into the data dir by hand that is short or has spaces, saying how to mend it', async () => {
    const start = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--port', '0'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SOCORRITO_ADMIN_TOKEN: '' } });
    await writeFile(join(dir.path, 'admin-token'), 'hunter2\n');
    const short = start();
    expect(short.status).toBe(1);
    expect(short.stderr).toContain(`the admin token in ${dir.path}/admin-token cannot be used (use at least 16 characters): write one of 16 characters or more`);
    expect(short.stderr).toContain('or delete the file and a new one is made at the next start');
    expect(short.stderr).not.toContain('    at ');
    await writeFile(join(dir.path, 'admin-token'), 'correct horse battery staple\n');
    expect(start().stderr).toContain('cannot be used (must not contain spaces or other white space, which no HTTP client can send)');
  });

  it('takes a value starting with a dash, so the range check answers', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--max-files', '-1', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--max-files: expected 0..1000, got -1');
    expect(run.stderr).not.toContain('ambiguous');
  });

  it('warns of a SOCORRITO_ variable that names no setting, and starts', async () => {
    const r = await spawnReceiver(dir.path, [], { SOCORRITO_RETENTION_DAY: '3', SOCORRITO_TOKEN: 'for the other commands' });
    try {
      expect(r.output()).toContain('socorrito serve: warning: SOCORRITO_RETENTION_DAY is not a setting; ignored');
      expect(r.output()).not.toContain('SOCORRITO_TOKEN is not a setting');
    } finally {
      await r.kill();
    }
    // Said beside the problems that stop the start too.
    const refused = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--port', 'eighty'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SOCORRITO_DEMOO: '1' },
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('warning: SOCORRITO_DEMOO is not a setting');
    expect(refused.stderr).toContain('--port: expected');
  });

  it('turns an on/off option off with --no-, and knows no --no- for other options', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--no-demo', '--no-port', '--prot', '0'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).not.toContain('--no-demo');
    expect(run.stderr).toContain("--no-port: not an option of serve (see 'socorrito serve --help')");
    expect(run.stderr).toContain("--prot: not an option of serve (did you mean --port? see 'socorrito serve --help')");
  });

  it('checks the word after an on/off option as its value', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--demo', 'maybe', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--demo: expected true or false/);
    expect(run.stderr).not.toContain('serve takes no arguments');
  });

  it('says which option lacks its value', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("socorrito: serve: --data-dir needs a value, e.g. --data-dir=VALUE\n");
  });

  it('lists an unknown flag, a stray argument and a bad value together, and starts nothing', () => {
    const run = spawnSync(process.execPath, [CLI, 'serve', '--data-dir', dir.path, '--bogus', '--port', 'abc', 'extra'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--bogus: not an option of serve (see 'socorrito serve --help')");
    expect(run.stderr).toContain('"extra": serve takes no arguments, only --flags');
    expect(run.stderr).toContain('--port: expected a whole number, got "abc"');
    expect(run.stdout).not.toContain('listening');
  });
});
