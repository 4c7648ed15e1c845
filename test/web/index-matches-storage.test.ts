import { spawnSync } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrashIndex } from '../../receiver/src/index/crash-index.ts';
import { INDEX_FILE, STORAGE_STAMP_FILE } from '../../receiver/src/index/open.ts';
import { type JournalFs, nodeJournalFs } from '../../receiver/src/storage/journal.ts';
import type { RawCrash } from '../../receiver/src/storage/types.ts';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { CLI, spawnReceiver, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { FAST_RETRY, fakeServer, registerApp } from '../forwarder/helpers.ts';
import { alertedOnce, alertsSettled, startWebhookSink, submitAfterRestart } from '../helpers/webhook.ts';

const APP = jsCrashFields().WebAppGUID!;
const AUTH = { authorization: 'Bearer test-admin-token' };
const REBUILDING = /index: rebuilding /;

/** Submits `count` crashes to a receiver and waits until they are processed; says their IDs. */
async function submitProcessed(r: TestReceiver, count: number, label: string): Promise<string[]> {
  const before = r.processing.processor.stats.processed;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sent = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: `${label} ${i}` }), []);
    expect(sent.status).toBe(200);
    ids.push(sent.crashId!);
  }
  await waitFor(`${count} processed`, () => r.processing.processor.stats.processed === before + count);
  return ids;
}

/** Crashes of the app the API counts (top crashers of the last week) and whether a report is there. */
async function counted(url: string): Promise<number> {
  const res = await fetch(`${url}/api/apps/${APP}/topcrashers?days=7`, { headers: AUTH });
  if (res.status === 404) return 0;
  return ((await res.json()) as { total: number }).total;
}

/** The index files (with its write-ahead log) copied to or from `dir`. */
async function copyIndex(from: string, to: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) {
    await rm(join(to, INDEX_FILE + suffix), { force: true });
    if (existsSync(join(from, INDEX_FILE + suffix))) await cp(join(from, INDEX_FILE + suffix), join(to, INDEX_FILE + suffix));
  }
}

/** The parts of a data dir that hold crashes (folders, journal, queue), copied to or from `dir`. */
async function copyCrashes(from: string, to: string): Promise<void> {
  for (const part of ['crashes', 'journal', 'queue']) {
    await rm(join(to, part), { recursive: true, force: true });
    if (existsSync(join(from, part))) await cp(join(from, part), join(to, part), { recursive: true });
  }
}

