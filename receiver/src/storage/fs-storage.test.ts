import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { tempDir } from '../../../test/helpers/receiver.ts';
import { nodeFsOps, type FsOps } from './durable.ts';
import { CrashNotFound, FsCrashStorage } from './fs-storage.ts';
import type { ProcessedCrash } from './types.ts';

describe('FsCrashStorage.saveProcessed', () => {
  it('says CrashNotFound when the crash is deleted while its processed crash is written', async () => {
    const dir = await tempDir();
    let storage: FsCrashStorage;
    const crashId = createCrashId();
    // The forwarder deletes the crash (no master copy) just as the processed file is renamed in.
    const racing: FsOps = {
      ...nodeFsOps,
      async rename(from, to) {
        if (to.endsWith('processed_crash.json')) await storage.delete(crashId);
        return nodeFsOps.rename(from, to);
      },
    };
    storage = new FsCrashStorage(dir.path, racing);
    await storage.open();
    await storage.saveRaw(
      { crash_id: crashId, submitted_at: new Date().toISOString(), annotations: { ProductName: 'Shop' }, files: [], metadata: { throttle_rule: 'x', content_encoding: 'identity' } },
      new Map(),
    );
    const err = await storage.saveProcessed({ crash_id: crashId } as ProcessedCrash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrashNotFound);
    await dir.cleanup();
  });
});
