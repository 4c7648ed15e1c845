import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrashIndex } from '../../receiver/src/index/crash-index.ts';
import { INDEX_FILE } from '../../receiver/src/index/open.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import { CLI, spawnReceiver, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { APP_GUID, daysAgo, makeCrash } from './crashes.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';

/** Stores processed crashes without any index, as if the index file had been lost. */
async function storeCrashes(dataDir: string, count: number): Promise<void> {
  const storage = new FsCrashStorage(dataDir);
  await storage.open();
  for (let i = 0; i < count; i++) {
    const { raw, processed, files } = makeCrash({ signature: `sig ${i % 3}`, at: daysAgo(i % 5) });
    await storage.saveRaw(raw, files);
    await storage.saveProcessed(processed);
  }
  const unprocessed = makeCrash({ signature: 'never processed' });
  await storage.saveRaw(unprocessed.raw, unprocessed.files);
}

describe('rebuilding the index from storage', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-reindex-');
  });
  afterEach(() => dir.cleanup());

  it('`socorrito reindex` rebuilds the index with progress', async () => {
    await storeCrashes(dir.path, 12);
    // The service's environment may hold serve settings reindex does not use, even ones serve would refuse.
    const env = { ...process.env, SOCORRITO_PORT: 'abc', SOCORRITO_THROTTLE_RULES: '/nonexistent/rules.json' };
    const run = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000, env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`rebuilding ${join(dir.path, INDEX_FILE)}`);
    expect(run.stdout).toMatch(/13\/13 crashes read \(100%\), 12 indexed/);
    expect(run.stdout).toMatch(/done: 12 crashes indexed, 1 not processed yet/);
    const index = CrashIndex.open(join(dir.path, INDEX_FILE));
    try {
      expect(index.rebuildReason).toBeNull();
      expect(index.count()).toBe(12);
      expect(index.topCrashers(APP_GUID, { days: 7 })!.rows.map((r) => r.count)).toEqual([4, 4, 4]);
    } finally {
      index.close();
    }
  });

  it('`socorrito reindex` will not empty the index under a running receiver, but --live adds to it', async () => {
    await storeCrashes(dir.path, 4);
    const r = await spawnReceiver(dir.path);
    try {
      const refused = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/a receiver \(\d+@.*\) is using .*; stop it first, or pass --live/);
      const live = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path, '--live'], { encoding: 'utf8', timeout: 60_000 });
      expect(live.status, live.stderr).toBe(0);
      expect(live.stdout).toMatch(/done: 4 crashes indexed/);
      const res = await fetch(`${r.url}/api/apps/${APP_GUID}/topcrashers`, { headers: { authorization: `Bearer ${r.token}` } });
      expect((await res.json()).total).toBe(4);
    } finally {
      await r.kill();
    }
    // Stopped: the receiver gave the index up, and a full rebuild may go ahead.
    const after = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(after.status, after.stderr).toBe(0);
  });

  it('`socorrito reindex` counts the crashes still in the journal (a receiver stopped before laying them out), which the next start takes in', async () => {
    const r = await startTestReceiver({ dataDir: dir.path });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: `crash ${i}` }), [])).crashId!.replace(/^bp-/, ''));
    }
    await waitFor('all processed', () => r.processing.processor.stats.processed === 3);
    await r.close();
    // As after a SIGKILL between the answer and the layout: the record is in the journal, the folder is not.
    const folders = new FsCrashStorage(dir.path);
    for (const id of ids.slice(0, 2)) await rm(folders.crashDir(id), { recursive: true });

    const run = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done: 1 crashes indexed, 0 not processed yet/);
    expect(run.stdout).toContain(`socorrito reindex: 2 more accepted crashes wait in ${join(dir.path, 'journal')}: the receiver takes them in, processes and indexes them at its next start`);

    const again = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(again.logs).toContain('storage: replayed 2 accepted crashes from the journal');
      await waitFor('the two processed', () => again.processing.processor.stats.processed === 2);
      expect(again.index.count()).toBe(3);
    } finally {
      await again.close();
    }
    const after = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(after.stdout).toMatch(/done: 3 crashes indexed/);
    expect(after.stdout).not.toContain('wait in');
  });

  it('`socorrito reindex` explains a bad option', () => {
    const run = spawnSync(process.execPath, [CLI, 'reindex', '--nope'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("socorrito: reindex: unknown option --nope. Run 'socorrito reindex --help' for usage.\n");
  });

  it('`socorrito reindex` refuses a folder that does not exist or is not a data dir, and writes nothing there', async () => {
    const missing = join(dir.path, 'no-such-dir');
    const absent = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', missing], { encoding: 'utf8', timeout: 60_000 });
    expect(absent.status).toBe(1);
    expect(absent.stderr).toBe(`socorrito: reindex: the data dir ${missing} does not exist; pass the folder the receiver uses, with --data-dir or SOCORRITO_DATA_DIR\n`);
    expect(existsSync(missing)).toBe(false);
    await writeFile(join(dir.path, 'notes.txt'), 'not crashes');
    const other = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`reindex: ${dir.path} does not look like a receiver's data dir (it has none of crashes/, journal/, admin-token, ${INDEX_FILE})`);
    expect(await readdir(dir.path)).toEqual(['notes.txt']);
  });

  it('a receiver whose index file is gone rebuilds it in the background and serves it', async () => {
    await storeCrashes(dir.path, 7);
    expect(existsSync(join(dir.path, INDEX_FILE))).toBe(false);
    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      await r.indexRebuilt;
      expect(r.logs.join('\n')).toMatch(/index: rebuilding .* \(new index\)/);
      expect(r.logs.join('\n')).toMatch(/index: rebuilt: 7 crashes indexed, 1 not processed yet/);
      const res = await fetch(`${r.url}/api/apps/${APP_GUID}/topcrashers`, { headers: { authorization: `Bearer ${r.adminToken}` } });
      expect((await res.json()).total).toBe(7);
    } finally {
      await r.close();
    }
    // Deleting the file again starts over; the old one is not needed.
    await rm(join(dir.path, INDEX_FILE));
    const again = await startTestReceiver({ dataDir: dir.path });
    try {
      await again.indexRebuilt;
      expect(again.index.count()).toBe(7);
    } finally {
      await again.close();
    }
  });

  it('a receiver starts over from an index whose bulk rebuild was cut short, and counts new crashes', async () => {
    await storeCrashes(dir.path, 7);
    // As `socorrito reindex` leaves it when stopped mid-load: no triggers, no indexes, half full.
    const cut = CrashIndex.open(join(dir.path, INDEX_FILE));
    cut.startBulk();
    cut.loadBulk([makeCrash({ signature: 'sig 0', at: daysAgo(0) }).processed]);
    cut.close();
    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      await r.indexRebuilt;
      expect(r.logs.join('\n')).toMatch(/index: rebuilding .* \(the last rebuild did not finish\)/);
      const auth = { authorization: `Bearer ${r.adminToken}` };
      const top = async (): Promise<number> => (await (await fetch(`${r.url}/api/apps/${APP_GUID}/topcrashers`, { headers: auth })).json()).total;
      expect(await top()).toBe(7);
      const apps = (await (await fetch(`${r.url}/api/apps`, { headers: auth })).json()) as { apps: unknown[] };
      expect(apps.apps).toHaveLength(1);
      // The count triggers are back: a crash indexed now is counted.
      r.index.upsert(makeCrash({ signature: 'sig 1', at: daysAgo(0) }).processed);
      expect(await top()).toBe(8);
    } finally {
      await r.close();
    }
  });

  it('a receiver sets a damaged index file aside and rebuilds it', async () => {
    await storeCrashes(dir.path, 3);
    await writeFile(join(dir.path, INDEX_FILE), 'this is not a SQLite database, just some text that is long enough'.repeat(100));
    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      await r.indexRebuilt;
      expect(r.logs.join('\n')).toMatch(/index: cannot use .*; moved it to .*damaged-\d+/);
      expect(r.index.count()).toBe(3);
      expect((await readdir(dir.path)).filter((f) => f.includes('.damaged-'))).toHaveLength(1);
    } finally {
      await r.close();
    }
  });
});
