import { writeFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import type { NewSignatureEvent } from '../../receiver/src/notify/webhook.ts';
import { nodeFsOps } from '../../receiver/src/storage/durable.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { alertedOnce, alertsSettled, removeIndex, startWebhookSink } from '../helpers/webhook.ts';
import { daysAgo, makeCrash } from '../web/crashes.ts';

/** Crashes stored before today, so a rebuild walks them before today's (day folders go in order). */
const EARLIER_CRASHES = 2_000;

it('does not announce a known signature again while the index is rebuilt (an upgrade, a restored backup): processing waits for it', async () => {
  const hook = await startWebhookSink();
  const events = hook.events as NewSignatureEvent[];
  const dir = await tempDir();
  const fields = jsCrashFields({ JSErrorMessage: 'known for months' });
  try {
    await alertedOnce(dir.path, hook, fields);

    // Older crashes make the rebuild take a while (written without fsync: the test's own data).
    const storage = new FsCrashStorage(dir.path, { ...nodeFsOps, writeFile: (path, data) => writeFile(path, data), fsync: async () => undefined });
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
    await removeIndex(dir.path);

    const second = await startTestReceiver({ dataDir: dir.path, webhookUrl: hook.url });
    try {
      expect((await submitCrash(`${second.url}/submit`, fields, [])).status).toBe(200);
      await waitFor('the crash processed', () => second.processing.processor.stats.processed === 1, 60_000);
      await alertsSettled(second);
      expect(events).toHaveLength(1);
      const top = await fetch(`${second.url}/api/apps/${fields.WebAppGUID}/topcrashers?days=7`, { headers: { authorization: `Bearer ${second.adminToken}` } });
      expect((await top.json()).total).toBe(EARLIER_CRASHES + 2);
    } finally {
      await second.close();
    }
  } finally {
    hook.close();
    await dir.cleanup();
  }
}, 120_000);
