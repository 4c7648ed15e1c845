import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import { nodeJournalFs } from '../../receiver/src/storage/journal-appender.ts';
import type { RawCrash } from '../../receiver/src/storage/types.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitProcessed } from '../processor/helpers.ts';

const DAY = 86_400_000;

/** A crash accepted at `at`, as the collector would have stored it then. */
function crashAt(at: Date): RawCrash {
  return {
    crash_id: createCrashId(at),
    submitted_at: at.toISOString(),
    annotations: jsCrashFields({ CrashTime: String(Math.floor(at.getTime() / 1000)) }),
    files: [],
    metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
  };
}

it('deletes crashes older than --retention-days from disk and from the index, and keeps the rest', async () => {
  const r = await startTestReceiver({ retentionDays: 30 });
  try {
    const save = async (daysAgo: number): Promise<string> => {
      const raw = crashAt(new Date(Date.now() - daysAgo * DAY));
      await r.storage.saveRaw(raw, new Map());
      return raw.crash_id;
    };
    const old = [await save(45), await save(31)];
    const recent = [await save(29), await save(0)];
    const auth = { authorization: `Bearer ${r.adminToken}` };
    const indexed = async (): Promise<number> => {
      const res = await fetch(`${r.url}/api/search?from=2000-01-01`, { headers: auth });
      return ((await res.json()) as { total: number }).total;
    };
    const deadline = Date.now() + 20_000;
    while ((await indexed()) < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(await indexed()).toBe(4);

    expect(await r.retention.sweep()).toBe(2);
    for (const id of old) expect((await fetch(`${r.url}/api/crashes/${id}`, { headers: auth })).status).toBe(404);
    for (const id of recent) expect((await fetch(`${r.url}/api/crashes/${id}`, { headers: auth })).status).toBe(200);
    expect(await indexed()).toBe(2);
    const days = await readdir(join(r.dataDir, 'crashes'));
    expect(days).toHaveLength(2);
    expect(r.logs.join('\n')).toMatch(/retention: deleted 1 crash of \d{8} \(older than 30 days\)/);
  } finally {
    await r.stop();
  }
});

// From a soak: a receiver started with crashes of an expired day still in its journal (the
// backlog of a run stopped days before) swept that day while layout was writing them into its
// folder. The sweep failed (ENOTEMPTY) and the crashes laid out after it stayed; or the sweep
// removed the folder first, and every remaining crash of the day failed its layout (ENOENT),
// retried for ever, with the heartbeat answering 500, until a restart.
it('deletes an expired day whose crashes still wait in the journal, without wedging layout', async () => {
  // Laying a crash out ends with an fsync of its day folder; on a busy disk that takes a while.
  const slowDayDirSync = {
    ...nodeJournalFs,
    async fsync(path: string) {
      if (/\/crashes\/\d{8}$/.test(path)) await new Promise((r) => setTimeout(r, 60));
      const handle = await open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
  const r = await startTestReceiver({ retentionDays: 2 }, { fs: slowDayDirSync });
  try {
    const at = new Date(Date.now() - 5 * DAY);
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) saves.push(r.storage.saveRaw(crashAt(at), new Map()));
    await Promise.all(saves);
    // Some are laid out, most still wait in the journal, a few are being laid out.
    await new Promise((res) => setTimeout(res, 300));
    expect(r.storage.backlog).toBeGreaterThan(0);
    expect(await r.retention.sweep()).toBe(400);

    // A crash of today, accepted after the sweep, is laid out and processed as usual.
    const fresh = (await submitCrash(`${r.url}/submit`, jsCrashFields({ JSErrorMessage: 'after the sweep' }), [])).crashId!;
    await waitProcessed(r.url, fresh, 20_000);
    for (const deadline = Date.now() + 12_000; r.storage.backlog > 0 && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 200));

    const expiredDay = at.toISOString().slice(0, 10).replaceAll('-', '');
    const left = await readdir(join(r.dataDir, 'crashes', expiredDay)).catch(() => [] as string[]);
    const heartbeat = await fetch(`${r.url}/__heartbeat__`);
    expect({
      leftOnDisk: left.length,
      backlog: r.storage.backlog,
      heartbeat: heartbeat.status,
      problems: r.logs.filter((l) => /^retention: could not|^storage: could not lay out/.test(l)),
    }).toEqual({ leftOnDisk: 0, backlog: 0, heartbeat: 200, problems: [] });
    expect(r.logs).toContain(`retention: deleted 400 crashes of ${expiredDay} (older than 2 days)`);
  } finally {
    await r.stop();
  }
}, 60_000);
