import { expect, it, vi } from 'vitest';
import type { NewSignatureEvent } from '../../receiver/src/notify/webhook.ts';
import { jsCrashFields } from '../helpers/submit.ts';
import { afterOneAlert, alertsSettled, removeIndex, submitAfterRestart } from '../helpers/webhook.ts';

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
  const fields = jsCrashFields({ JSErrorMessage: 'known for months' });
  await afterOneAlert(fields, async (dataDir, hook) => {
    await removeIndex(dataDir);
    failRebuild = true;
    await submitAfterRestart(dataDir, hook, fields, async (second) => {
      expect(second.logs.some((l) => l.startsWith('index: rebuild failed'))).toBe(true);
      expect(second.logs).toContain(
        'processor: the index rebuild did not finish, so new-signature and spike alerts are off until a restart rebuilds it; crashes are processed and regressions still alert',
      );
      await alertsSettled(second);
      // The known signature is not announced again.
      expect((hook.events as NewSignatureEvent[]).map((e) => e.event)).toEqual(['new_signature']);
    });
  });
}, 60_000);
