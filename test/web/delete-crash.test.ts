// Deleting one crash (an erasure request): gone from storage, the pages and the API, and it stays
// gone after a restart, when the journal is read again.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeJournalFs } from '../../receiver/src/storage/journal-appender.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitProcessed } from '../processor/helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const ADMIN = { authorization: 'Bearer test-admin-token' };

describe('DELETE /api/crashes/<id>', () => {
  const dirs: { cleanup: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const d of dirs) await d.cleanup();
  });

  it('removes the crash from storage, the index and the pages, for good', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    let r = await startTestReceiver({ dataDir: dir.path });
    const secret = { crashId: (await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: 'token for jane@example.com expired' }), [])).crashId! };
    const kept = { crashId: (await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: 'token expired' }), [])).crashId! };
    await waitProcessed(r.url, secret.crashId);
    await waitProcessed(r.url, kept.crashId);
    const found = async (q: string) => ((await (await fetch(`${r.url}/api/search?q=${encodeURIComponent(q)}`, { headers: ADMIN })).json()) as { total: number }).total;
    // Processed shows in the API once its file is renamed into place; the index takes it just after.
    await waitFor('both crashes to be indexed', async () => (await found('token')) === 2);

    const deleted = await fetch(`${r.url}/api/crashes/${secret.crashId}`, { method: 'DELETE', headers: ADMIN });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: secret.crashId });
    expect(r.logs.join('\n')).toContain(`deleted crash ${secret.crashId} (DELETE /api/crashes, admin)`);
    expect((await fetch(`${r.url}/api/crashes/${secret.crashId}`, { headers: ADMIN })).status).toBe(404);
    expect((await fetch(`${r.url}/report/${secret.crashId}`, { headers: ADMIN })).status).toBe(404);
    expect(await found('jane')).toBe(0);
    expect(await found('token')).toBe(1);
    const day = (await readdir(join(dir.path, 'crashes')))[0]!;
    expect(await readdir(join(dir.path, 'crashes', day))).toEqual([kept.crashId.slice(3)]);

    // Its text is gone from the index file, and from the journal once its segment is laid out.
    for (const file of ['index.sqlite', 'index.sqlite-wal']) {
      expect((await readFile(join(dir.path, file)).catch(() => Buffer.alloc(0))).includes('jane@example.com'), file).toBe(false);
    }
    const journal = async () => (await Promise.all((await readdir(join(dir.path, 'journal'))).filter((n) => n.endsWith('.log')).map((n) => readFile(join(dir.path, 'journal', n))))).some((b) => b.includes('jane@example.com'));
    for (const deadline = Date.now() + 5_000; await journal(); ) {
      if (Date.now() > deadline) throw new Error('the deleted crash is still in the journal after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Again, and with IDs that are not crash IDs.
    expect((await fetch(`${r.url}/api/crashes/${secret.crashId}`, { method: 'DELETE', headers: ADMIN })).status).toBe(404);
    expect((await fetch(`${r.url}/api/crashes/..%2F..%2Fadmin-token`, { method: 'DELETE', headers: ADMIN })).status).toBe(400);

    // The journal that still holds its record does not bring it back.
    await r.stop();
    r = await startTestReceiver({ dataDir: dir.path });
    await r.indexRebuilt;
    expect((await fetch(`${r.url}/api/crashes/${secret.crashId}`, { headers: ADMIN })).status).toBe(404);
    expect((await fetch(`${r.url}/api/crashes/${kept.crashId}`, { headers: ADMIN })).status).toBe(200);
    await r.stop();
  });

  // From a soak (a master forwarding an app with --no-keep-copy deletes each crash once sent):
  // each deletion rotated the journal segment, concurrent ones left empty segments, and markers
  // written while their segment was removed stayed; nothing removed them until a restart.
  it('leaves no empty journal segments or deletion markers behind when crashes are deleted at once', async () => {
    // Markers take their time to reach the disk, unevenly, as on a busy one.
    const unevenMarkers = {
      ...nodeJournalFs,
      async writeFile(path: string, data: Uint8Array | string) {
        await nodeJournalFs.writeFile(path, data);
        if (data === '') await new Promise((res) => setTimeout(res, Math.random() * 80));
      },
    };
    const r = await startTestReceiver({}, { fs: unevenMarkers });
    try {
      for (let round = 0; round < 5; round++) {
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) ids.push((await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: `round ${round} crash ${i}` }), [])).crashId!);
        for (const id of ids) await waitProcessed(r.url, id);
        const answers = await Promise.all(ids.map((id) => fetch(`${r.url}/api/crashes/${id}`, { method: 'DELETE', headers: ADMIN })));
        expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
      }
      await new Promise((res) => setTimeout(res, 500));
      const segments = (await readdir(join(r.dataDir, 'journal'))).filter((n) => n.endsWith('.log'));
      const markers = await readdir(join(r.dataDir, 'journal', 'deleted'));
      // Only the segment being written stays: every crash in the others is laid out and deleted.
      expect({ segments: segments.length, markers: markers.length }).toEqual({ segments: 1, markers: 0 });
    } finally {
      await r.stop();
    }
  });
});
