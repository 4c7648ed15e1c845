import { writeFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { nodeFsOps } from '../../receiver/src/storage/durable.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import { jsCrashFields } from '../helpers/submit.ts';
import { afterOneAlert, alertsSettled, removeIndex, submitAfterRestart } from '../helpers/webhook.ts';
import { daysAgo, makeCrash } from '../web/crashes.ts';

/** Crashes stored before today, so a rebuild walks them before today's (day folders go in order). */
const EARLIER_CRASHES = 2_000;

it('does not announce a known signature again while the index is rebuilt (an upgrade, a restored backup): processing waits for it', async () => {
  const fields = jsCrashFields({ JSErrorMessage: 'known for months' });
  await afterOneAlert(fields, async (dataDir, hook) => {
    // Older crashes make the rebuild take a while (written without fsync: the test's own data).
    const storage = new FsCrashStorage(dataDir, { ...nodeFsOps, writeFile: (path, data) => writeFile(path, data), fsync: async () => undefined });
    await storage.open();
    for (let i = 0; i < EARLIER_CRASHES; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, j) => {
          const { raw, processed, files } = makeCrash({ signature: `TypeError: older crash ${i + j}`, errorMessage: `older crash ${i + j}`, app: fields.WebAppGUID, at: daysAgo(2) });
          await storage.saveRaw(raw, files);
          await storage.saveProcessed(processed);
        }),
      );
    }
    await removeIndex(dataDir);

    await submitAfterRestart(
      dataDir,
      hook,
      fields,
      async (second) => {
        await alertsSettled(second);
        expect(hook.events).toHaveLength(1);
        const top = await fetch(`${second.url}/api/apps/${fields.WebAppGUID}/topcrashers?days=7`, { headers: { authorization: `Bearer ${second.adminToken}` } });
        expect((await top.json()).total).toBe(EARLIER_CRASHES + 2);
      },
      60_000,
    );
  });
}, 120_000);