describe('at start, the index is checked against the stored crashes', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let backup: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-indexcheck-');
    backup = await tempDir('socorrito-indexcheck-backup-');
  });
  afterEach(async () => {
    await dir.cleanup();
    await backup.cleanup();
  });

  it('an older copy of the index (from before the last start) is rebuilt, and the newer crashes are counted', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 3, 'before the copy');
    await first.close();
    await copyIndex(dir.path, backup.path);

    const second = await startTestReceiver({ dataDir: dir.path });
    const newer = await submitProcessed(second, 2, 'after the copy');
    await second.close();
    await copyIndex(backup.path, dir.path);

    const third = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await third.indexRebuilt).toBe(true);
      const log = third.logs.join('\n');
      expect(log).toMatch(/index: rebuilding .*index\.sqlite from stored crashes \(it does not match the stored crashes: it carries another stamp than .*storage-stamp/);
      expect(log).toMatch(/index: rebuilt: 5 crashes indexed, 0 not processed yet/);
      expect(await counted(third.url)).toBe(5);
      expect((await fetch(`${third.url}/report/${newer[0]}`, { headers: AUTH })).status).toBe(200);
      // Still named as the index's user, so `socorrito reindex` will not empty it under the receiver.
      expect(third.index.owner()).toBe(`${process.pid}@${hostname()}`);
    } finally {
      await third.close();
    }
  });

  it('an older index restored with its stamp beside newer crash folders is rebuilt (the newest folders are not in it)', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 3, 'before the copy');
    await first.close();
    await copyIndex(dir.path, backup.path);
    await cp(join(dir.path, STORAGE_STAMP_FILE), join(backup.path, STORAGE_STAMP_FILE));

    const second = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(second, 2, 'after the copy');
    await second.close();
    // Both from the backup: the stamps agree, the crashes do not.
    await copyIndex(backup.path, dir.path);
    await cp(join(backup.path, STORAGE_STAMP_FILE), join(dir.path, STORAGE_STAMP_FILE));

    const third = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await third.indexRebuilt).toBe(true);
      expect(third.logs.join('\n')).toMatch(/index: rebuilding .* \(it does not match the stored crashes: 2 processed crashes of the newest days are not in it \(bp-.*\): an older copy of the index restored\?\)/);
      expect(await counted(third.url)).toBe(5);
    } finally {
      await third.close();
    }
  });

  it('an index copied without its write-ahead log from a running receiver is rebuilt', async () => {
    await (await startTestReceiver({ dataDir: dir.path })).close();
    const running = await spawnReceiver(dir.path);
    for (let i = 0; i < 3; i++) expect((await submitCrash(`${running.url}/submit`, jsCrashFields({ JSErrorMessage: `crash ${i}` }), [])).status).toBe(200);
    await waitFor('counted', async () => (await counted(running.url)) === 3);
    // What a copy of the data dir that leaves out index.sqlite-wal gets: the file as of the last checkpoint.
    await cp(join(dir.path, INDEX_FILE), join(backup.path, INDEX_FILE));
    await running.kill('SIGKILL');
    await copyIndex(backup.path, dir.path);

    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await r.indexRebuilt).toBe(true);
      expect(r.logs.join('\n')).toMatch(/index: rebuilding .* \(it does not match the stored crashes: it carries another stamp/);
      expect(await counted(r.url)).toBe(3);
    } finally {
      await r.close();
    }
  });

  it('an older index restored does not announce a signature known since as new: alerts wait for the rebuild', async () => {
    const hook = await startWebhookSink();
    try {
      // The copy is of an index that has not seen the signature yet.
      await (await startTestReceiver({ dataDir: dir.path })).close();
      await copyIndex(dir.path, backup.path);
      const fields = jsCrashFields({ JSErrorMessage: 'known since the copy' });
      await alertedOnce(dir.path, hook, fields);
      await copyIndex(backup.path, dir.path);
      await submitAfterRestart(dir.path, hook, fields, async (r) => {
        await alertsSettled(r);
        expect(hook.events).toHaveLength(1);
        expect(r.logs.join('\n')).toMatch(/index: rebuilding .* \(it does not match the stored crashes: it carries another stamp/);
        expect(await counted(r.url)).toBe(2);
      });
    } finally {
      hook.close();
    }
  });

  it('crash folders restored from an older backup beside a newer index: rebuilt, and the crashes gone are no longer counted', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 3, 'in the backup');
    await first.close();
    await copyCrashes(dir.path, backup.path);

    const second = await startTestReceiver({ dataDir: dir.path });
    const gone = await submitProcessed(second, 2, 'not in the backup');
    expect(await counted(second.url)).toBe(5);
    await second.close();
    await copyCrashes(backup.path, dir.path);

    const third = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await third.indexRebuilt).toBe(true);
      const log = third.logs.join('\n');
      expect(log).toMatch(/index: rebuilding .* \(it does not match the stored crashes: 2 of the 5 newest crashes it holds have no folder \(bp-.*\): crash folders restored from an older backup\?\)/);
      expect(log).toMatch(/index: rebuilt: 3 crashes indexed/);
      expect(await counted(third.url)).toBe(3);
      for (const id of gone) expect((await fetch(`${third.url}/report/${id}`, { headers: AUTH })).status).toBe(404);
      const search = (await (await fetch(`${third.url}/api/search?app=${APP}`, { headers: AUTH })).json()) as { total: number };
      expect(search.total).toBe(3);
    } finally {
      await third.close();
    }
  });

  it('a whole data dir restored from an older backup but today\'s index: rebuilt from the backup\'s crashes', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 3, 'in the backup');
    await first.close();
    await copyCrashes(dir.path, backup.path);
    await cp(join(dir.path, STORAGE_STAMP_FILE), join(backup.path, STORAGE_STAMP_FILE));

    const second = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(second, 2, 'not in the backup');
    await second.close();
    await copyCrashes(backup.path, dir.path);
    await cp(join(backup.path, STORAGE_STAMP_FILE), join(dir.path, STORAGE_STAMP_FILE));

    const third = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await third.indexRebuilt).toBe(true);
      expect(third.logs.join('\n')).toMatch(/index: rebuilding .* \(it does not match the stored crashes: it carries another stamp/);
      expect(await counted(third.url)).toBe(3);
    } finally {
      await third.close();
    }
  });

  it('a normal restart, and one after `socorrito reindex` made a new index, are not taken for a mismatch', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 3, 'kept');
    await first.close();
    for (let i = 0; i < 2; i++) {
      const again = await startTestReceiver({ dataDir: dir.path });
      try {
        expect(await again.indexRebuilt).toBe(true);
        expect(again.logs.join('\n')).not.toMatch(REBUILDING);
        expect(await counted(again.url)).toBe(3 + i);
        await submitProcessed(again, 1, `restart ${i}`);
      } finally {
        await again.close();
      }
    }
    const run = spawnSync(process.execPath, [CLI, 'reindex', '--data-dir', dir.path], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const afterReindex = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(afterReindex.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(afterReindex.url)).toBe(5);
    } finally {
      await afterReindex.close();
    }
  });

  it('a start killed while it gave the index its new stamp is not taken for a mismatch', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(first, 2, 'kept');
    await first.close();
    const path = join(dir.path, STORAGE_STAMP_FILE);
    const old = (await readFile(path, 'utf8')).trim();
    expect(old).toMatch(/^[0-9a-f-]{36}$/);
    // Killed after the file named both stamps, before the index took the new one.
    await writeFile(path, `a-new-stamp\n${old}\n`);
    let r = await startTestReceiver({ dataDir: dir.path });
    expect(r.logs.join('\n')).not.toMatch(REBUILDING);
    await r.close();
    // Killed after the index took the new one, before the file named it alone.
    const stamped = (await readFile(path, 'utf8')).trim();
    const index = CrashIndex.open(join(dir.path, INDEX_FILE));
    index.setStamp('another-new-stamp');
    index.close();
    await writeFile(path, `another-new-stamp\n${stamped}\n`);
    r = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(r.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(r.url)).toBe(2);
    } finally {
      await r.close();
    }
  });

  it('a crash processed but killed before it was indexed (still queued) is not taken for a mismatch', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    const [id] = await submitProcessed(first, 3, 'kept');
    await first.close();
    // What a SIGKILL between writing processed_crash.json and indexing it leaves: the queue entry
    // goes only once the crash is indexed.
    const index = CrashIndex.open(join(dir.path, INDEX_FILE));
    index.remove(id!);
    index.close();
    await writeFile(join(dir.path, 'queue', id!.replace(/^bp-/, '')), `${Date.now()}\n`);
    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(r.logs.join('\n')).not.toMatch(REBUILDING);
      await waitFor('processed again and counted', async () => (await counted(r.url)) === 3);
    } finally {
      await r.close();
    }
  });

  it('a restart after SIGKILL, right after many crashes were accepted, is not taken for a mismatch, and every crash is counted', async () => {
    const killed = await spawnReceiver(dir.path);
    for (let i = 0; i < 5; i++) await submitCrash(`${killed.url}/submit`, jsCrashFields({ JSErrorMessage: `early ${i}` }), []);
    await waitFor('the first crashes counted', async () => (await counted(killed.url)) === 5);
    // Many at once, and killed as soon as they are answered: some processed, some queued, some only in the journal.
    const sent = await Promise.all(
      Array.from({ length: 150 }, (_, i) => submitCrash(`${killed.url}/submit`, jsCrashFields({ JSErrorMessage: `burst ${i}` }), [])),
    );
    expect(sent.every((s) => s.status === 200)).toBe(true);
    await killed.kill('SIGKILL');

    const r = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await r.indexRebuilt).toBe(true);
      expect(r.logs.join('\n')).not.toMatch(REBUILDING);
      await waitFor('every crash counted', async () => (await counted(r.url)) === 155, 60_000);
    } finally {
      await r.close();
    }
    // And once more after a SIGKILL of a receiver at rest.
    const resting = await spawnReceiver(dir.path);
    await waitFor('counted', async () => (await counted(resting.url)) === 155);
    await resting.kill('SIGKILL');
    const last = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(last.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(last.url)).toBe(155);
    } finally {
      await last.close();
    }
  });
});

