// The index is a cache of the stored crashes: damage found in a query says so (heartbeat, answers)
// and the next start builds it again; `socorrito reindex` replaces a damaged file.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { INDEX_DAMAGED_MARK, INDEX_FILE } from '../../receiver/src/index/open.ts';
import { CLI, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, direct } from './crashes.ts';

const ADMIN = { authorization: 'Bearer test-admin-token' };

it('says a damaged index in the heartbeat and in answers, and the next start rebuilds it from storage', async () => {
  const dir = await tempDir();
  try {
    let r = await startTestReceiver({ dataDir: dir.path });
    await r.indexRebuilt;
    for (let i = 0; i < 3; i++) await addCrash(direct(r), { signature: `sig ${i}` });
    // SQLite finds a damaged page while answering (the file opened fine).
    r.index.apps = () => {
      throw Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    };
    const answer = await fetch(`${r.url}/api/apps`, { headers: ADMIN });
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: 'index_damaged', message: expect.stringMatching(/is damaged .*: restart the receiver to rebuild it/) });
    const heartbeat = await fetch(`${r.url}/__heartbeat__`);
    expect(heartbeat.status).toBe(500);
    expect(JSON.stringify(await heartbeat.json())).toContain('restart the receiver to rebuild it');
    expect(existsSync(join(dir.path, INDEX_DAMAGED_MARK))).toBe(true);
    await r.stop();

    r = await startTestReceiver({ dataDir: dir.path });
    try {
      await r.indexRebuilt;
      expect(r.logs).toContainEqual(expect.stringMatching(/^index: the last run found .* damaged; moved it to .*\.damaged-\d+ and starting a new one$/));
      const apps = (await (await fetch(`${r.url}/api/apps`, { headers: ADMIN })).json()) as { apps: { guid: string; total: number }[] };
      expect(apps.apps).toMatchObject([{ guid: APP_GUID, total: 3 }]);
      expect(existsSync(join(dir.path, INDEX_DAMAGED_MARK))).toBe(false);
    } finally {
      await r.stop();
    }

    // A damaged file, the receiver stopped: reindex builds a new one rather than failing on it.
    await writeFile(join(dir.path, INDEX_FILE), Buffer.alloc(64 * 1024, 7));
    const run = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done: 3 crashes indexed/);
  } finally {
    await dir.cleanup();
  }
});
