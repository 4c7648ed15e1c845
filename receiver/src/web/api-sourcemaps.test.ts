import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { tempDir } from '../../../test/helpers/receiver.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import { FsWorkQueue } from '../storage/fs-queue.ts';
import { FsCrashStorage } from '../storage/fs-storage.ts';
import type { SourceMapStore } from '../symbols/store.ts';
import { sourcemapApiRoutes } from './api-sourcemaps.ts';

const GUID = '0b3f9a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

describe('POST /api/reprocess for a whole app', () => {
  it('runs one at a time: a second one while the first reads the crashes gets 429 with Retry-After', async () => {
    const dir = await tempDir();
    const storage = new FsCrashStorage(dir.path);
    await storage.open();
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) {
      const crashId = createCrashId();
      stored.push(crashId);
      await storage.saveRaw(
        { crash_id: crashId, submitted_at: new Date().toISOString(), annotations: { ProductName: 'Shop', WebAppGUID: GUID }, files: [], metadata: { throttle_rule: 'x', content_encoding: 'identity' } },
        new Map(),
      );
    }
    // The first reprocess is held after it has listed one crash, until the second has been answered.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let listing!: () => void;
    const listed = new Promise<void>((resolve) => (listing = resolve));
    const gated = Object.create(storage) as FsCrashStorage;
    let calls = 0;
    gated.listCrashIds = async function* () {
      let first = calls++ === 0;
      for await (const id of storage.listCrashIds()) {
        yield id;
        if (first) {
          first = false;
          listing();
          await held;
        }
      }
    };
    const logs: string[] = [];
    const queue = new FsWorkQueue(dir.path, join(dir.path, 'tmp'));
    await queue.open();
    const routes = sourcemapApiRoutes({
      store: {} as SourceMapStore,
      storage: gated,
      queue,
      maxUploadBytes: 1024,
      wake: () => undefined,
      log: (line) => logs.push(line),
    });
    const reprocess = () => routes.request('/api/reprocess', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app: GUID }) });

    const first = reprocess();
    await listed;
    const second = await reprocess();
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('10');
    expect(((await second.json()) as { error: string }).error).toBe('busy');
    release();
    const done = await first;
    expect(done.status).toBe(200);
    expect(((await done.json()) as { queued: number }).queued).toBe(3);
    expect((await queue.pending(10)).sort()).toEqual(stored.sort());
    expect(logs).toEqual([`reprocess: app ${GUID}: 3 crashes queued (admin)`]);
    // Once the first is done, the next one runs.
    const third = await reprocess();
    expect(third.status).toBe(200);
    await dir.cleanup();
  });

  it('answers 202 and goes on queuing when reading the crashes takes longer than the answer may wait', async () => {
    const dir = await tempDir();
    const storage = new FsCrashStorage(dir.path);
    await storage.open();
    const crashId = createCrashId();
    await storage.saveRaw(
      { crash_id: crashId, submitted_at: new Date().toISOString(), annotations: { ProductName: 'Shop', WebAppGUID: GUID }, files: [], metadata: { throttle_rule: 'x', content_encoding: 'identity' } },
      new Map(),
    );
    // Listing the store is held until the answer has gone out (a store of a million crashes).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = Object.create(storage) as FsCrashStorage;
    slow.listCrashIds = async function* () {
      await held;
      yield* storage.listCrashIds();
    };
    const logs: string[] = [];
    const queue = new FsWorkQueue(dir.path, join(dir.path, 'tmp'));
    await queue.open();
    const routes = sourcemapApiRoutes({ store: {} as SourceMapStore, storage: slow, queue, maxUploadBytes: 1024, wake: () => undefined, log: (line) => logs.push(line), answerWaitMs: 50 });
    const answer = await routes.request('/api/reprocess', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ all: true }) });
    expect(answer.status).toBe(202);
    expect(await answer.json()).toEqual({ queuing: true, message: "still reading and queuing the crashes of every app; the receiver's log says how many when it is done" });
    expect(logs).toEqual([]);
    // Still running: another app-wide reprocess waits its turn.
    expect((await routes.request('/api/reprocess', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app: GUID }) })).status).toBe(429);
    release();
    await waitFor('the queuing to finish', () => logs.length === 1);
    expect(logs).toEqual(['reprocess: every app: 1 crash queued (admin)']);
    expect(await queue.pending(10)).toEqual([crashId]);
    await dir.cleanup();
  });
});
