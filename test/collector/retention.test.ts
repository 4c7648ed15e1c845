import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCrashId } from '../../shared/src/crash-id.ts';
import type { RawCrash } from '../../receiver/src/storage/types.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields } from '../helpers/submit.ts';

const DAY = 86_400_000;

it('deletes crashes older than --retention-days from disk and from the index, and keeps the rest', async () => {
  const r = await startTestReceiver({ retentionDays: 30 });
  try {
    const save = async (daysAgo: number): Promise<string> => {
      const at = new Date(Date.now() - daysAgo * DAY);
      const raw: RawCrash = {
        crash_id: createCrashId(at),
        submitted_at: at.toISOString(),
        annotations: jsCrashFields({ CrashTime: String(Math.floor(at.getTime() / 1000)) }),
        files: [],
        metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
      };
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
