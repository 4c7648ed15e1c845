// The source map API, the ways a frame finds its map (URL, debug ID, inline data:, remote
// fetch), the notes on frames that stay minified, and reprocessing, against a real receiver.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { buildShop, serveStatic, type ShopBuild } from './build-app.ts';
import { auth, waitProcessed } from './helpers.ts';

const GUID = '3c9d2a41-8b7e-4f60-a1d2-5e6f7a8b9c0d';
/** A well-formed crash ID no receiver here stores. */
const ABSENT = 'bp-00000000-0000-4000-8000-000000261129';
const run = promisify(execFile);

interface UploadEntry {
  url: string;
  data: string | Uint8Array;
}

async function upload(receiver: TestReceiver, app: string, release: string, files: UploadEntry[], replace = false): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('app', app);
  form.append('release', release);
  if (replace) form.append('replace', 'true');
  for (const f of files) {
    form.append('url', f.url);
    form.append('file', new Blob([f.data as BlobPart]), 'file');
  }
  const res = await fetch(`${receiver.url}/api/sourcemaps`, { method: 'POST', body: form, headers: auth });
  return { status: res.status, body: await res.json() };
}

/** A Firefox-style stack whose top frame is the bug in the built shop script at `scriptUrl`. */
function stackFor(script: string, scriptUrl: string): string {
  const column = script.indexOf('this.items.reduce') + 1;
  const line = script.slice(0, column).split('\n').length;
  const col = column - script.slice(0, column).lastIndexOf('\n') - 1;
  return `total@${scriptUrl}:${line}:${col}\n@${scriptUrl}:${line}:1\n`;
}

async function crash(receiver: TestReceiver, release: string, stack: string): Promise<string> {
  const res = await submitCrash(`${receiver.url}/submit`, { ProductName: 'Shop', Version: release, WebAppGUID: GUID, JSErrorType: 'TypeError', JSErrorMessage: 'x is undefined', JSStack: stack }, []);
  expect(res.status, res.body).toBe(200);
  return res.crashId!;
}

