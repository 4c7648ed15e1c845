/**
 * The processing queue's read-ahead under concurrent use: no entry lost or handed out after it
 * is done, one read of a long folder per READ_AHEAD entries even while crashes arrive, and
 * entries that reached the folder some other way found at the next look. `readdir` is counted
 * (and slowed, like a big folder's) through a pass-through mock.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { nodeFsOps } from './durable.ts';
import { FsWorkQueue } from './fs-queue.ts';

const reads = vi.hoisted(() => ({ count: 0, delayMs: 0, holdRead: null as Promise<unknown> | null, holdDelete: null as Promise<unknown> | null }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    readdir: (async (...args: Parameters<typeof real.readdir>) => {
      if (!String(args[0]).endsWith('/queue')) return real.readdir(...args);
      reads.count++;
      const names = await real.readdir(...args);
      // A big folder's read takes a while (60,000 names: a quarter of a second, a360b4b says).
      if (reads.delayMs) await new Promise((r) => setTimeout(r, reads.delayMs));
      await reads.holdRead; // the folder is listed: what happens now, the names do not show
      return names;
    }) as typeof real.readdir,
    // A delete of an entry can be held, to see what a write of it does meanwhile.
    rm: (async (...args: Parameters<typeof real.rm>) => {
      if (reads.holdDelete && String(args[0]).includes('/queue/')) await reads.holdDelete;
      return real.rm(...args);
    }) as typeof real.rm,
  };
});

const DAY = 86_400_000;
const daysAgo = (n: number): string => createCrashId(new Date(Date.now() - n * DAY));

/** Queue entries written behind the queue's back (as a previous run left them), 500 at a time. */
async function writeEntries(dir: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((id) => writeFile(join(dir, 'queue', id), '1\n')));
}

