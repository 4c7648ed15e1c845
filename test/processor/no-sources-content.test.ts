// Maps without sourcesContent (esbuild --sources-content=false, plain tsc --sourceMap) are
// common. The enclosing function is then found in the uploaded minified script and named
// through the map, so one bug keeps one signature across builds (new minified names) and
// browsers (Chrome's `n.lineTotal`, Firefox's `lineTotal`): the signature a map with sources gives.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processCrash } from '../../receiver/src/processor/process-crash.ts';
import { loadTuning, type Tuning } from '../../receiver/src/processor/tuning.ts';
import type { ProcessedCrash } from '../../receiver/src/storage/types.ts';
import { SourceMapStore } from '../../receiver/src/symbols/store.ts';
import { Symbolicator } from '../../receiver/src/symbols/symbolicate.ts';
import { tempDir } from '../helpers/receiver.ts';
import { buildCheckout, type CheckoutBuildOptions } from './build-app.ts';

const GUID = '7d2e4c10-5b8a-4f3e-9c61-0a1b2c3d4e5f';
const BUILDS: Record<string, CheckoutBuildOptions> = {
  sources: { variant: 'a', sourcesContent: true },
  a: { variant: 'a', sourcesContent: false },
  b: { variant: 'b', sourcesContent: false },
  // Class fields become `__publicField(this, "onCheckoutClick", () => …)` in the constructor.
  es2020: { variant: 'a', sourcesContent: false, target: 'es2020' },
};
const BUGS = {
  sync: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'price')" },
  custom: { type: 'ApiError', message: 'payment declined for 42' },
};

interface Built {
  url: string;
  js: string;
}

/**
 * Runs the built script in V8 (Node) and returns the stack of the error `bug(kind)` throws, as
 * Chrome would give it: without the frames of Node's own code (`runNextTicks (node:internal/…)`),
 * which appear when the await after a timer resumes from Node's timer queue.
 */
async function v8Stack(build: Built, kind: string): Promise<string> {
  const sandbox = { console: { log: () => undefined }, setTimeout } as unknown as { bug: (kind: string) => unknown };
  vm.createContext(sandbox);
  vm.runInContext(build.js, sandbox, { filename: build.url });
  try {
    await sandbox.bug(kind);
  } catch (err) {
    return ((err as Error).stack ?? '')
      .split('\n')
      .filter((line) => !/\(node:|at node:/.test(line))
      .join('\n');
  }
  throw new Error(`bug(${kind}) did not throw`);
}

/**
 * The same frames as Firefox writes them: a function by its bare name (`lineTotal@` where V8
 * says `n.lineTotal`, `l@` for `Object.l [as bug]`), `async*` for an awaiting frame, and for a
 * custom error first the frame of its constructor's `super(...)`, which V8 leaves out.
 */
function firefoxStack(v8: string, build: Built, kind: string): string {
  const frames: string[] = [];
  // Gecko names a class's constructor after the class's (minified) binding.
  if (kind === 'custom') frames.push(`${/var (\w+)=class extends Error/.exec(build.js)![1]}@${build.url}:1:${build.js.indexOf('super(') + 1}`);
  for (const m of v8.matchAll(/^\s+at (async )?(?:(.*?) \()?(https:[^)\s]+):(\d+):(\d+)\)?$/gm)) {
    if (!m[3]!.startsWith(build.url)) continue;
    const name = (m[2] ?? '').replace(/ \[as \w+\]$/, '').split('.').pop();
    frames.push(`${m[1] ? 'async*' : ''}${name}@${m[3]}:${m[4]}:${m[5]}`);
  }
  return `${frames.join('\n')}\n`;
}

