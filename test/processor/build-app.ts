import { createServer, type Server } from 'node:http';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../helpers/receiver.ts';

export const SHOP_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'sourcemaps', 'shop');

export interface ShopBuild {
  /** Folder with the built `app.<hash>.js` and its map. */
  outDir: string;
  script: string;
  /** Where the bug and its callers are in the original sources of this build. */
  lines: { reduce: number; callTotal: number; callCheckout: number };
}

/**
 * Builds the fixture shop with esbuild: bundled, minified, external source maps, content-hashed
 * names. Variant `b` inserts code above the bug first, so lines, hashes and minified names
 * move while the bug stays the same.
 */
export async function buildShop(workDir: string, variant: 'a' | 'b', options: { debugId?: string } = {}): Promise<ShopBuild> {
  const src = join(workDir, `src-${variant}`);
  const outDir = join(workDir, `dist-${variant}`, 'static');
  await mkdir(src, { recursive: true });
  for (const name of await readdir(SHOP_FIXTURE)) if (name.endsWith('.ts')) await copyFile(join(SHOP_FIXTURE, name), join(src, name));
  if (variant === 'b') {
    const cart = await readFile(join(src, 'cart.ts'), 'utf8');
    await writeFile(
      join(src, 'cart.ts'),
      cart.replace(
        '  total(): number {',
        '  isEmpty(): boolean {\n    // Added in build b: moves the bug down and renames minified locals.\n    return this.count() === 0;\n  }\n\n  total(): number {',
      ),
    );
    const checkout = await readFile(join(src, 'checkout.ts'), 'utf8');
    await writeFile(
      join(src, 'checkout.ts'),
      checkout.replace('export function checkout', 'export function discount(value: number, percent: number): number {\n  return value - (value * percent) / 100;\n}\n\nexport function checkout'),
    );
    // More uses of checkout() give it another minified name.
    const main = await readFile(join(src, 'main.ts'), 'utf8');
    await writeFile(
      join(src, 'main.ts'),
      `${main}\nexport const checkoutAll = (carts: Cart[]): string[] => carts.map((c) => checkout(c)).concat(checkout(new Cart([])), checkout(new Cart([])));\n(window as unknown as { shopAll: unknown }).shopAll = checkoutAll;\n`,
    );
  }
  const { script, js } = await bundle(join(src, 'main.ts'), outDir, { target: 'es2020' });
  // esbuild writes the map beside the script but names it only for browsers' devtools.
  await writeFile(join(outDir, script), `${js.replace(/\/\/# sourceMappingURL=.*\s*$/, '')}//# sourceMappingURL=${script}.map\n${options.debugId ? `//# debugId=${options.debugId}\n` : ''}`);
  const lineOf = async (file: string, needle: string): Promise<number> =>
    (await readFile(join(src, file), 'utf8')).split('\n').findIndex((l) => l.includes(needle)) + 1;
  return {
    outDir,
    script,
    lines: {
      reduce: await lineOf('cart.ts', 'this.items!.reduce'),
      callTotal: await lineOf('checkout.ts', 'cart.total()'),
      callCheckout: await lineOf('main.ts', 'return checkout(restored)'),
    },
  };
}

export const CHECKOUT_FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'sourcemaps', 'checkout');

export interface CheckoutBuildOptions {
  /** `b` inserts code above the bugs first, so lines and minified names move. */
  variant: 'a' | 'b';
  /** esbuild's `sourcesContent` (false: the map names sources but does not carry them). */
  sourcesContent: boolean;
  /** esbuild's target: below es2022 class fields become `__publicField(this, "name", …)` calls. */
  target?: string;
}

/**
 * Builds the fixture checkout app with esbuild (bundled, minified, one IIFE script and its
 * external map) into `<workDir>/<name>/`, and returns the script's path and text.
 */
export async function buildCheckout(workDir: string, name: string, options: CheckoutBuildOptions): Promise<{ outDir: string; script: string; js: string }> {
  const src = join(workDir, `src-${name}`);
  const outDir = join(workDir, name);
  await mkdir(src, { recursive: true });
  for (const file of await readdir(CHECKOUT_FIXTURE)) if (file.endsWith('.ts')) await copyFile(join(CHECKOUT_FIXTURE, file), join(src, file));
  if (options.variant === 'b') {
    const edit = async (file: string, from: string, to: string): Promise<void> => {
      const text = await readFile(join(src, file), 'utf8');
      if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
      await writeFile(join(src, file), text.replace(from, to));
    };
    await edit('cart.ts', '  lineTotal(index: number): number {', '  isEmpty(): boolean {\n    // Added in build b.\n    return this.items.length === 0;\n  }\n\n  lineTotal(index: number): number {');
    await edit('api.ts', 'export async function submitOrder', 'export function retryable(error: unknown): boolean {\n  return error instanceof ApiError && error.status >= 500;\n}\n\nexport async function submitOrder');
    await edit('main.ts', 'const cart = new Cart();', "import { retryable } from './api.ts';\n\nconst cart = new Cart();\nconst spare = new Cart();\n(globalThis as unknown as { spare: unknown }).spare = [spare.isEmpty(), retryable(null)];");
  }
  return { outDir, ...(await bundle(join(src, 'main.ts'), outDir, { sourcesContent: options.sourcesContent, target: options.target ?? 'esnext' })) };
}

/** Bundles `entry` with esbuild as a web app's build would: minified, one IIFE script with a hashed name, its map beside it. */
async function bundle(entry: string, outDir: string, options: { target: string; sourcesContent?: boolean }): Promise<{ script: string; js: string }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    sourcemap: 'external',
    sourcesContent: options.sourcesContent ?? true,
    format: 'iife',
    target: options.target,
    outdir: outDir,
    entryNames: '[name].[hash]',
    write: true,
    metafile: true,
    logLevel: 'silent',
  });
  const script = Object.keys(result.metafile.outputs).find((p) => p.endsWith('.js'))!.split('/').pop()!;
  return { script, js: await readFile(join(outDir, script), 'utf8') };
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html' };

/**
 * A static file server on 127.0.0.1: `pages` by path, else `/static/<file>` from the first of
 * `staticDirs` that has it. Refuses paths outside those folders.
 */
export async function serveStatic(
  staticDirs: string[],
  pages: Record<string, string> = {},
): Promise<{ url: string; close: () => Promise<void>; requested: string[] }> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    requested.push(req.url ?? '');
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (pages[path]) return res.writeHead(200, { 'content-type': 'text/html' }).end(pages[path]);
      if (path.startsWith('/static/')) {
        for (const dir of staticDirs) {
          const base = resolve(dir);
          const file = normalize(join(base, path.slice('/static/'.length)));
          if (!file.startsWith(base + sep)) break;
          const data = await readFile(file).catch(() => null);
          if (data) return res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(data);
        }
      }
      res.writeHead(404).end('not found');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())), requested };
}
