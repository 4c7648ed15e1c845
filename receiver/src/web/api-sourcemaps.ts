import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { CrashStorage, WorkQueue } from '../storage/types.ts';
import type { SourceMapStore, UploadFile } from '../symbols/store.ts';
import { InvalidSymbolsInput, validateAppGuid, validateRelease } from '../symbols/validate.ts';

export interface SourcemapApiOptions {
  store: SourceMapStore;
  storage: CrashStorage;
  queue: WorkQueue;
  maxUploadBytes: number;
  /** Tells the background processor there is work (reprocessing). */
  wake: () => void;
}

/**
 * Source maps and reprocessing, behind the API token:
 *
 * - `POST /api/sourcemaps` (multipart): fields `app`, `release`, optional `replace=true`
 *   (drop the release's files not in this upload), then for each file a `url` field followed
 *   by a `file` part (`~/static/app.js`, `~/static/app.js.map`, or an absolute URL); without
 *   `url` fields each file part's filename is its URL. Answers what was stored and refused.
 * - `GET /api/sourcemaps?app=&release=`: releases and their files.
 * - `DELETE /api/sourcemaps?app=&release=[&url=]`: a release, or one file of it.
 * - `POST /api/reprocess` (JSON or query): `{ app, release? }` or `{ crash_ids: [...] }`;
 *   queues the matching crashes for processing again.
 */
export function sourcemapApiRoutes(options: SourcemapApiOptions): Hono {
  const routes = new Hono();

  routes.onError((err, c) => {
    if (err instanceof InvalidSymbolsInput) return c.json({ error: err.code, message: err.message }, 400);
    throw err;
  });

  routes.post(
    '/api/sourcemaps',
    bodyLimit({
      maxSize: options.maxUploadBytes,
      onError: (c) => c.json({ error: 'too_large', message: `uploads are limited to ${options.maxUploadBytes} bytes; upload in parts without replace` }, 413),
    }),
    async (c) => {
      if (!/^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
        return c.json({ error: 'bad_content_type', message: 'send multipart/form-data with app, release, url and file fields' }, 400);
      }
      let form: FormData;
      try {
        form = await c.req.formData();
      } catch {
        return c.json({ error: 'malformed', message: 'could not read the multipart body' }, 400);
      }
      const app = validateAppGuid(formText(form, 'app'));
      const release = validateRelease(formText(form, 'release'));
      const replace = /^(1|true|yes)$/i.test(formText(form, 'replace') ?? '');
      const urls = form.getAll('url').filter((u): u is string => typeof u === 'string');
      const parts = form.getAll('file').filter((f): f is File => typeof f !== 'string');
      if (parts.length === 0) return c.json({ error: 'no_files', message: 'no file parts named "file"' }, 400);
      if (urls.length && urls.length !== parts.length) {
        return c.json({ error: 'url_count', message: `${urls.length} url fields for ${parts.length} files; send one url per file` }, 400);
      }
      const files: UploadFile[] = [];
      for (const [i, part] of parts.entries()) files.push({ name: urls[i] ?? part.name, data: new Uint8Array(await part.arrayBuffer()) });
      const result = await options.store.upload(app, release, files, { replace });
      return c.json(result, result.stored.length === 0 ? 400 : 200);
    },
  );

  routes.get('/api/sourcemaps', async (c) => {
    const app = c.req.query('app');
    const release = c.req.query('release');
    if (release && !app) return c.json({ error: 'missing_app', message: 'release needs app' }, 400);
    return c.json({ releases: await options.store.list(app || undefined, release || undefined) });
  });

  routes.delete('/api/sourcemaps', async (c) => {
    const app = validateAppGuid(c.req.query('app'));
    const release = validateRelease(c.req.query('release'));
    const deleted = await options.store.delete(app, release, c.req.query('url') || undefined);
    return c.json({ app, release, deleted }, deleted ? 200 : 404);
  });

  routes.post('/api/reprocess', async (c) => {
    let body: { app?: unknown; release?: unknown; crash_ids?: unknown } = {};
    if (/json/i.test(c.req.header('content-type') ?? '')) {
      try {
        body = (await c.req.json()) as typeof body;
      } catch {
        return c.json({ error: 'malformed', message: 'body is not JSON' }, 400);
      }
    }
    const app = typeof body.app === 'string' ? body.app : c.req.query('app');
    const release = typeof body.release === 'string' ? body.release : c.req.query('release');
    const ids: string[] = [];
    if (Array.isArray(body.crash_ids)) {
      for (const id of body.crash_ids) if (typeof id === 'string' && (await options.storage.getRaw(id).catch(() => null))) ids.push(id);
    } else {
      validateAppGuid(app);
      if (release) validateRelease(release);
      for await (const id of options.storage.listCrashIds()) {
        const raw = await options.storage.getRaw(id).catch(() => null);
        if (raw && raw.annotations.WebAppGUID === app && (!release || raw.annotations.Version === release)) ids.push(id);
      }
    }
    for (const id of ids) await options.queue.enqueue(id);
    options.wake();
    return c.json({ queued: ids.length, crash_ids: ids.slice(0, 1000) });
  });

  return routes;
}

function formText(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === 'string' ? v : undefined;
}
