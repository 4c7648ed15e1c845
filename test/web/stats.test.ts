// GET /api/stats reads some of its parts from disk (the queue folder, the webhook outbox). One
// that cannot be read must not cost the others: the answer is 200 with what could be read, and
// the part that failed says what and what to do. Tests run as root, which chmod does not stop:
// a file where the folder should be does.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

let running: TestReceiver | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function stats(r: TestReceiver): Promise<{ status: number; body: Record<string, Record<string, unknown> | null> }> {
  const res = await fetch(`${r.url}/api/stats`, { headers: { authorization: 'Bearer test-admin-token' } });
  return { status: res.status, body: (await res.json()) as Record<string, Record<string, unknown> | null> };
}

/** Puts a file where the receiver keeps the folder `name`. */
async function fileInPlaceOf(r: TestReceiver, name: string): Promise<string> {
  const path = join(r.dataDir, name);
  await rm(path, { recursive: true, force: true });
  await writeFile(path, 'not a folder\n');
  return path;
}

describe('GET /api/stats', () => {
  it('answers every part, as documented, when all can be read', async () => {
    running = await startTestReceiver();
    expect((await submitCrash(`${running.url}/submit`, jsCrashFields(), [])).status).toBe(200);
    const { status, body } = await stats(running);
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['collector', 'layout', 'processing', 'alerts', 'forwarding']);
    expect(body.collector).toMatchObject({ accepted: 1 });
    expect(Object.keys(body.processing!).sort()).toEqual(['failed', 'pending', 'processed', 'queued', 'retried']);
    expect(typeof body.processing!.queued).toBe('number');
    expect(body.alerts).toEqual({ webhook: false, waiting: 0, delivered: 0, dropped: 0, left_out: 0 });
    expect(body.forwarding).toEqual({ waiting: 0, failed: 0 });
  });

  it('answers 200 when the queue folder cannot be read: queued is null, and processing says why and what to do', async () => {
    running = await startTestReceiver();
    expect((await submitCrash(`${running.url}/submit`, jsCrashFields(), [])).status).toBe(200);
    const queue = await fileInPlaceOf(running, 'queue');
    const { status, body } = await stats(running);
    expect(status).toBe(200);
    expect(body.processing).toMatchObject({ queued: null, processed: expect.any(Number), failed: expect.any(Number) });
    expect(body.processing!.error).toBe(`could not read the processing queue ${queue} (ENOTDIR): make it a folder the receiver's user can read and write`);
    // The other parts as when healthy.
    expect(body.collector).toMatchObject({ accepted: 1 });
    expect(body.layout).toEqual({ waiting: expect.any(Number) });
    expect(body.alerts).toEqual({ webhook: false, waiting: 0, delivered: 0, dropped: 0, left_out: 0 });
    expect(body.forwarding).toEqual({ waiting: 0, failed: 0 });
  });

  it('answers 200 when the webhook outbox cannot be read: waiting is null, and alerts says why and what to do', async () => {
    running = await startTestReceiver();
    const outbox = await fileInPlaceOf(running, 'webhook-outbox');
    const { status, body } = await stats(running);
    expect(status).toBe(200);
    expect(body.alerts).toEqual({
      webhook: false,
      waiting: null,
      delivered: 0,
      dropped: 0,
      left_out: 0,
      error: `could not read the webhook outbox ${outbox} (ENOTDIR): make it a folder the receiver's user can read and write; the alerts in it are counted once it can be read`,
    });
    expect(body.processing).toMatchObject({ queued: 0 });
    expect(body.processing).not.toHaveProperty('error');

    // Both at once, and back to health once the folders are folders again.
    const queue = await fileInPlaceOf(running, 'queue');
    const both = await stats(running);
    expect(both.status).toBe(200);
    expect([both.body.alerts!.error, both.body.processing!.error]).toEqual([expect.stringContaining(outbox), expect.stringContaining(queue)]);
    for (const path of [outbox, queue]) {
      await rm(path);
      await mkdir(path);
    }
    const healed = await stats(running);
    expect(healed.body.alerts).toEqual({ webhook: false, waiting: 0, delivered: 0, dropped: 0, left_out: 0 });
    expect(healed.body.processing).toMatchObject({ queued: 0 });
    expect(healed.body.processing).not.toHaveProperty('error');
  });
});
