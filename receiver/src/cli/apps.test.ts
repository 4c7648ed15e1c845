import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appsCommand } from './apps.ts';
import { UsageError } from './usage.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('socorrito apps add --guid', () => {
  it('refuses a GUID the receiver would refuse, saying the one rule, before touching the data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'socorrito-apps-'));
    dirs.push(dataDir);
    const io = { out: () => undefined, err: () => undefined, env: {} };
    const run = appsCommand(['add', '--guid', 'app:one', '--submit-url', 'https://crashes.example/submit', '--data-dir', dataDir], io);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow('"app:one" is not a GUID: 1-128 of A-Z a-z 0-9 . _ @ { } + -');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('takes every GUID the collector takes, e.g. with a +', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'socorrito-apps-'));
    dirs.push(dataDir);
    const out: string[] = [];
    const io = { out: (l: string) => void out.push(l), err: () => undefined, env: {} };
    expect(await appsCommand(['add', '--guid', 'app+one', '--submit-url', 'https://crashes.example/submit', '--data-dir', dataDir], io)).toBe(0);
    expect(out.join('\n')).toMatch(/added app\+one/);
  });
});
