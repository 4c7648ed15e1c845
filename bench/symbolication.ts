// Symbolication throughput: crashes processed per second with parsed source maps cached, against
// parsing the map for every crash, for a source map of more than 1 MB, both measured in this run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SourceMapConsumer } from 'source-map';
import { processCrash } from '../receiver/src/processor/process-crash.ts';
import { loadTuning } from '../receiver/src/processor/tuning.ts';
import type { RawCrash } from '../receiver/src/storage/types.ts';
import { indexScopes } from '../receiver/src/symbols/scope.ts';
import { SourceMapStore } from '../receiver/src/symbols/store.ts';
import { Symbolicator } from '../receiver/src/symbols/symbolicate.ts';

const MIN_MAP_BYTES = 1024 * 1024;
const FRAMES_PER_CRASH = 20;
const APP = 'bench-app';
const RELEASE = '1.0.0';

/** A bundle of many small modules, minified by esbuild, whose map is over 1 MB. */
async function bigBundle(): Promise<{ js: string; map: string }> {
  const modules = 1200;
  const files: Record<string, string> = {};
  for (let m = 0; m < modules; m++) {
    files[`mod${m}.ts`] = [
      `export class Widget${m} {`,
      `  constructor(private readonly items: number[]) {}`,
      `  total(): number { return this.items.reduce((a, b) => a + b * ${m}, 0); }`,
      `  render(prefix: string): string { return \`\${prefix}: \${this.total().toFixed(2)} (${m})\`; }`,
      `}`,
      `export function make${m}(n: number): Widget${m} { const xs: number[] = []; for (let i = 0; i < n; i++) xs.push(i * ${m}); return new Widget${m}(xs); }`,
      `export const label${m} = (w: Widget${m}): string => w.render('widget ${m}');`,
    ].join('\n');
  }
  files['main.ts'] = Array.from({ length: modules }, (_, m) => `import { make${m}, label${m} } from './mod${m}.ts';`).join('\n') +
    `\n(globalThis as any).run = (i: number) => [${Array.from({ length: modules }, (_, m) => `() => label${m}(make${m}(i))`).join(', ')}][i % ${modules}]();\n`;
  const result = await build({
    stdin: { contents: files['main.ts']!, resolveDir: '/virtual', sourcefile: 'main.ts', loader: 'ts' },
    bundle: true,
    minify: true,
    sourcemap: 'external',
    outfile: '/virtual/out/app.js',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'virtual',
        setup(b) {
          b.onResolve({ filter: /^\.\/mod\d+\.ts$/ }, (args) => ({ path: args.path.slice(2), namespace: 'virtual' }));
          b.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => ({ contents: files[args.path]!, loader: 'ts' }));
        },
      },
    ],
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
  return { js, map };
}

/**
 * Reports crashes/s for full processing (parse stack, symbolicate 20 frames, classify,
 * signature) with the parsed map kept in the LRU cache, against parsing the map (and indexing
 * its sources) once for every crash, and their ratio. Each mode runs for about `seconds`.
 */
export async function benchSymbolication(log: (line: string) => void, seconds = 5): Promise<{ cachedPerSecond: number; uncachedPerSecond: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'socorrito-bench-symbols-'));
  try {
    const { js, map } = await bigBundle();
    if (map.length < MIN_MAP_BYTES) throw new Error(`bench map is only ${map.length} bytes; make the bundle bigger`);
    const store = new SourceMapStore(dir, dir);
    await store.open();
    await store.upload(APP, RELEASE, [
      { name: '~/static/app.js', data: Buffer.from(`${js}\n//# sourceMappingURL=app.js.map\n`) },
      { name: '~/static/app.js.map', data: Buffer.from(map) },
    ]);

    // Frame positions spread over the whole bundle, taken from the map itself, each named as a
    // browser names it: the bundle's own function there (checked against the uploaded script).
    const consumer = await new SourceMapConsumer(JSON.parse(map));
    const scopes = indexScopes(js);
    const positions: { line: number; column: number; name: string | null }[] = [];
    consumer.eachMapping((m) => {
      const fn = scopes?.enclosing(m.generatedLine, m.generatedColumn);
      positions.push({ line: m.generatedLine, column: m.generatedColumn + 1, name: fn?.nameToken?.text ?? null });
    });
    consumer.destroy();
    let seed = 1;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rawCrash = (i: number): RawCrash => {
      const stack = Array.from({ length: FRAMES_PER_CRASH }, () => {
        const p = positions[Math.floor(random() * positions.length)]!;
        const at = `https://shop.example/static/app.js:${p.line}:${p.column}`;
        return p.name ? `    at ${p.name} (${at})` : `    at ${at}`;
      });
      return {
        crash_id: `00000000-0000-4000-8000-${String(i).padStart(6, '0')}0261129`.slice(0, 36),
        submitted_at: new Date().toISOString(),
        annotations: { WebAppGUID: APP, Version: RELEASE, JSErrorType: 'TypeError', JSErrorMessage: 'x is undefined', JSStack: `TypeError: x is undefined\n${stack.join('\n')}` },
        files: [],
        metadata: { throttle_rule: 'bench', content_encoding: 'identity' },
      };
    };
    const tuning = loadTuning();

    const CACHE_BYTES = 256 * 1024 * 1024;
    // perCrash: a fresh symbolicator for each crash, so the map is parsed once per crash (the
    // frames of one crash still share it); else one symbolicator whose LRU keeps the parsed map.
    const measure = async (perCrash: boolean, minCrashes: number): Promise<number> => {
      let symbolicator = new Symbolicator({ store, cacheBytes: CACHE_BYTES });
      const started = performance.now();
      let done = 0;
      while (done < minCrashes || performance.now() - started < seconds * 1000) {
        if (perCrash && done > 0) {
          symbolicator.close();
          symbolicator = new Symbolicator({ store, cacheBytes: CACHE_BYTES });
        }
        const processed = await processCrash(rawCrash(done), { symbolicator, tuning });
        if (!processed.frames[0]?.original) throw new Error('bench crash was not symbolicated');
        done++;
      }
      const perSecond = (done * 1000) / (performance.now() - started);
      symbolicator.close();
      return perSecond;
    };

    log(`symbolication: map ${(map.length / 1024 / 1024).toFixed(2)} MB, ${FRAMES_PER_CRASH} frames per crash, ${seconds}s per mode`);
    const uncachedPerSecond = await measure(true, 3);
    log(`  parse map per crash (baseline)   ${uncachedPerSecond.toFixed(1).padStart(9)} crashes/s`);
    const cachedPerSecond = await measure(false, 10);
    log(`  parsed map cached (LRU)          ${cachedPerSecond.toFixed(1).padStart(9)} crashes/s   ${(cachedPerSecond / uncachedPerSecond).toFixed(1)}x the baseline`);
    return { cachedPerSecond, uncachedPerSecond };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/symbolication.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) await benchSymbolication((l) => console.log(l), Number(process.env.BENCH_SECONDS ?? 5));