describe('the processing queue', () => {
  let dir: string;
  let queue: FsWorkQueue;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'socorrito-queue-'));
    await mkdir(join(dir, 'tmp'));
    queue = new FsWorkQueue(dir, join(dir, 'tmp'));
    await queue.open();
    reads.count = 0;
    reads.delayMs = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Drains the queue as the processor does (batches of 50, each done), returning the order. */
  async function drain(onBatch?: (n: number) => Promise<void>): Promise<string[]> {
    const order: string[] = [];
    let n = 0;
    for (let batch = await queue.pending(50); batch.length; batch = await queue.pending(50)) {
      for (const id of batch) {
        order.push(id);
        await queue.done(id);
      }
      await onBatch?.(n++);
    }
    return order;
  }

  it('hands out the oldest days first, the same entries until they are done, and a new entry at once', async () => {
    const today = createCrashId(new Date());
    const older = createCrashId(new Date(Date.now() - 3 * DAY));
    await queue.enqueue(today);
    await queue.enqueue(`bp-${older}`);
    expect(await queue.pending(10)).toEqual([older, today]);
    expect(await queue.pending(1)).toEqual([older]); // a look, not a take
    await queue.done(older);
    expect(await queue.pending(10)).toEqual([today]);
    const another = createCrashId(new Date());
    await queue.enqueue(another);
    expect((await queue.pending(10)).sort()).toEqual([today, another].sort());
    await queue.done(today);
    await queue.done(another);
    expect(await queue.pending(10)).toEqual([]);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
  });

  it('reads a long queue once for many batches, and finds entries queued meanwhile when those are done', async () => {
    // Written behind the queue's back, as a previous run left them: 6,000 from two days ago.
    const old = Array.from({ length: 6_000 }, () => createCrashId(new Date(Date.now() - 2 * DAY)));
    await Promise.all(old.map((id) => writeFile(join(dir, 'queue', id), '1\n')));
    const first = await queue.pending(50);
    expect(first).toHaveLength(50);
    // Taken away behind its back too: a read of the folder would not list them any more.
    const removed = old.slice(0, 100).filter((id) => !first.includes(id));
    for (const id of removed) await rm(join(dir, 'queue', id));
    const fresh = createCrashId(new Date());
    await queue.enqueue(fresh);
    // The same read still serves: the next batch is the first one again (none of it is done).
    expect(await queue.pending(50)).toEqual(first);
    let handled = 0;
    let sawFresh = false;
    for (let batch = await queue.pending(50); batch.length; batch = await queue.pending(50)) {
      for (const id of batch) {
        if (id === fresh) sawFresh = true;
        else expect(sawFresh, 'an older day after the new crash').toBe(false);
        await queue.done(id);
        handled++;
      }
    }
    expect(sawFresh).toBe(true);
    // Every entry once: the 5,000 read first, then what the folder held after them. Those taken
    // away behind its back were handed out all the same (done without harm) when they were in
    // the first read: the folder was not read again for each batch.
    expect(handled).toBeGreaterThan(6_000 - removed.length + 1);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
  });

  it('never loses an entry, nor hands out one whose done() finished before the look, under concurrent enqueue, done and pending', async () => {
    for (const start of [0, 40, 5_060]) {
      const initial = Array.from({ length: start }, (_, i) => daysAgo(1 + (i % 5)));
      await writeEntries(dir, initial);
      const waiting = new Set(initial);
      let seq = 0;
      const doneAt = new Map<string, number>();
      const done = async (id: string): Promise<void> => {
        await queue.done(id);
        doneAt.set(id, ++seq);
      };
      const stale: string[] = [];
      let arrivals = 0;
      // Arrivals and deletions run beside the processor, not between its steps.
      const arriving = (async () => {
        for (let i = 0; i < 300; i++) {
          const id = daysAgo(Math.floor(Math.random() * 3));
          waiting.add(id);
          await queue.enqueue(id);
          arrivals++;
          if (i % 7 === 0) {
            const victim = [...waiting][Math.floor(Math.random() * waiting.size)];
            if (victim) {
              waiting.delete(victim);
              await done(victim); // DELETE /api/crashes/<id>
            }
          }
        }
      })();
      let idle = 0;
      while (idle < 3) {
        const lookedAt = seq;
        const batch = await queue.pending(50);
        if (batch.length === 0) {
          idle++;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        idle = 0;
        for (const id of batch) {
          const at = doneAt.get(id);
          if (at !== undefined && at <= lookedAt) stale.push(id);
          waiting.delete(id);
          await done(id);
        }
      }
      await arriving;
      // Whatever the arrivals left once the loop saw nothing (a short idle window).
      await drain();
      expect(await readdir(join(dir, 'queue'))).toEqual([]);
      expect(arrivals).toBe(300);
      expect(stale, 'handed out after their done() had finished').toEqual([]);
    }
  });

  it('keeps its read-ahead while crashes keep arriving (a reprocess --all-apps enqueueing, a burst)', async () => {
    const backlog = Array.from({ length: 20_000 }, () => daysAgo(2));
    await writeEntries(dir, backlog);
    let arriving = true;
    const arrivals = (async () => {
      // POST /api/reprocess enqueues one after another; the journal lays out new crashes.
      while (arriving) await queue.enqueue(daysAgo(1));
    })();
    reads.count = 0;
    reads.delayMs = 40; // what reading a folder of a few hundred thousand names costs
    let batches = 0;
    await drain(async (n) => {
      batches = n + 1;
      if (n === 200) arriving = false; // 10,000 crashes processed
    }).catch(() => undefined);
    arriving = false;
    await arrivals;
    // One read of 5,000 serves 100 batches: ~2 reads for 200 batches, plus a few after arrivals stop.
    expect(batches).toBeGreaterThan(200);
    expect(reads.count, `${reads.count} folder reads of ~20,000 names for ${batches} batches`).toBeLessThan(20);
  });

  it('keeps the entry of a crash queued again while it was processed, and of one queued as its processing ends', async () => {
    const id = daysAgo(0);
    await queue.enqueue(id);
    expect(await queue.pending(50)).toEqual([id]);
    queue.started(id);
    await queue.enqueue(id); // a reprocess asked for meanwhile
    await queue.finished(id);
    expect(await queue.pending(50)).toEqual([id]);
    expect(await readdir(join(dir, 'queue'))).toEqual([id]);
    // Processed again: nothing asked for since, so the entry goes.
    queue.started(id);
    await queue.finished(id);
    expect(await queue.pending(50)).toEqual([]);
    // Queued again while the delete that ends its processing is under way: the write comes after
    // it. The delete is held until the write lands in the folder (or, as the write waits for the
    // delete, a moment has passed).
    let landed = (): void => undefined;
    const watched = new FsWorkQueue(dir, join(dir, 'tmp'), { ...nodeFsOps, rename: async (a, b) => void (await nodeFsOps.rename(a, b), landed()) });
    await watched.enqueue(id);
    expect(await watched.pending(50)).toEqual([id]);
    watched.started(id);
    const writeLanded = new Promise<void>((r) => (landed = r));
    reads.holdDelete = Promise.race([writeLanded, new Promise((r) => setTimeout(r, 300))]);
    const ending = watched.finished(id);
    const again = watched.enqueue(id);
    await Promise.all([ending, again]);
    reads.holdDelete = null;
    expect(await readdir(join(dir, 'queue'))).toEqual([id]);
    await watched.done(id);
    // A deletion (DELETE /api/crashes/<id>) takes the entry whatever is in hand.
    queue.started(id);
    await queue.enqueue(id);
    await queue.done(id);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
    await queue.finished(id);
    expect(await queue.pending(50)).toEqual([]);
  });

  it('puts an entry of an older day queued after a read before the rest of the read-ahead, without reading again', async () => {
    // A long queue: the read-ahead holds 5,000 of these, the rest waits for the next read.
    const backlog = Array.from({ length: 6_000 }, () => daysAgo(2));
    await writeEntries(dir, backlog);
    const first = await queue.pending(50);
    expect(first.every((id) => backlog.includes(id))).toBe(true);
    const readsBefore = reads.count;
    // Reprocessing older crashes while the backlog is worked through.
    const older = [daysAgo(3), daysAgo(5), daysAgo(3)];
    for (const id of older) await queue.enqueue(id);
    const next = await queue.pending(50);
    expect(next.slice(0, 3)).toEqual([older[1], older[0], older[2]]); // by day, then as they came
    expect(next.slice(3)).toEqual(first.slice(0, 47));
    expect(reads.count).toBe(readsBefore);
    // A short queue read whole: an older day goes before it too.
    const order = await drain();
    expect(order.slice(0, 3)).toEqual(next.slice(0, 3));
    expect(new Set(order).size).toBe(order.length);
    expect(order.sort()).toEqual([...backlog, ...older].sort());
    const today = Array.from({ length: 60 }, () => daysAgo(0));
    await writeEntries(dir, today);
    expect(await queue.pending(50)).toHaveLength(50);
    const yesterday = daysAgo(1);
    await queue.enqueue(yesterday);
    expect((await queue.pending(50))[0]).toBe(yesterday);
    await drain();
  });

  it('puts an older entry queued while the folder is being read in its place too', async () => {
    await writeEntries(dir, Array.from({ length: 6_000 }, () => daysAgo(2)));
    let release!: () => void;
    reads.holdRead = new Promise<void>((r) => (release = r));
    const looking = queue.pending(50);
    while (reads.count === 0) await new Promise((r) => setImmediate(r));
    const older = daysAgo(4);
    await queue.enqueue(older);
    reads.holdRead = null;
    release();
    expect((await looking)[0]).toBe(older);
    expect(await drain()).toHaveLength(6_001);
  });

  it('finds an entry written behind its back at the idle poll (IDLE_POLL_MS "entries written by another process")', async () => {
    expect(await queue.pending(50)).toEqual([]);
    const id = daysAgo(0);
    await writeFile(join(dir, 'queue', id), '1\n');
    // The processor's idle poll every 5 s: nothing arrives through this instance meanwhile.
    expect(await queue.pending(50)).toEqual([id]);
  });

  it('finds an entry whose enqueue threw after it reached the folder (a failed directory fsync)', async () => {
    expect(await queue.pending(50)).toEqual([]);
    // The journal retries a failed layout; POST /api/reprocess answers 500. The entry is on disk.
    const id = daysAgo(0);
    const failing = new FsWorkQueue(dir, join(dir, 'tmp'), {
      writeFile: (p, d) => writeFile(p, d, { flag: 'wx' }),
      fsync: async (p) => {
        if (p.endsWith('/queue')) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      },
      rename: async (a, b) => (await import('node:fs/promises')).rename(a, b),
      mkdir: async (p) => void (await mkdir(p, { recursive: true })),
    });
    await failing.open();
    expect(await failing.pending(50)).toEqual([]);
    await expect(failing.enqueue(id)).rejects.toThrow('EIO');
    expect(await readdir(join(dir, 'queue'))).toEqual([id]);
    expect(await failing.pending(50)).toEqual([id]);
  });
});
