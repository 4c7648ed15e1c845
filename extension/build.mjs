#!/usr/bin/env node
// Builds the WebExtension into extension/dist/ (manifest.json at the top): TypeScript bundled
// with esbuild, one IIFE file per entry point, the static pages copied, the manifest's version
// taken from package.json. `npm run build:extension` runs it; tests import buildExtension().
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = join(HERE, 'dist');

/** Entry points: output name -> source. hook.js runs in the page's world and must stay small. */
const ENTRIES = {
  hook: 'src/hook.ts',
  content: 'src/content.ts',
  background: 'src/background/main.ts',
  options: 'src/options/options.ts',
  popup: 'src/popup/popup.ts',
};

/**
 * Builds the extension into `outDir` (emptied first) and returns its path.
 *
 * @example
 *   const dist = await buildExtension();             // extension/dist
 *   await buildExtension({ outDir: '/tmp/x', minify: true });
 */
export async function buildExtension({ outDir = DEFAULT_OUT_DIR, minify = false } = {}) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, join(HERE, src)])),
    outdir: outDir,
    bundle: true,
    format: 'iife',
    target: ['firefox128', 'chrome120'],
    minify,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const staticDir = join(HERE, 'src', 'static');
  for (const name of await readdir(staticDir)) await copyFile(join(staticDir, name), join(outDir, name));
  const pkg = JSON.parse(await readFile(join(HERE, '..', 'package.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(join(HERE, 'src', 'manifest.json'), 'utf8'));
  manifest.version = pkg.version;
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = await buildExtension();
  console.log(`build:extension: built ${outDir}`);
}
