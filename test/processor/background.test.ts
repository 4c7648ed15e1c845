// Background processing from the durable queue: resumes after a restart, tells the index,
// retries a crash whose processing threw a bounded number of times, then records the error in
// the crash and drops it from the queue.
import { afterEach, describe, expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { BackgroundProcessor, MAX_PROCESSING_ATTEMPTS } from '../../receiver/src/processor/runner.ts';
import { loadTuning } from '../../receiver/src/processor/tuning.ts';
import { FsWorkQueue } from '../../receiver/src/storage/fs-queue.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import type { ProcessedCrash, RawCrash } from '../../receiver/src/storage/types.ts';
import { spawnReceiver, startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { auth, waitProcessed } from './helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function rawCrash(fields: Record<string, string> = {}): RawCrash {
  return {
    crash_id: createCrashId(new Date()),
    submitted_at: new Date().toISOString(),
    annotations: jsCrashFields(fields),
    files: [],
    metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
  };
}

async function openStore(): Promise<{ storage: FsCrashStorage; queue: FsWorkQueue; dir: string }> {
  const dir = await tempDir('socorrito-bg-');
  cleanups.push(dir.cleanup);
  const storage = new FsCrashStorage(dir.path);
  await storage.open();
  const queue = new FsWorkQueue(dir.path, storage.tmpDir);
  await queue.open();
  return { storage, queue, dir: dir.path };
}

class DiskFullError extends Error {
  constructor() {
    super('no space left on /secret/path');
    this.name = 'DiskFullError';
  }
}

describe('background processor', () => {
  it('processes what was queued before a restart, and tells the index', async () => {
    const { storage, queue, dir } = await openStore();
    const raw = rawCrash();
    await storage.saveRaw(raw, new Map());
    await queue.enqueue(raw.crash_id);
    // A receiver starting on that data dir picks the crash up without any new submission.
    const receiver = await startTestReceiver({ dataDir: dir });
    cleanups.push(() => receiver.close());
    const processed = await waitProcessed(receiver.url, raw.crash_id);
    expect(processed.signature).toBe('TypeError: handler0 | handler1 | handler2');
    // The queue entry goes right after the processed crash is saved and indexed.
    const deadline = Date.now() + 5_000;
    while ((await queue.pending(10)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await queue.pending(10)).toEqual([]);
    const sig = await fetch(`${receiver.url}/api/signatures/${processed.signature_id}`, { headers: auth });
    expect(sig.status).toBe(200);
    expect(JSON.stringify(await sig.json())).toContain('handler0 | handler1 | handler2');
  });

  it('keeps POST /submit answering while it works, and processes every accepted crash', async () => {
    const receiver = await startTestReceiver();
    cleanups.push(() => receiver.stop());
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await submitCrash(`${receiver.url}/submit`, jsCrashFields({ JSErrorMessage: `message ${i}` }), []);
      expect(res.status).toBe(200);
      ids.push(res.crashId!);
    }
    for (const id of ids) expect((await waitProcessed(receiver.url, id)).crash_id).toBe(id.replace(/^bp-/, ''));
    // The stats say how far the work behind the collector lags: nothing left here.
    const stats = (await (await fetch(`${receiver.url}/api/stats`, { headers: auth })).json()) as {
      collector: { accepted: number };
      layout: { waiting: number };
      processing: { processed: number; queued: number };
    };
    expect(stats.collector.accepted).toBe(20);
    expect(stats.layout.waiting).toBe(0);
    expect(stats.processing.processed).toBe(20);
    // The queue entry of the last crash goes just after it is saved.
    for (let i = 0; i < 100 && stats.processing.queued !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      stats.processing = ((await (await fetch(`${receiver.url}/api/stats`, { headers: auth })).json()) as typeof stats).processing;
    }
    expect(stats.processing.queued).toBe(0);
  });

  it('keeps processing during a steady stream of submissions, not only once it stops', async () => {
    // Its own process, as in production: the test's client must not share its event loop.
    const dir = await tempDir('socorrito-steady-');
    cleanups.push(dir.cleanup);
    const receiver = await spawnReceiver(dir.path, [], { SOCORRITO_APP_RATE_PER_MINUTE: '0' });
    cleanups.push(async () => void (await receiver.kill()));
    // A crash every 10 ms for 3 s: well below what the receiver processes in a second, yet a
    // submission arrives every few milliseconds the whole time.
    const answers: ReturnType<typeof submitCrash>[] = [];
    for (let i = 0; i < 300; i++) {
      answers.push(submitCrash(`${receiver.url}/submit`, jsCrashFields({ JSErrorMessage: `message ${i}` }), []));
      await new Promise((r) => setTimeout(r, 10));
    }
    const early = (await Promise.all(answers.slice(0, 100))).map((a) => a.crashId!);
    // Checked while the last submissions are still being answered: the first hundred, sent
    // seconds ago, are processed by now.
    const processed = await Promise.all(
      early.map(async (id) => ((await (await fetch(`${receiver.url}/api/crashes/${id}`, { headers: auth })).json()) as { processed: unknown }).processed),
    );
    expect(processed.filter((p) => !p).length).toBeLessThanOrEqual(20); // 96 of 100 when any submission meant "busy"
    expect((await Promise.all(answers)).every((a) => a.status === 200)).toBe(true);
  });

  it('retries a crash whose processing threw, then records processing_error and drops it from the queue', async () => {
    const { storage, queue } = await openStore();
    const broken = rawCrash();
    const flaky = rawCrash({ JSErrorType: 'RangeError' });
    for (const r of [broken, flaky]) {
      await storage.saveRaw(r, new Map());
      await queue.enqueue(r.crash_id);
    }
    const attempts = new Map<string, number>();
    const told: { processed: ProcessedCrash; raw: RawCrash }[] = [];
    const failingStorage = Object.assign(Object.create(storage) as FsCrashStorage, {
      saveProcessed: async (p: ProcessedCrash): Promise<void> => {
        const n = (attempts.get(p.crash_id) ?? 0) + 1;
        attempts.set(p.crash_id, n);
        // The broken crash always fails; the flaky one fails once.
        if ((p.crash_id === broken.crash_id && !p.processing_error) || (p.crash_id === flaky.crash_id && n === 1)) throw new DiskFullError();
        await storage.saveProcessed(p);
      },
    });
    const logs: string[] = [];
    const processor = new BackgroundProcessor({
      storage: failingStorage,
      queue,
      symbolicator: null,
      tuning: loadTuning(),
      onProcessed: (processed, raw) => {
        told.push({ processed, raw });
      },
      log: (l) => logs.push(l),
    });
    processor.start();
    cleanups.push(() => processor.stop());
    await processor.idle();
    expect(await queue.pending(10)).toEqual([]);

    const failed = (await storage.getProcessed(broken.crash_id))!;
    expect(failed.processing_error).toBe('DiskFullError');
    expect(failed.notes).toContain(`processing failed ${MAX_PROCESSING_ATTEMPTS} times: DiskFullError`);
    expect(JSON.stringify(failed)).not.toContain('/secret/path');
    // MAX attempts that threw, then the save of the error record.
    expect(attempts.get(broken.crash_id)).toBe(MAX_PROCESSING_ATTEMPTS + 1);

    const recovered = (await storage.getProcessed(flaky.crash_id))!;
    expect(recovered.processing_error).toBeUndefined();
    expect(recovered.signature).toBe('RangeError: handler0 | handler1 | handler2');
    expect(processor.stats).toMatchObject({ processed: 1, failed: 1, retried: MAX_PROCESSING_ATTEMPTS });
    expect(told.map((t) => t.processed.crash_id).sort()).toEqual([broken.crash_id, flaky.crash_id].sort());
    expect(told.every((t) => t.raw.crash_id === t.processed.crash_id)).toBe(true);
  });

  it('keeps crashes queued while the disk is full, without using up their attempts, and processes and indexes them once there is space', async () => {
    const { storage, queue } = await openStore();
    const raw = rawCrash();
    await storage.saveRaw(raw, new Map());
    await queue.enqueue(raw.crash_id);
    const full = (code: string): Error => Object.assign(new Error(`${code}: no space left`), { code });
    let disk = true;
    let index = true;
    let saves = 0;
    let indexings = 0;
    const told: string[] = [];
    const logs: string[] = [];
    const processor = new BackgroundProcessor({
      storage: Object.assign(Object.create(storage) as FsCrashStorage, {
        saveProcessed: async (p: ProcessedCrash): Promise<void> => {
          saves++;
          if (disk) throw full('ENOSPC');
          await storage.saveProcessed(p);
        },
      }),
      queue,
      symbolicator: null,
      tuning: loadTuning(),
      onProcessed: (p) => {
        indexings++;
        if (index) throw full('SQLITE_FULL');
        told.push(p.crash_id);
      },
      log: (l) => logs.push(l),
      diskFullRetryMs: 10,
    });
    processor.start();
    cleanups.push(() => processor.stop());
    const until = async (what: () => boolean): Promise<void> => {
      for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(what()).toBe(true);
    };
    // Well past MAX_PROCESSING_ATTEMPTS, and still queued with no failure recorded.
    await until(() => saves > MAX_PROCESSING_ATTEMPTS + 2);
    expect(await queue.pending(10)).toEqual([raw.crash_id]);
    expect(await storage.getProcessed(raw.crash_id)).toBeNull();
    // The results can be written, but the index is full: still queued.
    disk = false;
    await until(() => indexings > MAX_PROCESSING_ATTEMPTS + 2);
    expect(await queue.pending(10)).toEqual([raw.crash_id]);
    index = false;
    await processor.idle();
    await until(() => told.length === 1);
    expect(await queue.pending(10)).toEqual([]);
    expect((await storage.getProcessed(raw.crash_id))!.processing_error).toBeUndefined();
    expect(processor.stats).toMatchObject({ processed: 1, failed: 0 });
    expect(logs.filter((l) => l.includes('crashes wait in the queue until there is space'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('results can be written again'))).toHaveLength(1);
  });

  it('does not let a failing onProcessed hook stop processing', async () => {
    const { storage, queue } = await openStore();
    const raws = [rawCrash(), rawCrash()];
    for (const r of raws) {
      await storage.saveRaw(r, new Map());
      await queue.enqueue(r.crash_id);
    }
    const logs: string[] = [];
    const processor = new BackgroundProcessor({
      storage,
      queue,
      symbolicator: null,
      tuning: loadTuning(),
      onProcessed: () => {
        throw new Error('index is read-only');
      },
      log: (l) => logs.push(l),
    });
    processor.start();
    cleanups.push(() => processor.stop());
    await processor.idle();
    for (const r of raws) expect((await storage.getProcessed(r.crash_id))?.signature).toMatch(/^TypeError: /);
    expect(logs.filter((l) => l.includes('onProcessed failed'))).toHaveLength(2);
  });
});
