import { expect, it, vi } from 'vitest';
import type { NewSignatureEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { alertedOnce, alertsSettled, removeIndex, startWebhookSink } from '../helpers/webhook.ts';

// A rebuild that fails leaves an index without the stored crashes: crashes are processed all
// the same, but what reads the index's history (is this signature new?) stays quiet.
let failRebuild = false;
vi.mock('../../receiver/src/index/rebuild.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../receiver/src/index/rebuild.ts')>();
  return {
    ...real,
    rebuildIndex: (...args: Parameters<typeof real.rebuildIndex>) =>
      failRebuild ? new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })), 200)) : real.rebuildIndex(...args),
  };
});

it('processes crashes but sends no new-signature alert from an index whose rebuild failed, and says so', async () => {
  const hook = await startWebhookSink();
  const events = hook.events as NewSignatureEvent[];
  const dir = await tempDir();
  const fields = jsCrashFields({ JSErrorMessage: 'known for months' });
  try {
    await alertedOnce(dir.path, hook, fields);
    await removeIndex(dir.path);
    failRebuild = true;
    const second = await startTestReceiver({ dataDir: dir.path, webhookUrl: hook.url });
    try {
      expect((await submitCrash(`${second.url}/submit`, fields, [])).status).toBe(200);
      await waitFor('the crash processed', () => second.processing.processor.stats.processed === 1);
      expect(second.logs.some((l) => l.startsWith('index: rebuild failed'))).toBe(true);
      expect(second.logs).toContain(
        'processor: the index rebuild did not finish, so new-signature and spike alerts are off until a restart rebuilds it; crashes are processed and regressions still alert',
      );
      await alertsSettled(second);
      // The known signature is not announced again.
      expect(events.map((e) => e.event)).toEqual(['new_signature']);
    } finally {
      await second.close();
    }
  } finally {
    hook.close();
    await dir.cleanup();
  }
}, 60_000);
