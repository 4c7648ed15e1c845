import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFrame } from './classify.ts';
import { DEFAULT_TUNING_DIR, loadTuning, TuningError } from './tuning.ts';

describe('frame categories', () => {
  const tuning = loadTuning(DEFAULT_TUNING_DIR, ['^https://static\\.partner\\.example/']);
  const original = (file: string) => ({ file, line: 1, column: 1, function: 'f' });

  it.each([
    ['moz-extension://0f3a/content.js', undefined, 'noise'],
    ['chrome-extension://abcdef/inject.js', undefined, 'noise'],
    ['safari-web-extension://ABC/commons.js', undefined, 'noise'],
    ['[native code]', undefined, 'noise'],
    ['<anonymous>', undefined, 'noise'],
    [null, undefined, 'noise'],
    ['https://cdn.jsdelivr.net/npm/lodash@4/lodash.min.js', undefined, 'library'],
    ['https://shop.example/static/vendor/jquery.js', undefined, 'library'],
    ['https://shop.example/assets/vendors.5c1e9d.js', undefined, 'library'],
    ['https://shop.example/assets/vendors-node_modules_lodash-es_debounce_js.8a2b.js?v=2', undefined, 'library'],
    ['https://shop.example/js/chunk-vendors.4e5f.js', undefined, 'library'],
    ['https://shop.example/assets/vendorless-checkout.js', undefined, 'app'],
    ['https://shop.example/assets/vendor.ts.html', undefined, 'app'],
    ['https://shop.example/assets/vendors.js', undefined, 'library'],
    ['https://shop.example/js/chunk-vendors.js', undefined, 'library'],
    // Once mapped, the app's own file decides, whatever its name.
    ['https://shop.example/assets/main.3f9a.js', 'src/pages/vendor-list.js', 'app'],
    ['https://shop.example/assets/main.3f9a.js', 'src/components/vendors.table.mjs', 'app'],
    ['https://shop.example/static/app.js', 'webpack://shop/./node_modules/react-dom/cjs/react-dom.production.js', 'library'],
    ['https://static.partner.example/widget.js', undefined, 'library'],
    ['https://shop.example/static/app.js', 'webpack/bootstrap', 'library'],
    ['https://shop.example/static/app.js', 'webpack/runtime/jsonp chunk loading', 'library'],
    ['https://shop.example/static/app.js', '(webpack)/buildin/global.js', 'library'],
    ['https://shop.example/static/app.js', 'src/webpack-setup.ts', 'app'],
    ['https://shop.example/static/app.js', '../src/cart.ts', 'app'],
    ['https://shop.example/static/app.js', undefined, 'app'],
  ] as const)('%s (original %s) is %s', (url, file, category) => {
    expect(classifyFrame({ url, original: file ? original(file) : undefined }, tuning)).toBe(category);
  });
});

describe('tuning files', () => {
  it('reports every bad line with its file and line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'socorrito-tuning-'));
    try {
      cpSync(DEFAULT_TUNING_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'noise-urls.txt'), '# comment\n^ok://\n(unclosed\n');
      writeFileSync(join(dir, 'message-rewrites.txt'), 'not a rewrite\n');
      let error: unknown;
      try {
        loadTuning(dir, ['[bad']);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(TuningError);
      const problems = (error as TuningError).problems.join('\n');
      expect(problems).toMatch(/noise-urls\.txt:3: /);
      expect(problems).toMatch(/message-rewrites\.txt:1: expected \/regex\/flags => replacement/);
      expect(problems).toMatch(/--library-url-patterns "\[bad"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
