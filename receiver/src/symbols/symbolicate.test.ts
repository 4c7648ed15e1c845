import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMapGenerator } from 'source-map';
import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { parseStack } from '../../../shared/src/stack/parse.ts';
import { processCrash } from '../processor/process-crash.ts';
import { loadTuning } from '../processor/tuning.ts';
import { SourceMapStore } from './store.ts';
import { Symbolicator } from './symbolicate.ts';
import { REMOTE_FETCH_DEFAULTS, RemoteFetcher } from './remote.ts';

const GUID = '5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** Runs `use` with a symbolicator over a fresh store holding `files`, uploaded for release `release` of GUID. */
async function withUploads<T>(release: string, files: { name: string; data: Buffer }[], use: (symbolicator: Symbolicator) => Promise<T>, cacheBytes = 1024 * 1024): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'socorrito-sym-'));
  let symbolicator: Symbolicator | undefined;
  try {
    const store = new SourceMapStore(dir, dir);
    await store.open();
    if (files.length) await store.upload(GUID, release, files);
    symbolicator = new Symbolicator({ store, cacheBytes });
    return await use(symbolicator);
  } finally {
    symbolicator?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('Symbolicator notes', () => {
  it('says a frame lost its position because its stack line was cut, not that it never had one', async () => {
    await withUploads('1', [], async (symbolicator) => {
      const [cut] = parseStack(`Error\n    at f (https://a.example/${'a'.repeat(5000)}.js:1:2)`);
      expect((await symbolicator.symbolicate(cut!, null, null)).notes).toEqual([
        expect.stringMatching(/^not symbolicated: the frame's stack line is over 1024 characters and was cut short/),
      ]);
      const [native] = parseStack('Error\n    at Array.map (<anonymous>)');
      expect((await symbolicator.symbolicate(native!, null, null)).notes).toEqual(['not symbolicated: the frame has no script position']);
    });
  });
});

describe('Symbolicator function names without sourcesContent', () => {
  // `function x(){return y()}`, mapped at the start and at the call only: the map names the
  // callee there (`submitOrder`), and nothing says what `x` was.
  const script = 'function x(){return y()}\n//# sourceMappingURL=app.js.map\n';
  const map = (mapped: { column: number; line: number; name?: string }[]): string => {
    const generator = new SourceMapGenerator({ file: 'app.js' });
    for (const m of mapped) generator.addMapping({ generated: { line: 1, column: m.column }, original: { line: m.line, column: 0 }, source: 'app.ts', ...(m.name ? { name: m.name } : {}) });
    return generator.toString();
  };

  async function functionName(mapText: string, withScript = true, browserName = 'x'): Promise<{ name: string | null | undefined; notes: string[] }> {
    const files = [...(withScript ? [{ name: '~/app.js', data: Buffer.from(script) }] : []), { name: '~/app.js.map', data: Buffer.from(mapText) }];
    return withUploads('1', files, async (symbolicator) => {
      // Column 21 is the call `y()`.
      const result = await symbolicator.symbolicate({ function: browserName, url: 'https://a.example/app.js', line: 1, column: 21 }, GUID, '1');
      return { name: result.original?.function, notes: result.notes };
    });
  }

  it('gives no name rather than the callee at a call site when the enclosing function has no mapping of its own', async () => {
    const got = await functionName(map([{ column: 0, line: 1 }, { column: 20, line: 2, name: 'submitOrder' }]));
    expect(got.name).toBeNull();
    expect(got.notes).toContain('no original function name: the source map names no token of the enclosing function in the uploaded script');
    // The map alone, without its script: nothing to find the enclosing function in.
    const mapOnly = await functionName(map([{ column: 0, line: 1 }, { column: 9, line: 1, name: 'checkout' }, { column: 20, line: 2, name: 'submitOrder' }]), false);
    expect(mapOnly.name).toBeNull();
    expect(mapOnly.notes).toContain('no original function name: the source map has no sourcesContent, and without the script uploaded beside it the enclosing function cannot be found');
  });

  it('names the enclosing function by the map at its name token, else by its own text where the map gives no name', async () => {
    const named = await functionName(map([{ column: 0, line: 1 }, { column: 9, line: 1, name: 'checkout' }, { column: 20, line: 2, name: 'submitOrder' }]));
    expect(named.name).toBe('checkout');
    expect(named.notes).toContain('function name from the enclosing function in the uploaded script, named by the source map (no original source to scan)');
    const kept = await functionName(map([{ column: 0, line: 1 }, { column: 9, line: 1 }, { column: 20, line: 2, name: 'submitOrder' }]));
    expect(kept.name).toBe('x');
  });

  it('says when the browser names another function than the uploaded script has there: a rebuild under the same release', async () => {
    const mapText = map([{ column: 0, line: 1 }, { column: 9, line: 1, name: 'checkout' }, { column: 20, line: 2, name: 'submitOrder' }]);
    const other = await functionName(mapText, true, 'q');
    expect(other.notes).toContain(
      'the browser names this function "q", but at 1:21 the uploaded script has "x": the stack may come from another build uploaded under the same release; mapped anyway',
    );
    expect(other.name).toBe('checkout');
    // The same function as V8 and Gecko spell it says nothing; nor does a name a browser makes up.
    for (const same of ['x', 'n.x', 'async x', 'new x', 'x/<', '<instance_members_initializer>']) {
      expect((await functionName(mapText, true, same)).notes.join('\n'), same).not.toMatch(/another build/);
    }
  });
});

describe('a function known to be anonymous', () => {
  // A webpack 5 bundle as terser writes it: a click handler (an arrow in no named function) in
  // the module factory keyed 151, which Gecko calls `151/<`.
  const script = 'var m={151(t){b.on(()=>{JSON.parse(t)})}};\n//# sourceMappingURL=main.js.map\n';
  const source = 'const button = document.querySelector("#b");\non("click", () => {\n  JSON.parse(text);\n});\n';
  const mapText = (withSources: boolean): string => {
    const generator = new SourceMapGenerator({ file: 'main.js' });
    generator.addMapping({ generated: { line: 1, column: 0 }, original: { line: 1, column: 0 }, source: 'src/main.ts' });
    generator.addMapping({ generated: { line: 1, column: 15 }, original: { line: 2, column: 0 }, source: 'src/main.ts' });
    generator.addMapping({ generated: { line: 1, column: 25 }, original: { line: 3, column: 2 }, source: 'src/main.ts' });
    if (withSources) generator.setSourceContent('src/main.ts', source);
    return generator.toString();
  };
  const symbolicate = (withSources: boolean) =>
    withUploads('1', [{ name: '~/main.js', data: Buffer.from(script) }, { name: '~/main.js.map', data: Buffer.from(mapText(withSources)) }], (symbolicator) =>
      symbolicator.symbolicate({ function: '151/<', url: 'https://a.example/main.js', line: 1, column: 26 }, GUID, '1'),
    );

  it('is marked so from the original source, and from the uploaded script without it (with a note), never named after the browser', async () => {
    const scanned = await symbolicate(true);
    expect(scanned.original).toMatchObject({ file: 'src/main.ts', line: 3, function: null, anonymous: true });
    const fromScript = await symbolicate(false);
    expect(fromScript.original).toMatchObject({ function: null, anonymous: true });
    expect(fromScript.notes).toContain('no original function name: the enclosing function in the uploaded script has no name (a callback, or inlined by the minifier)');
  });
});

describe('fetching from the site as well as uploads', () => {
  it('keeps the hint about the upload (another release, another path) when fetching from the site fails too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-sym-'));
    const store = new SourceMapStore(dir, dir);
    await store.open();
    await store.upload(GUID, '2.4.0', [{ name: '~/assets/main.js', data: Buffer.from('x()\n') }]);
    // Allowed origins name another site: the page's own is refused, as in a real setup mistake.
    const remote = new RemoteFetcher({ ...REMOTE_FETCH_DEFAULTS, allowedOrigins: ['https://cdn.example'], allowPrivate: false });
    const symbolicator = new Symbolicator({ store, cacheBytes: 1024 * 1024, remote });
    try {
      const frame = { function: 'x', url: 'https://shop.example/assets/main.js', line: 1, column: 1 };
      const hinted = await symbolicator.symbolicate(frame, GUID, '2.5.0');
      expect(hinted.notes).toEqual([
        'no source map for ~/assets/main.js in release 2.5.0 of this app; that file is uploaded for release 2.4.0 ' +
          "(check that the page's release matches upload-sourcemaps --release); fetching it from the site did not help either (fetching https://shop.example/assets/main.js failed: origin_not_allowed)",
      ]);
      // Nothing uploaded anywhere: the fetch is all there is to say.
      const unknown = await symbolicator.symbolicate({ ...frame, url: 'https://shop.example/assets/other.js' }, GUID, '2.5.0');
      expect(unknown.notes).toEqual(['no uploaded source map, and fetching https://shop.example/assets/other.js failed: origin_not_allowed']);
    } finally {
      symbolicator.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a stack from another build than the one uploaded for its release', () => {
  it("makes the signature from the browser's names, and says why in the crash's notes", async () => {
    const generator = new SourceMapGenerator({ file: 'app.js' });
    for (const [column, line, name] of [[0, 1], [9, 1, 'checkout'], [20, 2, 'submitOrder']] as const) {
      generator.addMapping({ generated: { line: 1, column }, original: { line, column: 0 }, source: 'app.ts', ...(name ? { name } : {}) });
    }
    const files = [
      { name: '~/app.js', data: Buffer.from('function x(){return y()}\n//# sourceMappingURL=app.js.map\n') },
      { name: '~/app.js.map', data: Buffer.from(generator.toString()) },
    ];
    await withUploads('1', files, async (symbolicator) => {
      const crash = (stack: string) =>
        processCrash(
          {
            crash_id: createCrashId(),
            submitted_at: new Date().toISOString(),
            annotations: { ProductName: 'Shop', Version: '1', WebAppGUID: GUID, JSErrorType: 'TypeError', JSErrorMessage: 'x', JSStack: stack },
            files: [],
            metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
          },
          { symbolicator, tuning: loadTuning() },
        );
      // The build that ran: the browser's name is the script's, so the map names the function.
      const same = await crash('x@https://a.example/app.js:1:21\n');
      expect(same.signature).toBe('TypeError: checkout');
      // Another build: the browser says q where the uploaded script has x.
      const other = await crash('q@https://a.example/app.js:1:21\n');
      expect(other.signature).toBe('TypeError: q');
      expect(other.frames[0]!.original?.function).toBe('checkout');
      expect(other.notes).toContainEqual(expect.stringMatching(/^the stack is not from the build uploaded for release 1 .*the signature uses the browser's function names$/));
    });
  });
});

describe('the release in a missing-map note', () => {
  it('is quoted when spaces at its end would make it look like the release the file was uploaded for', async () => {
    await withUploads('1.0.0', [{ name: '~/app.js', data: Buffer.from('var x;\n') }], async (symbolicator) => {
      const result = await symbolicator.symbolicate({ function: 'x', url: 'https://a.example/app.js', line: 1, column: 1 }, GUID, '1.0.0 ');
      expect(result.notes[0]).toContain('in release "1.0.0 " of this app; that file is uploaded for release 1.0.0 (');
    });
  });
});

describe('a source or script too large to scan', () => {
  /** Uploads app.js and its map for release 1 (with room in the cache for them) and symbolicates one frame of app.js. */
  const symbolicateIn = (script: string, generator: SourceMapGenerator, column: number) =>
    withUploads(
      '1',
      [
        { name: '~/app.js', data: Buffer.from(script) },
        { name: '~/app.js.map', data: Buffer.from(generator.toString()) },
      ],
      (symbolicator) => symbolicator.symbolicate({ function: 'x', url: 'https://a.example/app.js', line: 1, column }, GUID, '1'),
      64 * 1024 * 1024,
    );

  it('says why a frame of an uploaded script over 5 MiB has no original function name when the map has no sourcesContent', async () => {
    const generator = new SourceMapGenerator({ file: 'app.js' });
    generator.addMapping({ generated: { line: 1, column: 9 }, original: { line: 3, column: 2 }, source: 'app.ts', name: 'checkout' });
    const result = await symbolicateIn(`function x(){return y()}\n${'/* filler */\n'.repeat(450_000)}//# sourceMappingURL=app.js.map\n`, generator, 14);
    expect(result.original).toMatchObject({ file: 'app.ts', line: 3, function: null });
    expect(result.notes).toContain('no original function name: the uploaded script is over 5 MiB, too large to scan for its functions');
  });

  it('says why a frame of an original source over 5 MiB has no original function name', async () => {
    const generator = new SourceMapGenerator({ file: 'app.js' });
    generator.addMapping({ generated: { line: 1, column: 0 }, original: { line: 1, column: 0 }, source: 'app.ts' });
    generator.setSourceContent('app.ts', `function big() {}\n${'// filler\n'.repeat(600_000)}`);
    const result = await symbolicateIn('function x(){}\n//# sourceMappingURL=app.js.map\n', generator, 1);
    expect(result.original?.function).toBeNull();
    expect(result.notes).toContain('no original function name: the original source is over 5 MiB, too large to scan for its functions');
  });
});
