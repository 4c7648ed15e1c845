import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { FsWorkQueue } from './fs-queue.ts';

const DAY = 86_400_000;

describe('the processing queue', () => {
  let dir: string;
  let queue: FsWorkQueue;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'socorrito-queue-'));
    await mkdir(join(dir, 'tmp'));
    queue = new FsWorkQueue(dir, join(dir, 'tmp'));
    await queue.open();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

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
});