describe('source maps without sourcesContent', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let symbolicator: Symbolicator;
  let tuning: Tuning;
  const builds: Record<string, Built> = {};

  beforeAll(async () => {
    work = await tempDir('socorrito-no-sources-');
    const store = new SourceMapStore(work.path, work.path);
    await store.open();
    for (const [name, options] of Object.entries(BUILDS)) {
      const { outDir, script, js } = await buildCheckout(work.path, name, options);
      const result = await store.upload(GUID, name, [
        { name: `~/static/${script}`, data: Buffer.from(js) },
        { name: `~/static/${script}.map`, data: await readFile(join(outDir, `${script}.map`)) },
      ]);
      expect(result.rejected).toEqual([]);
      builds[name] = { url: `https://shop.example/static/${script}`, js };
    }
    symbolicator = new Symbolicator({ store, cacheBytes: 16 * 1024 * 1024 });
    tuning = loadTuning();
  });
  afterAll(async () => {
    symbolicator?.close();
    await work?.cleanup();
  });

  async function process(release: string, kind: keyof typeof BUGS, stack: string): Promise<ProcessedCrash> {
    return processCrash(
      {
        crash_id: '00000000-0000-4000-8000-000000261129',
        submitted_at: new Date().toISOString(),
        annotations: { WebAppGUID: GUID, Version: release, JSErrorType: BUGS[kind].type, JSErrorMessage: BUGS[kind].message, JSStack: stack },
        files: [],
        metadata: { throttle_rule: 'test', content_encoding: 'identity' },
      },
      { symbolicator, tuning },
    );
  }

  it('builds the fixture as the trial did: no sources in the maps, other minified names in build b', async () => {
    const map = JSON.parse(await readFile(join(work.path, 'a', `${builds.a!.url.split('/').pop()}.map`), 'utf8')) as { sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
    const [a, b] = [await v8Stack(builds.a!, 'sync'), await v8Stack(builds.b!, 'sync')];
    const names = (stack: string): string[] => [...stack.matchAll(/at (\S+) \(https/g)].map((m) => m[1]!);
    expect(names(a)).not.toEqual(names(b));
  });

  it.each([
    ['sync', 'TypeError: Cart.lineTotal | Cart.total | CheckoutView.renderTotal'],
    ['custom', 'ApiError: submitOrder | CheckoutView.pay'],
  ] as const)('gives %s one signature over two builds, Chrome and Firefox, equal to the one with sourcesContent', async (kind, signature) => {
    const reference = await process('sources', kind, await v8Stack(builds.sources!, kind));
    expect(reference.signature).toBe(signature);
    for (const release of ['a', 'b', 'es2020']) {
      const chrome = await v8Stack(builds[release]!, kind);
      const firefox = firefoxStack(chrome, builds[release]!, kind);
      for (const [browser, stack] of [['Chrome', chrome], ['Firefox', firefox]]) {
        const processed = await process(release, kind, stack);
        expect(processed.signature, `${release} ${browser}:\n${stack}`).toBe(signature);
      }
      // Every frame of the bundle is named as with sources: methods with their class, the
      // class-field arrow, the plain and the async functions.
      const fromChrome = await process(release, kind, chrome);
      const bundleFrames = fromChrome.frames.filter((f) => f.original);
      expect(bundleFrames.map((f) => f.original!.function), release).toEqual(reference.frames.filter((f) => f.original).map((f) => f.original!.function));
      expect(bundleFrames.every((f) => f.notes?.includes('function name from the enclosing function in the uploaded script, named by the source map (no original source to scan)'))).toBe(true);
    }
  });

  it('names the class-field arrow and the async method as sourcesContent does', async () => {
    const processed = await process('b', 'sync', await v8Stack(builds.b!, 'sync'));
    expect(processed.frames.filter((f) => f.original).map((f) => f.original!.function)).toEqual([
      'Cart.lineTotal',
      'Cart.total',
      'CheckoutView.renderTotal',
      'onCheckoutClick',
      'bug',
    ]);
    const custom = await process('es2020', 'custom', firefoxStack(await v8Stack(builds.es2020!, 'custom'), builds.es2020!, 'custom'));
    expect(custom.frames.map((f) => f.original?.function)).toEqual(['ApiError.constructor', 'submitOrder', 'CheckoutView.pay']);
  });
});
