// A floor of free space on the data dir's disk: below it crashes are refused before the disk is full.
import { expect, it } from 'vitest';
import { DiskSpace } from '../../receiver/src/storage/disk-space.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

it('refuses crashes with 503 and says so in the heartbeat while the disk is under --min-free-disk', async () => {
  // More than any test machine has free.
  const r = await startTestReceiver({ minFreeDiskBytes: 1024 ** 4 });
  try {
    const res = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/^Discarded=low_disk: the disk holding .* free, under the 1024\.0 GiB kept free \(--min-free-disk\): free some space, or lower --min-free-disk; keep the crash and retry later/);
    expect(r.logs).toContainEqual(expect.stringMatching(/^collector: the disk holding .* under the 1024\.0 GiB kept free .*; until then every crash is refused \(503\)$/));
    const heartbeat = await fetch(`${r.url}/__heartbeat__`);
    expect(heartbeat.status).toBe(500);
    expect(JSON.stringify(await heartbeat.json())).toContain('--min-free-disk');
  } finally {
    await r.stop();
  }
});

it('takes crashes again once the disk has room', async () => {
  let free = 10;
  const disk = await new DiskSpace('/data', 100, async () => free).start();
  try {
    expect(disk.problem()).toBe('the disk holding /data has 10 B free, under the 100 B kept free (--min-free-disk): free some space, or lower --min-free-disk');
    free = 1000;
    await disk.check();
    expect(disk.problem()).toBeNull();
    expect(new DiskSpace('/data', 0, async () => 0).problem()).toBeNull(); // no floor
  } finally {
    disk.stop();
  }
});
