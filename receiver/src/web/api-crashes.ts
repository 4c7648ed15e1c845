import { Hono } from 'hono';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import type { CrashStorage } from '../storage/types.ts';

/** `GET /api/crashes/<id>`: `{ raw, processed }` of one crash (DESIGN.md). */
export function crashApiRoutes(storage: CrashStorage): Hono {
  const routes = new Hono();
  routes.get('/api/crashes/:id', async (c) => {
    const id = normalizeCrashId(c.req.param('id'));
    if (!id) return c.json({ error: 'bad_crash_id', message: 'not a crash ID (expected bp-<uuid> ending in the date)' }, 400);
    const raw = await storage.getRaw(id);
    if (!raw) return c.json({ error: 'not_found', message: `no crash ${id}` }, 404);
    return c.json({ raw, processed: await storage.getProcessed(id) });
  });
  return routes;
}
