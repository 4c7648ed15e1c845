// A reprocess asked for while the crash is being processed: the processing in hand read the
// release's maps before they were uploaded, so the crash must be processed once more, not have
// its fresh queue entry taken away with the old one. The processing is held at its fetch of the
// script from the site (a real HTTP server that answers when the test says).
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessedCrash } from '../../receiver/src/storage/types.ts';
import { startTestReceiver, tempDir } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { buildShop } from './build-app.ts';
import { auth, waitProcessed } from './helpers.ts';

const GUID = '5a7c1e90-2b4d-4f8a-9c3e-6d1f0b2a4c8e';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A site whose scripts answer 404, each request held until `release()`; `asked` resolves at the first. */
async function heldSite(): Promise<{ url: string; asked: Promise<string>; release: () => void; close: () => Promise<void> }> {
  const held: ServerResponse[] = [];
  let released = false;
  let tellAsked!: (path: string) => void;
  const asked = new Promise<string>((r) => (tellAsked = r));
  const server = createServer((req, res) => {
    tellAsked(req.url ?? '');
    if (released) res.writeHead(404).end('not found');
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    release: () => {
      released = true;
      for (const res of held.splice(0)) res.writeHead(404).end('not found');
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('a reprocess asked for while the crash is processed', () => {
  it('processes the crash again, with the source map uploaded meanwhile, and only then drops its entry', async () => {
    const work = await tempDir('socorrito-reprocess-while-');
    cleanups.push(work.cleanup);
    const shop = await buildShop(work.path, 'a');
    const script = await readFile(join(shop.outDir, shop.script), 'utf8');
    const map = await readFile(join(shop.outDir, `${shop.script}.map`), 'utf8');
    const site = await heldSite();
    cleanups.push(site.close);
    const receiver = await startTestReceiver({ fetchSourcesFrom: [site.url], fetchAllowPrivate: true });
    cleanups.push(receiver.stop);

    const scriptUrl = `${site.url}/static/${shop.script}`;
    const column = script.indexOf('this.items.reduce') + 1;
    const line = script.slice(0, column).split('\n').length;
    const col = column - script.slice(0, column).lastIndexOf('\n') - 1;
    const submitted = await submitCrash(
      `${receiver.url}/submit`,
      { ProductName: 'Shop', Version: '1.0', WebAppGUID: GUID, JSErrorType: 'TypeError', JSErrorMessage: 'x is undefined', JSStack: `total@${scriptUrl}:${line}:${col}\n` },
      [],
    );
    expect(submitted.status).toBe(200);
    const id = submitted.crashId!;

    // No map was uploaded, so the processor asks the site for the script: it waits there now.
    expect(await site.asked).toBe(`/static/${shop.script}`);
    const form = new FormData();
    form.append('app', GUID);
    form.append('release', '1.0');
    for (const [url, data] of [
      [`~/static/${shop.script}`, script],
      [`~/static/${shop.script}.map`, map],
    ] as const) {
      form.append('url', url);
      form.append('file', new Blob([data]), 'file');
    }
    expect((await fetch(`${receiver.url}/api/sourcemaps`, { method: 'POST', body: form, headers: auth })).status).toBe(200);
    const reprocess = await fetch(`${receiver.url}/api/reprocess`, { method: 'POST', body: JSON.stringify({ crash_ids: [id] }), headers: { ...auth, 'content-type': 'application/json' } });
    expect(await reprocess.json()).toEqual({ queued: 1, crash_ids: [id], unknown: [] });

    // The fetch fails: the processing in hand ends without the map, as it began.
    site.release();
    await receiver.processing.processor.idle();
    const body = (await (await fetch(`${receiver.url}/api/crashes/${id}`, { headers: auth })).json()) as { processed: ProcessedCrash };
    expect(body.processed.frames[0]!.original).toMatchObject({ function: 'Cart.total', line: shop.lines.reduce });
    expect(body.processed.signature).toContain('Cart.total');
    // Twice, no more, and the entry is gone once the second processing is done.
    expect(receiver.processing.processor.stats.processed).toBe(2);
    expect(await readdir(join(receiver.dataDir, 'queue'))).toEqual([]);

    // Without a reprocess asked for meanwhile, a crash is processed once.
    const another = await submitCrash(
      `${receiver.url}/submit`,
      { ProductName: 'Shop', Version: '1.0', WebAppGUID: GUID, JSErrorType: 'TypeError', JSErrorMessage: 'y is undefined', JSStack: `total@${scriptUrl}:${line}:${col}\n` },
      [],
    );
    expect(another.status).toBe(200);
    await waitProcessed(receiver.url, another.crashId!);
    await receiver.processing.processor.idle();
    expect(receiver.processing.processor.stats.processed).toBe(3);
    expect(await readdir(join(receiver.dataDir, 'queue'))).toEqual([]);
  });
});
