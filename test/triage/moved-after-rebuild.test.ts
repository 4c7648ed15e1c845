// A signature whose crashes reprocessing moved elsewhere keeps no crash; an index rebuilt from
// storage (a new index format, a lost index file) has no row for it. The status file still says
// where they went, and the page a "new signature" alert linked to keeps saying it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import { STATUS_FILE } from '../../receiver/src/triage/signature-status.ts';
import { startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { APP_GUID, daysAgo, makeCrash, signatureIdOf } from '../web/crashes.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };
const OLD = 'Error: <b>minified</b> | a | b';
const NEW = 'Error: <i>cart</i> is empty | checkout';

describe('where crashes went, after the index is rebuilt', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let r: TestReceiver;

  beforeAll(async () => {
    dir = await tempDir('socorrito-moved-');
    const { raw, processed, files } = makeCrash({ signature: NEW, app: APP_GUID, product: 'Shop', at: daysAgo(0) });
    const storage = new FsCrashStorage(dir.path);
    await storage.saveRaw(raw, files);
    await storage.saveProcessed(processed);
    const moved = { [signatureIdOf(OLD)]: [{ signature_id: signatureIdOf(NEW), signature: NEW, at: new Date().toISOString() }] };
    await writeFile(join(dir.path, STATUS_FILE), JSON.stringify({ format: 1, signatures: {}, moved }));
    r = await startTestReceiver({ dataDir: dir.path });
    await r.indexRebuilt;
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
    await dir?.cleanup();
  });

  it("keeps the emptied signature's page saying where its crashes went, escaped", async () => {
    const res = await fetch(`${r.url}/signatures/${signatureIdOf(OLD)}`, { headers: BEARER });
    const page = await res.text();
    expect(res.status).toBe(404);
    expect(page).toContain('reprocessing moved them to');
    expect(page).toContain(`<a class="sig" href="/signatures/${signatureIdOf(NEW)}">Error: &lt;i&gt;cart&lt;/i&gt; is empty | checkout</a>`);
    const api = await fetch(`${r.url}/api/signatures/${signatureIdOf(OLD)}`, { headers: BEARER });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { moved_to: { signature_id: string }[] }).moved_to.map((m) => m.signature_id)).toEqual([signatureIdOf(NEW)]);
  });
});
