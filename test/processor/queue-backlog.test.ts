/**
 * The queue's read-ahead with the real processor loop: a long queue left by a previous
 * run, crashes that throw (left queued for retry, #attempts), crashes deleted while queued, and
 * new arrivals (one of an older day) while it works. Every crash must be processed exactly once
 * or deliberately dropped, and the queue must end empty.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { BackgroundProcessor } from '../../receiver/src/processor/runner.ts';
import { loadTuning } from '../../receiver/src/processor/tuning.ts';
import { FsWorkQueue } from '../../receiver/src/storage/fs-queue.ts';
import type { CrashStorage, ProcessedCrash, RawCrash } from '../../receiver/src/storage/types.ts';
import { jsCrashFields } from '../helpers/submit.ts';

const DAY = 86_400_000;

function raw(id: string): RawCrash {
  return {
    crash_id: id,
    submitted_at: new Date().toISOString(),
    annotations: jsCrashFields({}),
    files: [],
    metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
  };
}

describe('the processor draining a long queue', () => {
  it('processes a long backlog, retries, deletions and arrivals, and leaves nothing queued', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-backlog-'));
    try {
      await mkdir(join(dir, 'tmp'));
      const queue = new FsWorkQueue(dir, join(dir, 'tmp'));
      await queue.open();
      const stored = new Map<string, RawCrash>();
      const processed = new Map<string, number>();
      const flaky = new Map<string, number>(); // id -> throws left
      const storage = {
        getRaw: async (id: string) => {
          const left = flaky.get(id) ?? 0;
          if (left > 0) {
            flaky.set(id, left - 1);
            throw new Error('transient');
          }
          return stored.get(id) ?? null;
        },
        saveProcessed: async (p: ProcessedCrash) => {
          processed.set(p.crash_id, (processed.get(p.crash_id) ?? 0) + 1);
        },
      } as unknown as CrashStorage;
      // 5,300 from a previous run, over three old days; every 97th throws twice before it works.
      const backlog = Array.from({ length: 5_300 }, (_, i) => createCrashId(new Date(Date.now() - (2 + (i % 3)) * DAY)));
      for (let i = 0; i < backlog.length; i += 500) {
        await Promise.all(backlog.slice(i, i + 500).map((id) => writeFile(join(dir, 'queue', id), '1\n')));
      }
      backlog.forEach((id, i) => {
        stored.set(id, raw(id));
        if (i % 97 === 0) flaky.set(id, 2);
      });
      // One queued and never stored (not deleted): the processor says so.
      const lost = createCrashId(new Date(Date.now() - 2 * DAY));
      await writeFile(join(dir, 'queue', lost), '1\n');
      const logs: string[] = [];
      const processor = new BackgroundProcessor({ storage, queue, symbolicator: null, tuning: loadTuning(), idlePollMs: 50, log: (l) => logs.push(l) });
      processor.start();
      // While it works: arrivals (today, and one of ten days ago), and deletions of queued crashes.
      const arrivals: string[] = [];
      const deleted: string[] = [];
      for (let i = 0; i < 200; i++) {
        const id = createCrashId(new Date(Date.now() - (i === 100 ? 10 * DAY : 0)));
        stored.set(id, raw(id));
        await queue.enqueue(id);
        processor.wake();
        arrivals.push(id);
        if (i % 20 === 0) {
          const victim = backlog[backlog.length - 1 - i]!;
          // As the API and the forwarder delete: the queue told first, then storage, then the entry.
          queue.deleting(victim);
          stored.delete(victim);
          await queue.done(victim);
          deleted.push(victim);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await processor.idle();
      // idle() resolves on one empty read: look a second time after a poll.
      await new Promise((r) => setTimeout(r, 200));
      await processor.idle();
      await processor.stop();
      expect(await readdir(join(dir, 'queue'))).toEqual([]);
      const expected = [...backlog, ...arrivals].filter((id) => !deleted.includes(id) || processed.has(id));
      const missing = expected.filter((id) => !processed.has(id));
      expect(missing, 'never processed').toEqual([]);
      const twice = [...processed].filter(([, n]) => n > 1).map(([id]) => id);
      expect(twice, 'processed twice').toEqual([]);
      expect(processor.stats.retried).toBeGreaterThan(0);
      // The crash queued and never stored is said; crashes deleted on purpose leave the queue
      // quietly, even when the deletion met their processing, and are not counted as processed.
      expect(logs.filter((l) => l.includes('queued but not stored'))).toEqual([`processor: ${lost} is queued but not stored; dropping it from the queue`]);
      expect(processor.stats.processed).toBe(processed.size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
