// Real-world material we did not write: minified bundles shipped inside npm packages with their
// own source maps. Symbolicated positions must equal what the source-map library itself
// resolves, and function names must be the enclosing original function, not the callee named
// at the call site.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import vm from 'node:vm';
import { SourceMapConsumer } from 'source-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStack } from '../../shared/src/stack/parse.ts';
import { displaySourceName } from '../../receiver/src/symbols/source-name.ts';
import { SourceMapStore } from '../../receiver/src/symbols/store.ts';
import { Symbolicator } from '../../receiver/src/symbols/symbolicate.ts';
import { REPO_ROOT, tempDir } from '../helpers/receiver.ts';

const PACKAGES = [
  'js-yaml/dist/js-yaml.min.js',
  'esquery/dist/esquery.min.js',
  'uri-js/dist/es5/uri.all.min.js',
  'webextension-polyfill/dist/browser-polyfill.min.js',
  // No sourcesContent: positions still map, names come from the map.
  'eslint/node_modules/ajv/dist/ajv.min.js',
];
const APP = 'npm-packages';
const RELEASE = '1';
const url = (pkg: string): string => `https://cdn.example/${pkg}`;

describe('minified bundles from npm packages', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: SourceMapStore;
  let symbolicator: Symbolicator;

  beforeAll(async () => {
    work = await tempDir('socorrito-npm-maps-');
    store = new SourceMapStore(work.path, work.path);
    await store.open();
    const files = [];
    for (const pkg of PACKAGES) {
      const path = join(REPO_ROOT, 'node_modules', pkg);
      files.push({ name: `~/${pkg}`, data: await readFile(path) }, { name: `~/${pkg}.map`, data: await readFile(`${path}.map`) });
    }
    const result = await store.upload(APP, RELEASE, files);
    expect(result.rejected).toEqual([]);
    symbolicator = new Symbolicator({ store, cacheBytes: 64 * 1024 * 1024 });
  });
  afterAll(async () => {
    symbolicator?.close();
    await work?.cleanup();
  });

  it.each(PACKAGES)('%s: every sampled position equals source-map originalPositionFor', async (pkg) => {
    const raw = JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', `${pkg}.map`), 'utf8'));
    const consumer = await new SourceMapConsumer(raw);
    try {
      const generated: { line: number; column: number }[] = [];
      consumer.eachMapping((m) => generated.push({ line: m.generatedLine, column: m.generatedColumn }));
      expect(generated.length).toBeGreaterThan(500);
      const step = Math.max(1, Math.floor(generated.length / 300));
      let checked = 0;
      for (let i = 0; i < generated.length; i += step) {
        const g = generated[i]!;
        // Stack columns are 1-based; source-map's are 0-based. Probe on and just after the mapping.
        for (const column of [g.column, g.column + 1]) {
          const expected = consumer.originalPositionFor({ line: g.line, column });
          const got = await symbolicator.symbolicate({ function: null, url: url(pkg), line: g.line, column: column + 1 }, APP, RELEASE);
          if (expected.source === null) {
            expect(got.original).toBeUndefined();
            continue;
          }
          expect(got.original, `${pkg} ${g.line}:${column}`).toMatchObject({ file: displaySourceName(expected.source), line: expected.line, column: expected.column! + 1 });
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(300);
    } finally {
      consumer.destroy();
    }
  });

  async function symbolicatedThrow(pkg: string, code: string): Promise<{ names: (string | null)[]; atPosition: (string | null)[] }> {
    const js = await readFile(join(REPO_ROOT, 'node_modules', pkg), 'utf8');
    const sandbox: Record<string, unknown> = {};
    sandbox.window = sandbox;
    sandbox.self = sandbox;
    vm.createContext(sandbox);
    vm.runInContext(js, sandbox, { filename: url(pkg) });
    let stack = '';
    try {
      vm.runInContext(code, sandbox, { filename: 'https://app.example/app.js' });
    } catch (err) {
      stack = (err as Error).stack ?? '';
    }
    const frames = parseStack(stack).filter((f) => f.url === url(pkg));
    expect(frames.length).toBeGreaterThan(0);
    const raw = JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', `${pkg}.map`), 'utf8'));
    const consumer = await new SourceMapConsumer(raw);
    const names: (string | null)[] = [];
    const atPosition: (string | null)[] = [];
    for (const f of frames) {
      const s = await symbolicator.symbolicate(f, APP, RELEASE);
      const expected = consumer.originalPositionFor({ line: f.line!, column: f.column! - 1 });
      expect(s.original).toMatchObject({ file: displaySourceName(expected.source!), line: expected.line, column: expected.column! + 1 });
      expect(s.original!.context!.line.length).toBeGreaterThan(0);
      names.push(s.original!.function);
      atPosition.push(expected.name);
    }
    consumer.destroy();
    return { names, atPosition };
  }

  it('names js-yaml frames after the enclosing original functions, not the callees', async () => {
    const { names, atPosition } = await symbolicatedThrow('js-yaml/dist/js-yaml.min.js', 'jsyaml.load("a: [1, 2\\nb: }")');
    // js-yaml's loader.js: load -> loadDocuments -> readDocument -> composeNode -> ... -> throwError -> generateError.
    expect(names.slice(0, 3)).toEqual(['generateError', 'throwError', 'readFlowCollection']);
    expect(names.slice(-4)).toEqual(['composeNode', 'readDocument', 'loadDocuments', 'load']);
    // At a call site the map names the callee (throwError calls generateError): a lookup of
    // `names` alone would get these wrong.
    expect(atPosition[1]).not.toBe('throwError');
  });

  it('names esquery and uri-js frames after the enclosing original functions', async () => {
    // The minifier inlined peg$buildStructuredError into the parser; the map still points into
    // its original body (parser.js), so that is the function at that original line.
    const esquery = await symbolicatedThrow('esquery/dist/esquery.min.js', 'esquery.parse("[[[")');
    expect(esquery.names).toEqual(['peg$buildStructuredError', 'parse']);
    const uri = await symbolicatedThrow('uri-js/dist/es5/uri.all.min.js', 'URI.parse(null)');
    expect(uri.names[0]).toBe('parse');
    expect(uri.atPosition[0]).toBe('match'); // the callee at the call site
  });
});
