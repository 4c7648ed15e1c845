// A middle line for the collector benchmark: the real collector route (parsing, limits,
// throttling, crash IDs) with storage that keeps nothing, so the report can split the cost of
// parsing from the cost of durability.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { collectorRoutes } from '../receiver/src/collector/route.ts';
import { loadConfig } from '../receiver/src/config.ts';
import type { CrashStorage } from '../receiver/src/storage/types.ts';

const config = loadConfig({}, {});
const keepsNothing = { saveRaw: async () => undefined } as unknown as CrashStorage;
const app = new Hono();
app.route('/', collectorRoutes({ storage: keepsNothing, limits: config }).routes as unknown as Hono);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
