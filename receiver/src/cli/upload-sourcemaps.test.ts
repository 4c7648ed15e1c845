import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planUpload, uploadSourcemapsCommand } from './upload-sourcemaps.ts';

describe('upload-sourcemaps pairing', () => {
  it('pairs scripts with the map they name, else <file>.map, and says what has none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-plan-'));
    try {
      await mkdir(join(dir, 'js'));
      await mkdir(join(dir, 'maps'));
      await writeFile(join(dir, 'js', 'app.1a2b.js'), 'x()\n//# sourceMappingURL=../maps/app.1a2b.js.map\n');
      await writeFile(join(dir, 'maps', 'app.1a2b.js.map'), '{}');
      await writeFile(join(dir, 'js', 'vendor.9f.mjs'), 'y()\n');
      await writeFile(join(dir, 'js', 'vendor.9f.mjs.map'), '{}');
      await writeFile(join(dir, 'js', 'inline.cjs'), 'z()\n//# sourceMappingURL=data:application/json;base64,e30=\n');
      await writeFile(join(dir, 'js', 'lonely.js'), 'w()\n//# sourceMappingURL=gone.js.map\n');
      await writeFile(join(dir, 'orphan.map'), '{}');
      // Paired by debug ID only, as the receiver pairs them: no sourceMappingURL, another name.
      await writeFile(join(dir, 'js', 'by-id.js'), 'u()\n//# debugId=3F1C9E2A-8B7D-4C6E-9A5F-1D2E3F4A5B6C\n');
      await writeFile(join(dir, 'maps', 'by-id.map'), '{"version":3,"debugId":"3f1c9e2a-8b7d-4c6e-9a5f-1d2e3f4a5b6c"}');
      await writeFile(join(dir, 'README.txt'), 'not uploaded');
      const plan = await planUpload(dir, '~/static/');
      expect(plan.files.map((f) => f.url).sort()).toEqual(
        ['~/static/js/app.1a2b.js', '~/static/js/by-id.js', '~/static/maps/by-id.map', '~/static/js/inline.cjs', '~/static/js/lonely.js', '~/static/js/vendor.9f.mjs', '~/static/js/vendor.9f.mjs.map', '~/static/maps/app.1a2b.js.map', '~/static/orphan.map'].sort(),
      );
      expect(plan.report).toEqual(
        expect.arrayContaining([
          'matched  ~/static/js/app.1a2b.js -> ~/static/maps/app.1a2b.js.map',
          'matched  ~/static/js/vendor.9f.mjs -> ~/static/js/vendor.9f.mjs.map',
          'inline   ~/static/js/inline.cjs: its source map is inside it',
          'no map   ~/static/js/lonely.js (it names gone.js.map, which is not in the folder)',
          'matched  ~/static/js/by-id.js -> ~/static/maps/by-id.map (by debug ID 3f1c9e2a-8b7d-4c6e-9a5f-1d2e3f4a5b6c)',
          expect.stringMatching(/^map only ~\/static\/orphan\.map/),
        ]),
      );
      expect(plan.report.filter((l) => l.includes('by-id'))).toHaveLength(1);
      expect(plan.unmatched).toBe(1);
      // Names as a browser requests them: each path segment percent-encoded.
      await mkdir(join(dir, 'my dir'));
      await writeFile(join(dir, 'my dir', 'app #1.js'), 'v()\n');
      expect((await planUpload(dir, '~/static/')).files.map((f) => f.url)).toContain('~/static/my%20dir/app%20%231.js');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('upload-sourcemaps arguments', () => {
  it('refuses a GUID or release the receiver would refuse, before reading any file or calling it', async () => {
    let called = false;
    const io = { out: () => undefined, err: () => undefined, env: {} };
    const fetchSpy = (async () => {
      called = true;
      return new Response('{}');
    }) as unknown as typeof fetch;
    await expect(
      uploadSourcemapsCommand(['--url', 'http://127.0.0.1:9', '--token', 't', '--app', '../x', '--release', '.hidden', '/no/such/dir'], io, fetchSpy),
    ).rejects.toThrow(/upload-sourcemaps: app \(a GUID\) must be .*; release must be/);
    expect(called).toBe(false);
  });
});
