/**
 * The built extension as a browser and addons.mozilla.org see it: `web-ext lint` reports no
 * errors, and the manifest has what both browsers need.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/receiver.ts';
import { buildTempExtension } from './harness.ts';

const run = promisify(execFile);
let dist: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dist, cleanup } = await buildTempExtension());
});
afterAll(() => cleanup?.());

describe('the built extension', () => {
  it('passes web-ext lint with 0 errors', async () => {
    const webExt = join(REPO_ROOT, 'node_modules', '.bin', 'web-ext');
    // web-ext exits non-zero when there are errors; the JSON says which.
    const { stdout } = await run(webExt, ['lint', '--source-dir', dist, '--output', 'json', '--boring'], { cwd: REPO_ROOT }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
    );
    const report = JSON.parse(stdout) as { count: number; errors: { code: string; message: string }[]; summary: { errors: number } };
    expect(report.errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
    expect(report.summary.errors).toBe(0);
  });

  it('has a Manifest V3 manifest that loads in Firefox 140+ and in Chromium', async () => {
    const manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8'));
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.browser_specific_settings.gecko.id).toMatch(/@/);
    expect(manifest.browser_specific_settings.gecko.strict_min_version).toBe('140.0');
    // Firefox needs scripts, Chromium service_worker: both, pointing at the same bundle.
    expect(manifest.background.scripts).toEqual(['background.js']);
    expect(manifest.background.service_worker).toBe('background.js');
    // The hook and the content script are registered by the background while reporting is on
    // (background/injection.ts), never declared: a declared one runs in every page regardless.
    expect(manifest.content_scripts).toBeUndefined();
    expect(manifest.permissions).toContain('scripting');
    const files = await readdir(dist);
    for (const file of ['hook.js', 'content.js', 'background.js', 'options.html', 'options.js', 'popup.html', 'popup.js', 'style.css']) {
      expect(files).toContain(file);
    }
  });

  it('keeps the page-world hook small and free of the browser.* polyfill', async () => {
    const hook = await readFile(join(dist, 'hook.js'), 'utf8');
    expect(hook).not.toMatch(/webextension-polyfill|browser\.runtime|chrome\.runtime/);
    expect(hook.length).toBeLessThan(20_000);
  });
});
