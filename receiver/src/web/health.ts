import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';

export interface HealthOptions {
  tmpDir: string;
  version: { source: string; version: string; commit: string; build: string };
  /** Why storage is failing right now (e.g. the journal cannot be written), or null. */
  storageProblem?: () => string | null;
  /** The probe write (tests count it): says why `dir` cannot be written, or null. */
  writeProbe?: (dir: string) => Promise<string | null>;
}

/** Dockerflow endpoints, as Mozilla's services answer them. */
export function healthRoutes(options: HealthOptions): Hono {
  const routes = new Hono();
  routes.get('/__lbheartbeat__', (c) => c.text('OK\n'));
  routes.get('/__version__', (c) => c.json(options.version));
  // The one check that matters for a collector: can it still write crashes? The heartbeat needs
  // no token, so its probe write is shared by every request within PROBE_REUSED_MS.
  let probed: { at: number; result: Promise<string | null> } | null = null;
  const probeWrite = (): Promise<string | null> => {
    const now = performance.now();
    if (!probed || now - probed.at >= PROBE_REUSED_MS) probed = { at: now, result: (options.writeProbe ?? writeProbe)(options.tmpDir) };
    return probed.result;
  };
  routes.get('/__heartbeat__', async (c) => {
    const cannotWrite = await probeWrite();
    if (cannotWrite) return c.json({ status: 'error', checks: { storage: cannotWrite } }, 500);
    // A tiny probe can succeed on a disk too full for crashes: storage says what it last hit.
    const problem = options.storageProblem?.();
    if (problem) return c.json({ status: 'error', checks: { storage: problem } }, 500);
    return c.json({ status: 'ok', checks: { storage: 'ok' } });
  });
  return routes;
}

/** How long one probe write answers the heartbeat for. */
const PROBE_REUSED_MS = 1000;

/** Writes and removes a small file in `dir`; says why it could not, or null. */
async function writeProbe(dir: string): Promise<string | null> {
  const probe = join(dir, `heartbeat.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
    return null;
  } catch (err) {
    // A write cut short by a full disk leaves the file behind.
    await rm(probe, { force: true }).catch(() => undefined);
    return `cannot write: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}
