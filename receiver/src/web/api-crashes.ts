import { Hono } from 'hono';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { ANNOTATION_NAME_PATTERN } from '../../../shared/src/protocol.ts';
import type { CrashStorage } from '../storage/types.ts';
import { onlyParams } from './params.ts';
import { fileDownload } from './security.ts';

const BAD_ID = { error: 'bad_crash_id', message: 'not a crash ID (expected bp-<uuid> ending in the date)' };

export interface CrashApiOptions {
  storage: CrashStorage;
  /** Deletes a stored crash everywhere it is kept (its folder, the journal, the queue, the index). */
  deleteCrash: (crashId: string) => Promise<void>;
  log: (line: string) => void;
}

/**
 * `GET /api/crashes/<id>`: `{ raw, processed }` of one crash (DESIGN.md),
 * `GET /api/crashes/<id>/files/<name>`: one of its files, byte for byte, as Socorro's raw crash
 * API hands out a minidump, and `DELETE /api/crashes/<id>`: the crash is gone for good (an
 * erasure request: a message that holds someone's personal data).
 */
export function crashApiRoutes(options: CrashApiOptions): Hono {
  const { storage } = options;
  const routes = new Hono();
  routes.delete('/api/crashes/:id', async (c) => {
    // As everywhere in the API: a parameter these routes do not take (none) is refused, not ignored.
    onlyParams(c.req.queries(), []);
    const id = normalizeCrashId(c.req.param('id'));
    if (!id) return c.json(BAD_ID, 400);
    if (!(await storage.getRaw(id))) return c.json({ error: 'not_found', message: `no crash ${id}` }, 404);
    await options.deleteCrash(id);
    options.log(`api: deleted crash bp-${id} (DELETE /api/crashes, admin)`);
    return c.json({ deleted: `bp-${id}` });
  });
  routes.get('/api/crashes/:id', async (c) => {
    onlyParams(c.req.queries(), []);
    const id = normalizeCrashId(c.req.param('id'));
    if (!id) return c.json(BAD_ID, 400);
    const raw = await storage.getRaw(id);
    if (!raw) return c.json({ error: 'not_found', message: `no crash ${id}` }, 404);
    return c.json({ raw, processed: await storage.getProcessed(id) });
  });
  routes.get('/api/crashes/:id/files/:name', async (c) => {
    onlyParams(c.req.queries(), []);
    const id = normalizeCrashId(c.req.param('id'));
    const name = c.req.param('name');
    if (!id) return c.json(BAD_ID, 400);
    if (!ANNOTATION_NAME_PATTERN.test(name)) return c.json({ error: 'bad_file_name', message: 'not a file part name (a letter, then letters, digits, ".", "_" or "-")' }, 400);
    const data = await storage.getFile(id, name);
    if (!data) {
      const raw = await storage.getRaw(id);
      const message = raw ? `crash ${id} has no file ${name} (it has: ${raw.files.map((f) => f.name).join(', ') || 'none'})` : `no crash ${id}`;
      return c.json({ error: 'not_found', message }, 404);
    }
    return fileDownload(data, `${id}-${name}`);
  });
  return routes;
}