describe('a deletion through the API and the start-up check', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let copy: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('socorrito-deletecheck-');
    copy = await tempDir('socorrito-deletecheck-copy-');
  });
  afterEach(async () => {
    await dir.cleanup();
    await copy.cleanup();
  });

  /** Journal files opened while `held()` says so wait for `wait()` before each write (the first is the segment header). */
  function journalFs(held: () => boolean, wait: () => Promise<void>): JournalFs {
    return {
      ...nodeJournalFs,
      async openAppend(path) {
        const file = await nodeJournalFs.openAppend(path);
        return held() ? { ...file, writev: async (buffers) => (await wait(), file.writev(buffers)) } : file;
      },
    };
  }

  const remove = (url: string, id: string): Promise<Response> => fetch(`${url}/api/crashes/${id}`, { method: 'DELETE', headers: AUTH });

  it('a crash deleted while the journal cannot start a new segment (a full disk) is deleted, and leaves the index', async () => {
    let full = false;
    const enospc = (): Promise<void> => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    const first = await startTestReceiver({ dataDir: dir.path }, { fs: journalFs(() => full, enospc) });
    let ids: string[];
    try {
      ids = await submitProcessed(first, 3, 'kept');
      full = true;
      const res = await remove(first.url, ids[0]!);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await counted(first.url)).toBe(2);
      expect((await fetch(`${first.url}/api/crashes/${ids[0]}`, { headers: AUTH })).status).toBe(404);
    } finally {
      await first.close();
    }
    const again = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(again.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(again.url)).toBe(2);
      expect((await fetch(`${again.url}/api/crashes/${ids[0]}`, { headers: AUTH })).status).toBe(404);
    } finally {
      await again.close();
    }
  });

  it('a deletion cut short after the folder went (what a SIGKILL then leaves) is not taken for a restored backup', async () => {
    let gate: Promise<void> | null = null;
    let open!: () => void;
    const first = await startTestReceiver({ dataDir: dir.path }, { fs: journalFs(() => gate !== null, () => gate!) });
    let ids: string[];
    try {
      ids = await submitProcessed(first, 3, 'kept');
      // The deletion stops in the journal's rotation, after the crash's folder went and before the index forgot it.
      gate = new Promise<void>((r) => (open = r));
      const deleting = remove(first.url, ids[0]!);
      await waitFor('the folder gone', () => !existsSync(join(dir.path, 'crashes', dayOf(ids[0]!), ids[0]!.replace(/^bp-/, ''))));
      // The data dir as a SIGKILL at this moment leaves it (the index with its write-ahead log).
      await cp(dir.path, copy.path, { recursive: true, filter: (src) => !src.endsWith('receiver.pid') && !src.endsWith('-shm') });
      open();
      expect((await deleting).status).toBe(200);
    } finally {
      open?.();
      await first.close();
    }
    const r = await startTestReceiver({ dataDir: copy.path });
    try {
      expect(r.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(r.url)).toBe(2);
      expect((await fetch(`${r.url}/api/crashes/${ids[0]}`, { headers: AUTH })).status).toBe(404);
    } finally {
      await r.close();
    }
  });
  it('a crash a master forwarded and was deleting (no copy kept) when it stopped is not taken for a restored backup', async () => {
    let ready = false;
    const priv = await fakeServer((_req, res) => {
      res.statusCode = ready ? 200 : 503;
      res.end(ready ? 'CrashID=bp-0b5c1d2e-3f40-4a5b-8c6d-7e8f90261130\n' : 'Discarded=starting\n');
    });
    let gate: Promise<void> | null = null;
    let open!: () => void;
    const master = await startTestReceiver({ dataDir: dir.path, ...FAST_RETRY }, { fs: journalFs(() => gate !== null, () => gate!) });
    let id: string;
    try {
      await registerApp(master, APP, `${priv.url}/submit`, { keep_copy: false });
      // Indexed while its forward waits for the app's receiver.
      [id] = await submitProcessed(master, 1, 'relayed');
      expect(await counted(master.url)).toBe(1);
      // Its copy's deletion stops in the journal's rotation, after the folder went and before the index forgot it.
      gate = new Promise<void>((r) => (open = r));
      ready = true;
      await waitFor('the folder gone', () => !existsSync(join(dir.path, 'crashes', dayOf(id), id.replace(/^bp-/, ''))), 20_000);
      await cp(dir.path, copy.path, { recursive: true, filter: (src) => !src.endsWith('receiver.pid') && !src.endsWith('-shm') });
      open();
      await waitFor('forgotten by the index', async () => (await counted(master.url)) === 0);
    } finally {
      open?.();
      await master.close();
      await priv.close();
    }
    const r = await startTestReceiver({ dataDir: copy.path });
    try {
      expect(r.logs.join('\n')).not.toMatch(REBUILDING);
      expect(await counted(r.url)).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe('a retention sweep and the start-up check', () => {
  const DAY = 86_400_000;
  const copyFilter = (src: string): boolean => !src.endsWith('receiver.pid') && !src.endsWith('-shm');
  let dir: { path: string; cleanup: () => Promise<void> };
  let copies: { path: string; cleanup: () => Promise<void> }[];
  beforeEach(async () => {
    dir = await tempDir('socorrito-sweepcheck-');
    copies = [await tempDir('socorrito-sweepcheck-mid-'), await tempDir('socorrito-sweepcheck-end-')];
  });
  afterEach(async () => {
    await dir.cleanup();
    for (const copy of copies) await copy.cleanup();
  });

  /** Saves a crash accepted `daysAgo` days ago, as the collector stored it then; says its ID. */
  async function saveAt(r: TestReceiver, daysAgo: number, label: string): Promise<string> {
    const at = new Date(Date.now() - daysAgo * DAY);
    const raw: RawCrash = {
      crash_id: createCrashId(at),
      submitted_at: at.toISOString(),
      annotations: jsCrashFields({ JSErrorMessage: label, CrashTime: String(Math.floor(at.getTime() / 1000)) }),
      files: [],
      metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
    };
    await r.storage.saveRaw(raw, new Map());
    return raw.crash_id;
  }

  /**
   * A receiver that keeps crashes two days, holding three crashes it took five days ago, with its
   * sweep of that day started and held at each deletion marker's rename into journal/deleted/
   * (one per crash it forgets): each held rename waits in `waiting` until called, while `hold.on`.
   * `stop()` lets everything go and closes the receiver.
   */
  async function sweepingHeld(): Promise<{ first: TestReceiver; ids: string[]; sweep: Promise<number>; hold: { on: boolean }; waiting: (() => void)[]; stop: () => Promise<void> }> {
    const hold = { on: false };
    const waiting: (() => void)[] = [];
    const fs: JournalFs = {
      ...nodeJournalFs,
      async rename(from, to) {
        if (hold.on && to.includes(`${sep}journal${sep}deleted${sep}`)) await new Promise<void>((r) => waiting.push(r));
        return nodeJournalFs.rename(from, to);
      },
    };
    const first = await startTestReceiver({ dataDir: dir.path, retentionDays: 2 }, { fs });
    const stop = async (): Promise<void> => {
      hold.on = false;
      for (const go of waiting.splice(0)) go();
      await first.close();
    };
    try {
      // The last crashes it took, five days ago: every day on disk has expired.
      const ids = [await saveAt(first, 5, 'old 0'), await saveAt(first, 5, 'old 1'), await saveAt(first, 5, 'old 2')];
      await waitFor('the old crashes counted', async () => (await counted(first.url)) === 3, 30_000);
      hold.on = true;
      return { first, ids, sweep: first.retention.sweep(), hold, waiting, stop };
    } catch (err) {
      await stop();
      throw err;
    }
  }

  it('a receiver idle for longer than its retention, stopped while it swept its newest day, is not taken for a restored backup', async () => {
    // The sweep forgets each crash in the index, then in the journal (a deletion marker, renamed
    // into journal/deleted/), then removes the day's folder: held at each marker, it can be
    // copied as a SIGKILL at that step leaves the data dir.
    const { ids, sweep, hold, waiting, stop } = await sweepingHeld();
    try {
      // Killed part way through the day's crashes: one forgotten by the index, two not yet.
      await waitFor('the first crash forgotten', () => waiting.length === 1);
      await cp(dir.path, copies[0]!.path, { recursive: true, filter: copyFilter });
      waiting.shift()!();
      await waitFor('the second crash forgotten', () => waiting.length === 1);
      waiting.shift()!();
      // Killed after the index forgot them all, while the folder was being removed (one crash's is gone).
      await waitFor('the last crash forgotten', () => waiting.length === 1);
      await cp(dir.path, copies[1]!.path, { recursive: true, filter: copyFilter });
      await rm(join(copies[1]!.path, 'crashes', dayOf(ids[0]!), ids[0]!.replace(/^bp-/, '')), { recursive: true });
      hold.on = false;
      waiting.shift()!();
      expect(await sweep).toBe(3);
    } finally {
      await stop();
    }
    for (const copy of copies) {
      expect(existsSync(join(copy.path, 'crashes', dayOf(ids[0]!)))).toBe(true);
      const r = await startTestReceiver({ dataDir: copy.path, retentionDays: 2 });
      try {
        expect(r.logs.join('\n')).not.toMatch(REBUILDING);
        // The sweep at start finishes the day, and its note in the index goes with it.
        await waitFor('the day swept again', () => !existsSync(join(copy.path, 'crashes', dayOf(ids[0]!))));
        await waitFor('the note of the sweep ended', () => r.index.sweepsUnderWay().length === 0);
        expect(await counted(r.url)).toBe(0);
        for (const id of ids) expect((await fetch(`${r.url}/api/crashes/${id}`, { headers: AUTH })).status).toBe(404);
      } finally {
        await r.close();
      }
    }
  });

  it('a sweep a stop cut short, on a receiver started again with retention off, leaves no crash of its day out of the index', async () => {
    const { ids, sweep, hold, waiting, stop } = await sweepingHeld();
    try {
      // Killed after the index forgot one of the day's three crashes.
      await waitFor('the first crash forgotten', () => waiting.length === 1);
      await cp(dir.path, copies[0]!.path, { recursive: true, filter: copyFilter });
      hold.on = false;
      for (const go of waiting.splice(0)) go();
      await sweep;
    } finally {
      await stop();
    }
    // Nothing will delete that day now: its three crashes stay, and the index must have them all.
    const r = await startTestReceiver({ dataDir: copies[0]!.path, retentionDays: 0 });
    try {
      await r.indexRebuilt;
      expect(await counted(r.url)).toBe(3);
      expect(r.index.sweepsUnderWay()).toEqual([]);
      for (const id of ids) expect((await fetch(`${r.url}/api/crashes/${id}`, { headers: AUTH })).status).toBe(200);
    } finally {
      await r.close();
    }
  });

  it('an older index restored beside newer crash folders is rebuilt though it notes a sweep under way', async () => {
    const first = await startTestReceiver({ dataDir: dir.path });
    const old = await saveAt(first, 5, 'old');
    await waitFor('the old crash counted', async () => (await counted(first.url)) === 1, 30_000);
    await submitProcessed(first, 2, 'before the copy');
    await first.close();
    // A backup taken while retention swept the old day.
    const index = CrashIndex.open(join(dir.path, INDEX_FILE));
    index.markSweeping(dayOf(old));
    index.close();
    const backup = copies[0]!.path;
    await copyIndex(dir.path, backup);
    await cp(join(dir.path, STORAGE_STAMP_FILE), join(backup, STORAGE_STAMP_FILE));

    const second = await startTestReceiver({ dataDir: dir.path });
    await submitProcessed(second, 2, 'after the copy');
    await second.close();
    await copyIndex(backup, dir.path);
    await cp(join(backup, STORAGE_STAMP_FILE), join(dir.path, STORAGE_STAMP_FILE));

    const third = await startTestReceiver({ dataDir: dir.path });
    try {
      expect(await third.indexRebuilt).toBe(true);
      expect(third.logs.join('\n')).toMatch(/index: rebuilding .* \(it does not match the stored crashes: 2 processed crashes of the newest days are not in it/);
      expect(await counted(third.url)).toBe(5);
    } finally {
      await third.close();
    }
  });
});

/** The day folder (`YYYYMMDD`) of a crash ID, from the date it ends in. */
function dayOf(crashId: string): string {
  return `20${crashId.slice(-6)}`;
}
