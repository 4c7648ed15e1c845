// The baseline for the collector benchmark: a bare Hono endpoint on @hono/node-server that reads
// the whole submission body and answers the way the collector does, with no parsing or storage.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/submit', async (c) => {
  await c.req.arrayBuffer();
  return c.text(`CrashID=bp-${randomUUID()}\n`);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
