import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/receiver.ts';

function socorrito(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('socorrito apps', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-apps-cli-');
  });
  afterEach(() => dir.cleanup());

  it('add makes a data dir that does not exist yet, as serve does', async () => {
    const dataDir = join(dir.path, 'new', 'data');
    const run = socorrito('apps', 'add', '--data-dir', dataDir, '--guid', 'shop-1', '--submit-url', 'https://crashes.shop.example/submit');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^added shop-1 -> https:\/\/crashes\.shop\.example\/submit/);
    const file = JSON.parse(await readFile(join(dataDir, 'forward-apps.json'), 'utf8')) as { apps: { guid: string }[] };
    expect(file.apps.map((a) => a.guid)).toEqual(['shop-1']);
  });
});
