// A middle line for the collector benchmark: the real collector (parsing, limits, throttling,
// crash IDs), taking submissions from node:http as the receiver does, with storage that keeps
// nothing, so the report can split the cost of parsing from the cost of durability.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectorRoutes } from '../receiver/src/collector/route.ts';
import { loadConfig } from '../receiver/src/config.ts';
import type { CrashStorage } from '../receiver/src/storage/types.ts';

const config = loadConfig({}, {});
const keepsNothing = { saveRaw: async () => undefined } as unknown as CrashStorage;
const { handle } = collectorRoutes({ storage: keepsNothing, limits: config });
const server = createServer((req, res) => void handle(req, res, '/submit'));
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
