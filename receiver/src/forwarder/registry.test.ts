import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { submittedHere } from './forwarder.ts';
import { AppRegistry, InvalidApp, MAX_SUBMIT_URL_CHARS, normalizeSubmitUrl, REGISTRY_FILE, REGISTRY_RECHECK_MS } from './registry.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'socorrito-registry-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AppRegistry', () => {
  it('keeps every app when two writers add at the same time', async () => {
    const a = new AppRegistry(dir, join(dir, 'tmp'));
    const b = new AppRegistry(dir, join(dir, 'tmp'));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).upsert({ guid: `app-${i}`, submitUrl: `https://r${i}.example/submit` })),
    );
    expect((await new AppRegistry(dir, join(dir, 'tmp')).list()).map((x) => x.guid).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `app-${i}`).sort(),
    );
  });

  it('sees a change another writer made, and refuses hand-edited entries that would not validate, naming them', async () => {
    const server = new AppRegistry(dir, join(dir, 'tmp'));
    expect(await server.lookup('x')).toBeNull();
    const good = { guid: 'good', submit_url: 'https://good.example', trust_files: 'yes', keep_copy: false };
    await writeFile(join(dir, REGISTRY_FILE), JSON.stringify({ version: 1, apps: [good] }));
    await new Promise((r) => setTimeout(r, REGISTRY_RECHECK_MS + 5)); // the last look at the file stands that long
    expect(await server.lookup('GOOD')).toMatchObject({ guid: 'good', submit_url: 'https://good.example/submit', trust_files: false, keep_copy: false });

    // A typo must not quietly leave an app out (one that keeps no copy here would have its crashes kept).
    for (const [bad, why] of [
      [{ guid: 'bad', submit_url: 'javascript:alert(1)' }, /entry 2 \("bad"\): submit URL must be http or https/],
      [{ guid: 'typo', 'submit-url': 'https://x.example' }, /entry 2 \("typo"\) needs "guid" and "submit_url" \(it has: guid, submit-url\)/],
      [{ guid: 'app two!', submit_url: 'https://x.example' }, /entry 2 \("app two!"\): GUID "app two!" is not a GUID/],
    ] as const) {
      await writeFile(join(dir, REGISTRY_FILE), JSON.stringify({ version: 1, apps: [good, bad] }));
      await new Promise((r) => setTimeout(r, REGISTRY_RECHECK_MS + 5));
      // A running receiver goes on with the registry it read whole, and says why.
      expect(await server.lookup('good')).toMatchObject({ guid: 'good' });
      expect(server.problem).toMatch(why);
      await expect(new AppRegistry(dir, join(dir, 'tmp')).lookup('x')).rejects.toThrow(why);
    }
  });

  it('refuses a broken registry file loudly rather than forwarding nothing silently', async () => {
    await writeFile(join(dir, REGISTRY_FILE), '{ not json');
    await expect(new AppRegistry(dir, join(dir, 'tmp')).lookup('x')).rejects.toThrow(/Could not read the app registry/);
  });

  it('collects every problem of an entry', async () => {
    const err = await new AppRegistry(dir, join(dir, 'tmp')).upsert({ guid: '', submitUrl: 'ftp://x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidApp);
    expect((err as InvalidApp).problems).toHaveLength(2);
  });
});

describe('submit URLs from crashes', () => {
  it('reads no SubmitURL longer than a real address, and compares one ending in many slashes at once', () => {
    const long = `https://forward.example/${'/'.repeat(200_000)}a/submit`;
    expect(normalizeSubmitUrl(long)).toEqual({ problem: `submit URL is over ${MAX_SUBMIT_URL_CHARS} characters` });
    expect(submittedHere(long, 'forward.example/submit')).toBe(false);
    expect(submittedHere('https://forward.example/submit/', 'forward.example/submit//')).toBe(true);
    expect(submittedHere(`https://forward.example/${'/'.repeat(1000)}`, `forward.example${'/'.repeat(100_000)}x`)).toBe(false);
  });
});
