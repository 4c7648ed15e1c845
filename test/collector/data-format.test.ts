import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StartupError } from '../../receiver/src/server.ts';
import { DATA_FORMAT, DATA_FORMAT_FILE, thisRelease } from '../../receiver/src/storage/data-format.ts';
import { CLI, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';

let dir: { path: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  dir = await tempDir('socorrito-format-');
});
afterEach(() => dir.cleanup());

const mark = async (): Promise<{ format: number; written_by: string }> => JSON.parse(await readFile(join(dir.path, DATA_FORMAT_FILE), 'utf8'));
const cli = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

it('marks the data dir with its format and release, and says when another release used it last', async () => {
  const first = await startTestReceiver({ dataDir: dir.path });
  await first.close();
  expect(await mark()).toEqual({ format: DATA_FORMAT, written_by: thisRelease() });
  expect(first.logs.some((l) => l.startsWith('data dir: last used by'))).toBe(false);

  await writeFile(join(dir.path, DATA_FORMAT_FILE), JSON.stringify({ format: DATA_FORMAT, written_by: 'socorrito 0.0.9 (commit 0123456789ab)' }));
  const upgraded = await startTestReceiver({ dataDir: dir.path });
  await upgraded.close();
  expect(upgraded.logs).toContain(`data dir: last used by socorrito 0.0.9 (commit 0123456789ab); now by ${thisRelease()}`);
  expect(await mark()).toEqual({ format: DATA_FORMAT, written_by: thisRelease() });
});

it('leaves a data dir a newer release wrote alone: serve, reindex and apps refuse it, saying which release wrote it', async () => {
  // A crash taken first: a refused start must not touch what is there.
  const r = await startTestReceiver({ dataDir: dir.path });
  expect((await submitCrash(`${r.url}/submit`, jsCrashFields(), [])).status).toBe(200);
  await waitFor('the crash processed', () => r.processing.processor.stats.processed === 1);
  await r.close();

  const newer = { format: DATA_FORMAT + 1, written_by: 'socorrito 9.0.0 (commit fedcba987654)' };
  await writeFile(join(dir.path, DATA_FORMAT_FILE), JSON.stringify(newer));
  const refused = await startTestReceiver({ dataDir: dir.path }).then(
    async (started) => {
      await started.close();
      return null;
    },
    (err: unknown) => err,
  );
  expect(refused).toBeInstanceOf(StartupError);
  expect((refused as Error).message).toBe(
    `the data dir ${dir.path} was last used by socorrito 9.0.0 (commit fedcba987654), which stores data format ${DATA_FORMAT + 1}; ` +
      `${thisRelease()} reads up to format ${DATA_FORMAT} and would lose what it does not know: run that release or a newer one (going back needs the backup taken before the upgrade)`,
  );
  expect(await mark()).toEqual(newer);

  const reindex = cli('reindex', '--data-dir', dir.path);
  expect(reindex.status).toBe(1);
  expect(reindex.stderr).toContain('reindex: the data dir');
  expect(reindex.stderr).toContain('was last used by socorrito 9.0.0');
  const add = cli('apps', 'add', '--data-dir', dir.path, '--guid', '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10', '--submit-url', 'https://crashes.example.com');
  expect(add.status).toBe(1);
  expect(add.stderr).toContain('apps add: the data dir');

  // A mark that is not one is said plainly, not taken for "no mark".
  await writeFile(join(dir.path, DATA_FORMAT_FILE), 'garbage');
  await expect(startTestReceiver({ dataDir: dir.path })).rejects.toThrow(/data-format\.json is not a data format mark \("garbage"\): restore it from your backup/);
  // Without any mark (a data dir from before marks), a start marks it.
  await rm(join(dir.path, DATA_FORMAT_FILE));
  const again = await startTestReceiver({ dataDir: dir.path });
  await again.close();
  expect((await mark()).format).toBe(DATA_FORMAT);
});
