import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';

export interface HealthOptions {
  tmpDir: string;
  version: { source: string; version: string; commit: string; build: string };
  /** Why storage is failing right now (e.g. the journal cannot be written), or null. */
  storageProblem?: () => string | null;
}

/** Dockerflow endpoints, as Mozilla's services answer them. */
export function healthRoutes(options: HealthOptions): Hono {
  const routes = new Hono();
  routes.get('/__lbheartbeat__', (c) => c.text('OK\n'));
  routes.get('/__version__', (c) => c.json(options.version));
  routes.get('/__heartbeat__', async (c) => {
    // The one check that matters for a collector: can it still write crashes?
    const probe = join(options.tmpDir, `heartbeat.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(probe, 'ok');
      await rm(probe, { force: true });
      // A tiny probe can succeed on a disk too full for crashes: storage says what it last hit.
      const problem = options.storageProblem?.();
      if (problem) return c.json({ status: 'error', checks: { storage: problem } }, 500);
      return c.json({ status: 'ok', checks: { storage: 'ok' } });
    } catch (err) {
      // A write cut short by a full disk leaves the file behind.
      await rm(probe, { force: true }).catch(() => undefined);
      return c.json({ status: 'error', checks: { storage: `cannot write: ${(err as NodeJS.ErrnoException).code ?? 'error'}` } }, 500);
    }
  });
  return routes;
}