describe('source map API and map lookup', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let receiver: TestReceiver;
  let shop: ShopBuild;
  let script: string;
  let map: string;

  beforeAll(async () => {
    work = await tempDir('socorrito-maps-api-');
    shop = await buildShop(work.path, 'a');
    script = await readFile(join(shop.outDir, shop.script), 'utf8');
    map = await readFile(join(shop.outDir, `${shop.script}.map`), 'utf8');
    receiver = await startTestReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
    await work?.cleanup();
  });

  it('needs the admin token', async () => {
    const res = await fetch(`${receiver.url}/api/sourcemaps`);
    expect(res.status).toBe(401);
    const post = await fetch(`${receiver.url}/api/sourcemaps`, { method: 'POST', body: new FormData() });
    expect(post.status).toBe(401);
  });

  it('says a compressed upload is not supported, rather than that its multipart is broken', async () => {
    const res = await fetch(`${receiver.url}/api/sourcemaps`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip' },
      body: new Uint8Array([0x1f, 0x8b, 8, 0]),
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: 'unsupported_content_encoding', message: 'Content-Encoding "gzip" is not supported here; send the upload uncompressed' });
  });

  it('refuses path tricks in app GUIDs, releases and file names, and writes nothing outside the store', async () => {
    const bad = await upload(receiver, '../../etc', '1.0', [{ url: '~/a.js', data: 'x' }]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_app');
    expect((await upload(receiver, GUID, '..', [{ url: '~/a.js', data: 'x' }])).body.error).toBe('bad_release');
    expect((await upload(receiver, GUID, '1.0/../../x', [{ url: '~/a.js', data: 'x' }])).body.error).toBe('bad_release');
    const files = await upload(receiver, GUID, 'tricks', [
      { url: '~/static/../../../../etc/passwd', data: 'x' },
      { url: '~/static/a\\..\\b.js', data: 'x' },
      { url: 'file:///etc/passwd', data: 'x' },
      { url: '~/static/ok.js', data: 'var ok = 1;\n' },
      { url: '~/static/broken.js.map', data: '{"not": "a map"}' },
    ]);
    expect(files.status).toBe(200);
    expect(files.body.stored.map((s: { key: string }) => s.key)).toEqual(['~/static/ok.js']);
    expect(files.body.rejected.map((r: { name: string }) => r.name)).toEqual([
      '~/static/../../../../etc/passwd',
      '~/static/a\\..\\b.js',
      'file:///etc/passwd',
      '~/static/broken.js.map',
    ]);
    // On disk: only the manifest and content-named files.
    const onDisk = await readdir(join(receiver.dataDir, 'sourcemaps', GUID, 'tricks'), { recursive: true });
    expect(onDisk.sort()).toEqual(['files', `files/${files.body.stored[0].sha256}`, 'manifest.json']);
    const del = await fetch(`${receiver.url}/api/sourcemaps?app=${GUID}&release=..`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(400);
  });

  it('symbolicates by URL path with ~/ for any origin; lists, replaces and deletes releases', async () => {
    const first = await upload(receiver, GUID, '2.0', [
      { url: `~/static/${shop.script}`, data: script },
      { url: `~/static/${shop.script}.map`, data: map },
      { url: '~/static/old.js', data: 'var old = 1;\n' },
    ]);
    expect(first.status).toBe(200);
    const id = await crash(receiver, '2.0', stackFor(script, `https://cdn.shop.example/static/${shop.script}`));
    const p = await waitProcessed(receiver.url, id);
    expect(p.frames[0]!.original).toMatchObject({ line: shop.lines.reduce, function: 'Cart.total' });
    // The map sits in dist-a/static/ and names `../../src-a/cart.ts`: shown as the app's path.
    expect(JSON.parse(map).sources).toContain('../../src-a/cart.ts');
    expect(p.frames[0]!.original!.file).toBe('src-a/cart.ts');

    // Re-uploading the release with replace drops what is not in the new upload.
    const second = await upload(receiver, GUID, '2.0', [{ url: `~/static/${shop.script}`, data: script }, { url: `~/static/${shop.script}.map`, data: map }], true);
    expect(second.body.removed).toEqual(['~/static/old.js']);
    const list = (await (await fetch(`${receiver.url}/api/sourcemaps?app=${GUID}&release=2.0`, { headers: auth })).json()) as { releases: { files: { key: string }[] }[] };
    expect(list.releases[0]!.files.map((f) => f.key).sort()).toEqual([`~/static/${shop.script}`, `~/static/${shop.script}.map`]);

    const del = await fetch(`${receiver.url}/api/sourcemaps?app=${GUID}&release=2.0`, { method: 'DELETE', headers: auth });
    expect(((await del.json()) as { deleted: number }).deleted).toBe(2);
    const after = (await (await fetch(`${receiver.url}/api/sourcemaps?app=${GUID}&release=2.0`, { headers: auth })).json()) as { releases: unknown[] };
    expect(after.releases).toEqual([]);
  });

  it('finds a map by debug ID, even one uploaded under another name and release', async () => {
    const debugId = '85314830-023f-4cf1-a267-535f4e37bb17';
    const withId = `${script.replace(/\/\/# sourceMappingURL=.*\n/, '')}//# debugId=${debugId}\n`;
    const mapWithId = JSON.stringify({ ...JSON.parse(map), debugId });
    expect((await upload(receiver, GUID, '3.0', [{ url: '~/static/app.js', data: withId }])).status).toBe(200);
    expect((await upload(receiver, GUID, 'maps-only', [{ url: '~/elsewhere/some-name.map', data: mapWithId }])).status).toBe(200);
    const id = await crash(receiver, '3.0', stackFor(withId, 'https://shop.example/static/app.js'));
    const p = await waitProcessed(receiver.url, id);
    expect(p.frames[0]!.original).toMatchObject({ line: shop.lines.reduce, function: 'Cart.total' });
  });

  it('uses an inline data: map with no map upload', async () => {
    const inline = `${script.replace(/\/\/# sourceMappingURL=.*\n/, '')}//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString('base64')}\n`;
    expect((await upload(receiver, GUID, '4.0', [{ url: '~/static/inline.js', data: inline }])).status).toBe(200);
    const id = await crash(receiver, '4.0', stackFor(inline, 'https://shop.example/static/inline.js'));
    const p = await waitProcessed(receiver.url, id);
    expect(p.frames[0]!.original).toMatchObject({ line: shop.lines.reduce, function: 'Cart.total' });
    expect(p.frames[0]!.original!.context!.line).toContain('reduce');
  });

  it('says why a frame stayed minified: no map, a broken map refused at upload, position outside the map, extension code', async () => {
    const broken = JSON.stringify({ version: 3, sources: ['a.js'], names: [], mappings: 'AAAA,!!!!;;;' });
    const uploaded = await upload(receiver, GUID, '5.0', [
      { url: '~/static/broken.js', data: 'var x;\n//# sourceMappingURL=broken.js.map\n' },
      { url: '~/static/broken.js.map', data: broken },
      { url: '~/static/named.js', data: 'var y;\n//# sourceMappingURL=maps/named.js.map\n' },
      { url: '~/static/static/near.js', data: 'var z;\n' },
      { url: `~/static/${shop.script}`, data: script },
      { url: `~/static/${shop.script}.map`, data: map },
    ]);
    // The page says 5.0, but CI uploaded this script under its own release names.
    for (const release of ['5.0-rc1', '5.0-rc2']) await upload(receiver, GUID, release, [{ url: '~/static/elsewhere.js', data: 'var e;\n' }]);
    // An older release has near.js at the right path (a bundler kept its hashed name), but this
    // release has it under another: the path is the mistake to name.
    await upload(receiver, GUID, '4.9', [{ url: '~/static/near.js', data: 'var z;\n' }]);
    const stack = [
      'a@https://shop.example/static/missing.js:1:10',
      'b@https://shop.example/static/broken.js:1:5',
      `c@https://shop.example/static/${shop.script}:400:1`,
      'd@moz-extension://1234-abcd/content.js:3:4',
      'e@https://shop.example/static/missing.js:1:20',
      'f@https://shop.example/static/named.js:1:3',
      `g@https://shop.example/static/${shop.script}:1:99999`,
      'h@https://shop.example/static/near.js:1:1',
      'i@https://shop.example/static/elsewhere.js:1:1',
    ].join('\n');
    const id = await crash(receiver, '5.0', stack);
    const p = await waitProcessed(receiver.url, id);
    const notes = p.frames.map((f) => f.notes?.join(' ') ?? '');
    expect(notes[0]).toBe('no source map for ~/static/missing.js in release 5.0 of this app (upload it with --release 5.0, then run socorrito reprocess)');
    expect(uploaded.body.rejected).toEqual([
      { name: '~/static/broken.js.map', reason: 'a broken source map: "mappings" at generated line 1, segment 2: "!" is not a base64 digit' },
    ]);
    expect(notes[1]).toBe('no source map for ~/static/broken.js in release 5.0: the script names ~/static/broken.js.map, which is not uploaded (or was refused)');
    expect(notes[2]).toMatch(/position 400:1 is outside the source map/);
    expect(notes[3]).toMatch(/browser, extension or built-in code/);
    expect(notes[5]).toBe('no source map for ~/static/named.js in release 5.0: the script names ~/static/maps/named.js.map, which is not uploaded (or was refused)');
    const firstLine = script.split('\n')[0]!.length;
    expect(notes[6]).toBe(`position 1:99999 is past the end of line 1 of the uploaded script (${firstLine} characters): the stack and the uploaded script are from different builds`);
    expect(notes[7]).toBe('no source map for ~/static/near.js in release 5.0 of this app; this release has that file name at ~/static/static/near.js (check --url-prefix)');
    expect(notes[8]).toBe(
      "no source map for ~/static/elsewhere.js in release 5.0 of this app; that file is uploaded for releases 5.0-rc2, 5.0-rc1 (check that the page's release matches upload-sourcemaps --release)",
    );
    expect(p.frames.map((f) => f.category)).toEqual(['app', 'app', 'app', 'noise', 'app', 'app', 'app', 'app', 'app']);
    expect(p.frames.every((f) => !f.original)).toBe(true);

    // Without a Version there is no release to look in; the note says which is missing.
    const noVersion = await waitProcessed(receiver.url, await crash(receiver, '', 'a@https://shop.example/static/missing.js:1:10'));
    expect(noVersion.frames[0]!.notes).toEqual(['no source map: the crash has no Version to find uploaded maps by']);
  });

  it('reprocesses crashes once maps arrive late (API, by app and release)', async () => {
    const id = await crash(receiver, '6.0', stackFor(script, `https://shop.example/static/${shop.script}`));
    const before = await waitProcessed(receiver.url, id);
    expect(before.frames[0]!.original).toBeUndefined();
    await upload(receiver, GUID, '6.0', [{ url: `~/static/${shop.script}`, data: script }, { url: `~/static/${shop.script}.map`, data: map }]);
    const res = await fetch(`${receiver.url}/api/reprocess`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ app: GUID, release: '6.0' }) });
    expect(((await res.json()) as { queued: number }).queued).toBe(1);
    const after = await waitProcessed(receiver.url, id, 30_000, before.processed_at);
    expect(after.frames[0]!.original).toMatchObject({ function: 'Cart.total' });
    expect(after.signature).toBe('TypeError: Cart.total');
  });

  it('reprocess API: bp- crash IDs back in both forms, unknown IDs reported, bad bodies refused plainly', async () => {
    const post = async (body: string, contentType = 'application/json'): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${receiver.url}/api/reprocess`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body });
      return { status: res.status, body: await res.json() };
    };
    const id = await crash(receiver, '6.5', stackFor(script, `https://shop.example/static/${shop.script}`));
    await waitProcessed(receiver.url, id);
    const byApp = await post(JSON.stringify({ app: GUID, release: '6.5' }));
    expect(id).toMatch(/^bp-/);
    expect(byApp).toEqual({ status: 200, body: { queued: 1, crash_ids: [id] } });
    // With or without the prefix, the same crash, answered with it.
    const byId = await post(JSON.stringify({ crash_ids: [id, id.slice('bp-'.length)] }));
    expect(byId).toEqual({ status: 200, body: { queued: 1, crash_ids: [id], unknown: [] } });
    const absent = 'bp-00000000-0000-4000-8000-000000261129';
    const some = await post(JSON.stringify({ crash_ids: [id, absent, 'not-a-crash-id'] }));
    expect(some).toEqual({ status: 200, body: { queued: 1, crash_ids: [id], unknown: [absent, 'not-a-crash-id'] } });
    const none = await post(JSON.stringify({ crash_ids: [absent] }));
    expect(none).toEqual({ status: 404, body: { error: 'not_found', message: `no crash named is stored here: ${absent}`, queued: 0, crash_ids: [], unknown: [absent] } });
    for (const [body, type] of [['{"app": ', 'application/json'], ['app=x', 'text/plain'], ['[1, 2]', 'application/json'], ['null', 'application/json']]) {
      const bad = await post(body!, type);
      expect(bad.status, body).toBe(400);
      expect(bad.body.error, body).toBe('bad_json');
    }
    expect((await post(JSON.stringify({ crash_ids: 'bp-x' }))).body.error).toBe('bad_crash_ids');
    expect((await post('')).body.error).toBe('missing_app');
    // Apps without a GUID are reprocessed by their index key, as the apps page names them.
    const noGuid = await submitCrash(`${receiver.url}/submit`, { ProductName: 'No GUID Shop', JSErrorType: 'Error', JSErrorMessage: 'x', JSStack: 'f@https://a.example/a.js:1:1' }, []);
    await waitProcessed(receiver.url, noGuid.crashId!);
    expect(await post(JSON.stringify({ app: 'product:No GUID Shop' }))).toEqual({ status: 200, body: { queued: 1, crash_ids: [noGuid.crashId] } });
  });

  it('fetches the script and map from an allowed origin when nothing was uploaded (off by default, loopback only when allowed)', async () => {
    const site = await serveStatic([shop.outDir]);
    const fetching = await startTestReceiver({ fetchSourcesFrom: [site.url], fetchAllowPrivate: true });
    const refusing = await startTestReceiver({ fetchSourcesFrom: [site.url] });
    try {
      const stack = stackFor(script, `${site.url}/static/${shop.script}`);
      const fetched = await waitProcessed(fetching.url, await crash(fetching, '7.0', stack));
      expect(fetched.frames[0]!.original).toMatchObject({ line: shop.lines.reduce, function: 'Cart.total' });
      const refused = await waitProcessed(refusing.url, await crash(refusing, '7.0', stack));
      expect(refused.frames[0]!.original).toBeUndefined();
      expect(refused.frames[0]!.notes!.join(' ')).toMatch(/private_address/);
      // The default receiver never fetches.
      const off = await waitProcessed(receiver.url, await crash(receiver, '7.0', stack));
      expect(off.frames[0]!.notes!.join(' ')).toMatch(/no source map for/);
      const otherOrigin = await waitProcessed(fetching.url, await crash(fetching, '7.0', stack.replaceAll(site.url, 'http://127.0.0.2:9')));
      expect(otherOrigin.frames[0]!.notes!.join(' ')).toMatch(/origin_not_allowed/);
      // Made-up queries do not make it fetch the script again, and a stack naming more scripts
      // than a page loads is looked up for the first ones only.
      const fetchedBefore = site.requested.length;
      const scriptUrl = `${site.url}/static/${shop.script}`;
      const busting = Array.from({ length: 40 }, (_, i) => stackFor(script, `${scriptUrl}?v=${i}`).split('\n')[0]).join('\n');
      const busted = await waitProcessed(fetching.url, await crash(fetching, '7.0', busting));
      expect(busted.frames[0]!.original).toMatchObject({ function: 'Cart.total' });
      expect(site.requested.slice(fetchedBefore)).toEqual([]); // the script and its map were fetched before, for this crash's first
      const many = Array.from({ length: 30 }, (_, i) => `f${i}@${site.url}/static/other${i}.js:1:1`).join('\n');
      const manyScripts = await waitProcessed(fetching.url, await crash(fetching, '7.0', many));
      expect(manyScripts.frames.slice(25).every((f) => f.notes?.[0] === 'not symbolicated: the stack names over 25 scripts, and this is one more')).toBe(true);
      expect(new Set(site.requested.slice(fetchedBefore).filter((u) => u.includes('/other')).map((u) => u.replace(/\.map$/, ''))).size).toBe(25);
    } finally {
      await fetching.stop();
      await refusing.stop();
      await site.close();
    }
  });

  it('refuses fetched files over the size limit', async () => {
    const site = await serveStatic([shop.outDir]);
    const small = await startTestReceiver({ fetchSourcesFrom: [site.url], fetchAllowPrivate: true, fetchMaxBytes: 1024 });
    try {
      expect(script.length + map.length).toBeGreaterThan(1024);
      const p = await waitProcessed(small.url, await crash(small, '8.0', stackFor(script, `${site.url}/static/${shop.script}`)));
      expect(p.frames[0]!.original).toBeUndefined();
      expect(p.frames[0]!.notes!.join(' ')).toMatch(/too_large/);
    } finally {
      await small.stop();
      await site.close();
    }
  });

  describe('the reprocess CLI', () => {
    // One CLI process per test: each takes a second or two to start, and eleven in one test ran
    // close to its timeout on a loaded machine.
    let id: string;
    let before: Awaited<ReturnType<typeof waitProcessed>>;
    beforeAll(async () => {
      id = await crash(receiver, '9.0', stackFor(script, `https://shop.example/static/${shop.script}`));
      before = await waitProcessed(receiver.url, id);
    });

    it('reprocesses a chosen crash', async () => {
      const { stdout } = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--crash', id]);
      expect(stdout).toContain('queued 1 crash for processing');
      const after = await waitProcessed(receiver.url, id, 30_000, before.processed_at);
      expect(after.crash_id).toBe(before.crash_id);
    });

    it('reports a wrong token plainly', async () => {
      const wrong = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'nope', '--app', GUID]).catch((e: { code: number; stderr: string }) => e);
      expect((wrong as { code: number }).code).toBe(1);
      expect((wrong as { stderr: string }).stderr).toMatch(/answered 401/);
    });

    it('says when nothing matched: a plain line and exit 1, not "queued 0 crashes"', async () => {
      const nothing = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--app', GUID, '--release', 'no-such-release']).catch((e: { code: number; stderr: string }) => e);
      expect((nothing as { code: number }).code).toBe(1);
      expect((nothing as { stderr: string }).stderr).toContain(`no stored crash of app ${GUID} release no-such-release; nothing to reprocess`);
    });

    it('says when the crash asked for is not stored', async () => {
      const unknownId = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--crash', ABSENT]).catch((e: { code: number; stderr: string }) => e);
      expect((unknownId as { code: number }).code).toBe(1);
      expect((unknownId as { stderr: string }).stderr).toContain(`no stored crash with the ID ${ABSENT}; nothing to reprocess`);
    });

    it('queues the stored crashes of a mixed list, names the rest and exits 1', async () => {
      const partly = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--crash', id, '--crash', ABSENT]).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect((partly as { code: number }).code).toBe(1);
      expect((partly as { stdout: string }).stdout).toContain('queued 1 crash for processing');
      expect((partly as { stderr: string }).stderr).toContain(`not stored here, not queued: ${ABSENT}`);
    });

    it('refuses what is not a crash ID as a usage error', async () => {
      const garbage = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--crash', 'garbage']).catch((e: { code: number; stderr: string }) => e);
      expect((garbage as { code: number }).code).toBe(2);
      expect((garbage as { stderr: string }).stderr).toContain('not a crash ID (bp-<uuid> ending in the date): "garbage"');
    });

    it('says why and what to check when no receiver is at the address', async () => {
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
      const deadPort = (free.address() as { port: number }).port;
      await new Promise((r) => free.close(r));
      const down = await run(process.execPath, [CLI, 'reprocess', '--url', `http://127.0.0.1:${deadPort}`, '--token', 'x', '--app', GUID]).catch((e: { code: number; stderr: string }) => e);
      expect((down as { code: number }).code).toBe(1);
      expect((down as { stderr: string }).stderr).toMatch(/could not reach .*: ECONNREFUSED; is the receiver running there\?/);
    });

    it('after an upgrade: every stored crash, of every app, in one go (and only with the admin token)', async () => {
      const other = await submitCrash(`${receiver.url}/submit`, { ProductName: 'Other app', JSErrorType: 'Error', JSErrorMessage: 'y', JSStack: 'f@https://a.example/a.js:1:1' }, []);
      const otherBefore = await waitProcessed(receiver.url, other.crashId!);
      let stored = 0;
      for await (const _ of receiver.storage.listCrashIds()) stored++;
      const everything = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--all-apps']);
      expect(everything.stdout).toBe(`queued ${stored} crashes for processing (every app)\n`);
      expect(receiver.logs).toContain(`reprocess: every app: ${stored} crashes queued (admin)`);
      await waitProcessed(receiver.url, other.crashId!, 30_000, otherBefore.processed_at);
    });

    it('refuses --all-apps with a selection as a usage error', async () => {
      const mixed = await run(process.execPath, [CLI, 'reprocess', '--url', receiver.url, '--token', 'test-admin-token', '--all-apps', '--app', GUID]).catch((e: { code: number; stderr: string }) => e);
      expect((mixed as { code: number }).code).toBe(2);
      expect((mixed as { stderr: string }).stderr).toContain('--all-apps takes no --app, --release or --crash');
    });

    it('names what upload-sourcemaps is missing as a usage error', async () => {
      const usage = await run(process.execPath, [CLI, 'upload-sourcemaps', '--url', receiver.url]).catch((e: { code: number; stderr: string }) => e);
      expect((usage as { code: number }).code).toBe(2);
      expect((usage as { stderr: string }).stderr).toMatch(/missing --token .*--app, --release, one DIST_DIR/);
    });
  });
});
