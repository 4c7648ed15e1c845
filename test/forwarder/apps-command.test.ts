import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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
    // A mistyped --data-dir makes a folder no receiver reads: said.
    expect(run.stdout).toContain(`made ${dataDir}, which did not exist: a receiver reads forward-apps.json from its own --data-dir`);
    expect(socorrito('apps', 'add', '--data-dir', dataDir, '--guid', 'shop-2', '--submit-url', 'https://c.example/submit').stdout).not.toContain('made ');
    // As the receiver keeps it: not readable by other users of the machine.
    expect((await stat(dataDir)).mode & 0o007).toBe(0);
    const file = JSON.parse(await readFile(join(dataDir, 'forward-apps.json'), 'utf8')) as { apps: { guid: string }[] };
    expect(file.apps.map((a) => a.guid)).toEqual(['shop-1', 'shop-2']);
  });

  it('add on an app already registered says which settings it kept, and --help names the flags that undo them', async () => {
    const args = ['apps', 'add', '--data-dir', dir.path, '--guid', 'shop-1', '--submit-url'];
    expect(socorrito(...args, 'https://a.shop.example', '--trust-dumps', '--no-keep-copy').status).toBe(0);
    const again = socorrito(...args, 'https://b.shop.example');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(
      'updated shop-1 -> https://b.shop.example/submit (files: forwarded; master copy: deleted after forwarding); ' +
        'kept from before: files forwarded (--no-trust-dumps withholds them), master copy deleted after forwarding (--keep-copy keeps it)\n',
    );
    const undone = socorrito(...args, 'https://b.shop.example', '--keep-copy');
    expect(undone.stdout).toBe(
      'updated shop-1 -> https://b.shop.example/submit (files: forwarded; master copy: kept); kept from before: files forwarded (--no-trust-dumps withholds them)\n',
    );
    expect(socorrito(...args, 'https://b.shop.example', '--no-trust-dumps').stdout).toMatch(/\(files: withheld; master copy: kept\); kept from before: master copy kept/);
    // The submit URL is a setting like the others: kept when not given again.
    const noUrl = socorrito('apps', 'add', '--data-dir', dir.path, '--guid', 'SHOP-1', '--no-keep-copy');
    expect(noUrl.status).toBe(0);
    expect(noUrl.stdout).toMatch(/^updated shop-1 -> https:\/\/b\.shop\.example\/submit \(files: withheld; master copy: deleted after forwarding\); kept from before: submit URL, files withheld/);
    const newApp = socorrito('apps', 'add', '--data-dir', dir.path, '--guid', 'shop-2');
    expect(newApp.status).toBe(2);
    expect(newApp.stderr).toContain('--submit-url is required for a new app');
    const file = JSON.parse(await readFile(join(dir.path, 'forward-apps.json'), 'utf8')) as { apps: { trust_files: boolean; keep_copy: boolean }[] };
    expect(file.apps).toMatchObject([{ trust_files: false, keep_copy: false }]);

    const help = socorrito('apps', '--help');
    expect(help.stdout).toContain('--no-trust-dumps');
    expect(help.stdout).toContain('--keep-copy |');
    expect(help.stdout).toMatch(/keeps the settings not given again/);
  });

  it('list and remove on a data dir that does not exist say so and exit 1, making nothing', () => {
    const typo = join(dir.path, 'dta');
    const list = socorrito('apps', 'list', '--data-dir', typo);
    expect(list.status).toBe(1);
    expect(list.stdout).toBe('');
    expect(list.stderr).toBe(`socorrito: apps list: the data dir ${typo} does not exist; pass the folder the receiver uses, with --data-dir or SOCORRITO_DATA_DIR\n`);
    const remove = socorrito('apps', 'remove', '--data-dir', typo, '--guid', 'shop-1');
    expect(remove.status).toBe(1);
    expect(remove.stderr).toMatch(/apps remove: the data dir .* does not exist/);
    expect(existsSync(typo)).toBe(false);
  });
});
