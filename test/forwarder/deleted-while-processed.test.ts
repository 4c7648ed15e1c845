/**
 * A master that keeps no copy of an app's crashes deletes each once it is forwarded, maybe while
 * the processor works on it: the copy goes before its queue entry (a stop in between must not
 * leave a stored crash nobody will process), so the processor can find the crash gone with its
 * entry still there. That is the deletion, not a crash queued and never stored.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { heldFs } from '../helpers/held-fs.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';
import { crashesOn, FAST_RETRY, perTest, registerApp, submitTo } from './helpers.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10'; // jsCrashFields' WebAppGUID
const { receiver, cleanups } = perTest();

it('a crash forwarded and deleted while it is processed leaves the queue quietly', async () => {
  // Held while asked: the processed crash's rename into its folder, and the journal's new segment
  // the deletion begins (after the copy's folder went, before its queue entry goes).
  const { fs, holds, processedWaiting, openJournal, release } = heldFs();
  const master = await startTestReceiver({ ...FAST_RETRY }, { fs });
  cleanups.push(async () => {
    release();
    await master.stop();
  });
  const priv = await receiver();
  await registerApp(master, GUID, `${priv.url}/submit`, { keep_copy: false });

  // From now on (the segment in use was opened already): the deletion stops after the copy went.
  holds.journal = true;
  holds.processed = true;
  const id = await submitTo(master, { JSErrorMessage: 'forwarded while processed' });
  const bare = id.replace(/^bp-/, '');
  const folder = join(master.dataDir, 'crashes', `20${bare.slice(-6)}`, bare);
  const entry = join(master.dataDir, 'queue', bare);
  await waitFor('on the private receiver', async () => (await crashesOn(priv)).length === 1);
  await waitFor('the master copy gone', () => !existsSync(folder));
  // The processor finds its crash gone (before it read it, or while it saved its results) with
  // the queue entry still there, as the deletion has not reached it, and is done with it.
  holds.processed = false;
  for (const go of processedWaiting.splice(0)) go();
  await waitFor('the queue entry gone', () => !existsSync(entry));
  expect(master.logs.filter((l) => l.includes('forwarded to'))).toEqual([]);
  openJournal();
  await master.processing.processor.idle();
  expect(master.logs.filter((l) => l.includes('queued but not stored'))).toEqual([]);
  await waitFor('the deletion logged', () => master.logs.some((l) => l.includes(`${id} forwarded to`) && l.includes('master copy deleted')));
});
