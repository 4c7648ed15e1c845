import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The demo app's sources, shipped with the receiver. */
export const DEMO_SOURCE_DIR = fileURLToPath(new URL('../../../demo', import.meta.url));

/** The GUID the demo app declares; its crashes are grouped under it. */
export const DEMO_GUID = '5ca1ab1e-d3e0-4c0d-9a11-50c0aa1170de';

export interface BuiltDemo {
  /** Where the built files are: index.html template, assets/*.js, assets/*.map, style CSS. */
  dir: string;
  /** `demo-<hash>`: changes whenever the demo's code does, like a real release. */
  release: string;
  /** Served files (path under /demo/ -> absolute path); source maps are not served. */
  files: Map<string, string>;
  /** index.html with everything but the receiver's address filled in. */
  indexTemplate: string;
}

/**
 * Builds the demo app the way a real app is built for production: esbuild bundles and
 * minifies it, splits the to-do list into its own chunk, names files by content hash and writes
 * linked source maps beside them.
 */
export async function buildDemo(outDir: string): Promise<BuiltDemo> {
  await rm(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: [join(DEMO_SOURCE_DIR, 'src', 'main.js')],
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: true,
    target: 'es2022',
    outdir: assets,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: DEMO_SOURCE_DIR,
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => join(DEMO_SOURCE_DIR, p));
  const main = outputs.find((p) => /[/\\]main-[A-Z0-9]+\.js$/i.test(p));
  if (!main) throw new Error(`Demo build produced no main bundle: ${outputs.map((p) => basename(p)).join(', ')}`);

  // Name sources as they are in the repository (demo/src/cart.js), not relative to wherever the
  // build went, so report pages show paths a developer recognises.
  for (const mapPath of outputs.filter((o) => o.endsWith('.map'))) {
    const map = JSON.parse(await readFile(mapPath, 'utf8')) as { sources: string[] };
    map.sources = map.sources.map((s) => relative(join(DEMO_SOURCE_DIR, '..'), resolve(dirname(mapPath), s)).split('\\').join('/'));
    await writeFile(mapPath, JSON.stringify(map));
  }

  const css = await readFile(join(DEMO_SOURCE_DIR, 'style.css'));
  const cssName = `style-${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`;
  await writeFile(join(assets, cssName), css);

  const hash = createHash('sha256');
  for (const p of outputs.filter((o) => o.endsWith('.js')).sort()) hash.update(await readFile(p));
  const release = `demo-${hash.digest('hex').slice(0, 10)}`;

  const files = new Map<string, string>();
  for (const p of [...outputs.filter((o) => o.endsWith('.js')), join(assets, cssName)]) {
    files.set(relative(outDir, p).split('\\').join('/'), p);
  }
  const indexTemplate = (await readFile(join(DEMO_SOURCE_DIR, 'index.html'), 'utf8'))
    .replaceAll('{{GUID}}', DEMO_GUID)
    .replaceAll('{{RELEASE}}', release)
    .replaceAll('{{MAIN}}', `assets/${basename(main)}`)
    .replaceAll('{{CSS}}', `assets/${cssName}`);
  return { dir: outDir, release, files, indexTemplate };
}
