// Uploading a release again: the build before it still runs in open tabs, so its files stay
// unless the upload says --replace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../receiver/src/cli/main.ts';
import { startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { buildShop } from './build-app.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

describe('upload-sourcemaps for a release uploaded before', () => {
  let r: TestReceiver;
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('socorrito-upload-again-');
    r = await startTestReceiver();
  });
  afterAll(async () => {
    await r?.stop();
    await work?.cleanup();
  });

  const upload = async (dir: string, ...flags: string[]): Promise<{ code: number; out: string[] }> => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), env: { SOCORRITO_TOKEN: r.adminToken } };
    const code = await main(['upload-sourcemaps', '--url', r.url, '--app', GUID, '--release', '1.0', '--url-prefix', '~/static/', ...flags, dir], io);
    return { code, out };
  };
  const files = async (): Promise<string[]> => {
    const res = await fetch(`${r.url}/api/sourcemaps?app=${GUID}&release=1.0`, { headers: { authorization: `Bearer ${r.adminToken}` } });
    const body = (await res.json()) as { releases: { files: { key: string }[] }[] };
    return body.releases.flatMap((x) => x.files.map((f) => f.key)).sort();
  };

  it('keeps the earlier build\'s files by default, and removes them with --replace', async () => {
    const a = await buildShop(work.path, 'a');
    const b = await buildShop(work.path, 'b');
    expect(a.script).not.toBe(b.script);
    expect((await upload(a.outDir)).code).toBe(0);
    const second = await upload(b.outDir);
    expect(second.code).toBe(0);
    expect(second.out.at(-1)).toBe(`uploaded 2 files to app ${GUID} release 1.0`);
    expect(await files()).toEqual([`~/static/${a.script}`, `~/static/${a.script}.map`, `~/static/${b.script}`, `~/static/${b.script}.map`].sort());
    const replaced = await upload(b.outDir, '--replace');
    expect(replaced.out.at(-1)).toBe(`uploaded 2 files to app ${GUID} release 1.0; removed 2 files of the earlier upload`);
    expect(await files()).toEqual([`~/static/${b.script}`, `~/static/${b.script}.map`].sort());
    // Of the two, the last one given says, as a script's default followed by an override.
    const overridden = await upload(a.outDir, '--replace', '--no-replace');
    expect(overridden.out.at(-1)).toBe(`uploaded 2 files to app ${GUID} release 1.0`);
    expect(await files()).toEqual([`~/static/${a.script}`, `~/static/${a.script}.map`, `~/static/${b.script}`, `~/static/${b.script}.map`].sort());
    expect((await upload(b.outDir, '--no-replace', '--replace')).out.at(-1)).toBe(`uploaded 2 files to app ${GUID} release 1.0; removed 2 files of the earlier upload`);
  });
});
