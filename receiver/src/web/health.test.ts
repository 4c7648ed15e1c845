import { describe, expect, it } from 'vitest';
import { healthRoutes } from './health.ts';

const VERSION = { source: 's', version: 'v', commit: 'c', build: 'b' };

describe('the heartbeat', () => {
  it('shares one probe write among the requests of a second (it needs no token), and says why it failed', async () => {
    let writes = 0;
    let failing: string | null = null;
    const app = healthRoutes({ tmpDir: '/nowhere', version: VERSION, writeProbe: async () => (writes++, failing) });
    const answers = await Promise.all(Array.from({ length: 50 }, () => app.request('/__heartbeat__')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(writes).toBe(1);
    failing = 'cannot write: EROFS';
    await new Promise((r) => setTimeout(r, 1050));
    const broken = await app.request('/__heartbeat__');
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({ status: 'error', checks: { storage: 'cannot write: EROFS' } });
    expect(writes).toBe(2);
  });
});
