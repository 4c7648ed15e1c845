// Found in a 40-minute soak: a master that keeps no copy of an app's crashes (--no-keep-copy)
// was left with index rows of crashes it had forwarded and deleted (16 of ~21,000): they count
// in the apps list, top crashers and search, their report pages answer 404, and retention never
// removes them (it works from the day folders on disk, which are gone). Here the processor's
// write of processed_crash.json is slow (its folder's fsync takes 300 ms, as on a busy disk), so
// the forward and the deletion of the copy finish while the processor is still saving.
import { open } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { nodeJournalFs } from '../../receiver/src/storage/journal-appender.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';
import { api, crashesOn, FAST_RETRY, perTest, registerApp, submitTo } from '../forwarder/helpers.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10'; // jsCrashFields' WebAppGUID
const { receiver, cleanups } = perTest();

it('a crash forwarded and deleted while it was being processed does not stay in the index', async () => {
  const slowCrashDirSync = {
    ...nodeJournalFs,
    async fsync(path: string) {
      if (!/\/crashes\/\d{8}\/[0-9a-f-]{36}$/.test(path)) return nodeJournalFs.fsync(path);
      const handle = await open(path, 'r');
      try {
        await new Promise((r) => setTimeout(r, 300));
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
  const master = await startTestReceiver({ ...FAST_RETRY }, { fs: slowCrashDirSync });
  cleanups.push(() => master.stop());
  const priv = await receiver();
  await registerApp(master, GUID, `${priv.url}/submit`, { keep_copy: false });

  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await submitTo(master, { JSErrorMessage: `relayed ${i}` }));
  await waitFor('all on the private receiver', async () => (await crashesOn(priv)).length === 5);
  await waitFor('the master copies deleted', async () => {
    for (const id of ids) if ((await master.storage.getRaw(id)) !== null) return false;
    return true;
  });
  await master.processing.processor.idle();
  await new Promise((r) => setTimeout(r, 500));

  for (const id of ids) expect((await api(master.url, `/api/crashes/${id}`)).status).toBe(404);
  // The index agrees with storage: no crash of the relayed app is left to count or list. The app
  // is registered here, so it is listed, with none.
  const search = await api(master.url, `/api/search?app=${GUID}`);
  expect([search.status, search.body.total]).toEqual([200, 0]);
  const apps = (await api(master.url, '/api/apps')).body;
  expect(apps.apps).toMatchObject([{ guid: GUID, total: 0 }]);
});
