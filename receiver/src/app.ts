import { Hono } from 'hono';
import { collectorRoutes, type CollectorStats } from './collector/route.ts';
import type { Throttler } from './collector/throttler.ts';
import type { Config } from './config.ts';
import type { CrashStorage, WorkQueue } from './storage/types.ts';
import { crashApiRoutes } from './web/api-crashes.ts';
import { requireApiToken } from './web/auth.ts';
import { healthRoutes, type HealthOptions } from './web/health.ts';

export interface AppDeps {
  config: Config;
  storage: CrashStorage;
  queue: WorkQueue;
  tmpDir: string;
  adminToken: string;
  throttler?: Throttler;
  version: HealthOptions['version'];
  onAccepted?: (crashId: string) => void;
  log: (line: string) => void;
}

/** Wires the receiver's parts into one Hono app: routes, auth, and the one error boundary. */
export function createApp(deps: AppDeps): { app: Hono; collectorStats: CollectorStats } {
  const { config } = deps;
  const app = new Hono();
  const collector = collectorRoutes({
    storage: deps.storage,
    queue: deps.queue,
    limits: config,
    throttler: deps.throttler,
    clientRatePerMinute: config.clientRatePerMinute,
    appRatePerMinute: config.appRatePerMinute,
    trustProxy: config.trustProxy,
    onAccepted: deps.onAccepted,
    log: deps.log,
  });
  app.route('/', collector.routes as unknown as Hono);
  app.route('/', healthRoutes({ tmpDir: deps.tmpDir, version: deps.version }));

  app.use('/api/*', requireApiToken({ token: deps.adminToken }));
  app.get('/api/stats', (c) => c.json({ collector: collector.stats }));
  app.route('/', crashApiRoutes(deps.storage));

  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    deps.log(`error: ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json({ error: 'internal', message: 'internal error; see the receiver log' }, 500);
  });
  return { app, collectorStats: collector.stats };
}
