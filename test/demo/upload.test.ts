// The demo's source maps go in through upload-sourcemaps at start; an admin token that starts
// with "-" (a random one can) must not read as an option and stop the receiver.
import { describe, expect, it } from 'vitest';
import { DEMO_GUID } from '../../receiver/src/demo/build.ts';
import { startTestReceiver } from '../helpers/receiver.ts';

describe('the demo at start', () => {
  it('uploads its source maps with an admin token that starts with "-"', async () => {
    const token = '-dash-first-admin-token-0123';
    const r = await startTestReceiver({ demo: true, adminToken: token });
    try {
      expect(r.logs.join('\n')).toMatch(/demo: uploaded \d+ files? to app/);
      const res = await fetch(`${r.url}/api/sourcemaps?app=${DEMO_GUID}`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await res.json()) as { releases: unknown[] }).releases).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});
