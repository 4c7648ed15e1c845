/**
 * A crash deleted through the API while the processor works on it: the deletion removes the
 * stored crash before its queue entry (a stop in between must not leave a stored crash nobody
 * will process), so the processor can find the crash gone with its entry still there. That is a
 * deletion, not a crash queued and never stored, and the log must not say otherwise.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { heldFs } from '../helpers/held-fs.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { auth } from './helpers.ts';

const NOT_STORED = /queued but not stored/;

it('a crash deleted while it is processed leaves the queue quietly; one queued and never stored is still said', async () => {
  // Held while asked: the processed crash's rename into its folder, and the journal's new segment
  // the deletion begins (after the crash's folder went, before its queue entry goes).
  const { fs, holds, processedWaiting, openJournal, release } = heldFs();
  const r = await startTestReceiver({}, { fs });
  try {
    holds.processed = true;
    const sent = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: 'deleted while processed' }), []);
    expect(sent.status).toBe(200);
    const bare = sent.crashId!.replace(/^bp-/, '');
    const folder = join(r.dataDir, 'crashes', `20${bare.slice(-6)}`, bare);
    const entry = join(r.dataDir, 'queue', bare);
    await waitFor('the processed crash being saved', () => processedWaiting.length === 1);

    holds.journal = true;
    const deleting = fetch(`${r.url}/api/crashes/${sent.crashId}`, { method: 'DELETE', headers: auth });
    await waitFor('the folder gone', () => !existsSync(folder));
    expect(existsSync(entry)).toBe(true);
    // The processor finds its crash gone, its queue entry still there, and is done with it.
    holds.processed = false;
    processedWaiting.shift()!();
    await waitFor('the queue entry gone', () => !existsSync(entry));
    openJournal();
    expect((await deleting).status).toBe(200);
    expect(r.logs.filter((l) => NOT_STORED.test(l))).toEqual([]);
    expect(r.processing.processor.stats.processed).toBe(0);
    expect((await fetch(`${r.url}/api/crashes/${sent.crashId}`, { headers: auth })).status).toBe(404);

    // A queue entry whose crash never was stored is still said.
    const lost = createCrashId(new Date());
    await writeFile(join(r.dataDir, 'queue', lost), `${Date.now()}\n`);
    r.processing.processor.wake();
    await waitFor('the lost crash said', () => r.logs.includes(`processor: ${lost} is queued but not stored; dropping it from the queue`));
    expect(r.logs.filter((l) => NOT_STORED.test(l))).toHaveLength(1);
  } finally {
    release();
    await r.stop();
  }
});
