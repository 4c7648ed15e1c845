import { type Context, Hono } from 'hono';
import type { AuthVariables } from './auth.ts';
import { bodyLimit } from 'hono/body-limit';
import { CRASH_ID_PREFIX, normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { appKey, NO_APP, PRODUCT_APP_PREFIX } from '../index/crash-index.ts';
import type { CrashStorage, WorkQueue } from '../storage/types.ts';
import type { SourceMapStore, UploadFile } from '../symbols/store.ts';
import { InvalidSymbolsInput, validateAppGuid, validateRelease } from '../symbols/validate.ts';
import { onlyParams } from './params.ts';

/** Crash IDs one `POST /api/reprocess` may name. */
export const MAX_REPROCESS_IDS = 10_000;
/** Crash IDs listed back when reprocessing a whole app (all are queued). */
const MAX_LISTED_IDS = 1000;

export interface SourcemapApiOptions {
  store: SourceMapStore;
  storage: CrashStorage;
  queue: WorkQueue;
  maxUploadBytes: number;
  /** Tells the background processor there is work (reprocessing). */
  wake: () => void;
  /** Uploads, deletions and reprocess requests are logged, with the token that asked. */
  log: (line: string) => void;
  /** How long an app-wide reprocess may take before it is answered `202` and goes on (tests shorten it). */
  answerWaitMs?: number;
}

/** Under what the CLI (120 s) and usual proxies (60 s) wait for an answer. */
const REPROCESS_ANSWER_WAIT_MS = 20_000;

/** Which token asked, for the log. */
function byWhom(c: Context<{ Variables: AuthVariables }>): string {
  const app = c.get('uploadApp');
  return c.get('role') !== 'upload' ? 'admin' : app ? `upload token of app ${app}` : 'upload token';
}

/** 403 when the request is made with an upload token of another app than `app` (see app-tokens.ts). */
function otherApp(c: Context<{ Variables: AuthVariables }>, app: string | undefined): Response | null {
  const only = c.get('uploadApp');
  // Exactly: the store keeps each GUID's files apart, case and all (`Shop` is not `shop`).
  if (!only || app === only) return null;
  return c.json({ error: 'forbidden', message: `this upload token is for app ${only}${app ? `, not ${app.slice(0, 40)}` : '; name it as app'}` }, 403);
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
 * - `POST /api/reprocess` (JSON or query): `{ app, release? }`, `{ crash_ids: [...] }` or
 *   `{ all: true }` (every stored crash; not for upload tokens);
 *   queues the matching crashes for processing again. `app` is a WebAppGUID or an index app
 *   key (`product:<name>`, `-`). Answers `{ queued, crash_ids: ["bp-…"] }` (the upload token
 *   gets `{ queued }` only for an app: it reads no crash), plus `unknown` (IDs not stored here)
 *   for `crash_ids`, which is 404 (with `error` and `message`) when none is known. A field it
 *   does not take, or `app`, `release` or `all` of the wrong type, is 400 `bad_request`. One app-wide reprocess runs at a time
 *   (429 otherwise); one still queuing after REPROCESS_ANSWER_WAIT_MS is answered
 *   `202 { queuing: true }` and goes on (the log says when it is done). A body that is not a JSON object is 400 `bad_json`.
 */
export function sourcemapApiRoutes(options: SourcemapApiOptions): Hono<{ Variables: AuthVariables }> {
  const routes = new Hono<{ Variables: AuthVariables }>();
  let appWideRunning = false;

  routes.onError((err, c) => {
    if (err instanceof InvalidSymbolsInput) return c.json({ error: err.code, message: err.message }, 400);
    throw err;
  });

  routes.post(
    '/api/sourcemaps',
    bodyLimit({
      maxSize: options.maxUploadBytes,
      onError: (c) => c.json({ error: 'too_large', message: `uploads are limited to ${options.maxUploadBytes} bytes; upload in parts without replace` }, 413, { connection: 'close' }),
    }),
    async (c) => {
      const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity') {
        return c.json({ error: 'unsupported_content_encoding', message: `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported here; send the upload uncompressed` }, 415);
      }
      if (!/^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
        return c.json({ error: 'bad_content_type', message: 'send multipart/form-data with app, release, url and file fields' }, 400);
      }
      let form: FormData;
      try {
        form = await c.req.formData();
      } catch {
        return c.json({ error: 'malformed', message: 'could not read the multipart body' }, 400);
      }
      // A misspelt field (`relase`, `replace=ture`) would otherwise upload without what it meant.
      const unknown = [...new Set(form.keys())].filter((name) => !UPLOAD_FIELDS.includes(name));
      if (unknown.length) {
        return c.json({ error: 'unknown_field', message: `unknown field ${unknown.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}; the fields are ${UPLOAD_FIELDS.join(', ')}` }, 400);
      }
      const app = validateAppGuid(formText(form, 'app'));
      const refused = otherApp(c, app);
      if (refused) return refused;
      const release = validateRelease(formText(form, 'release'));
      const replaceText = (formText(form, 'replace') ?? '').trim();
      if (!/^(1|true|yes|0|false|no|)$/i.test(replaceText)) {
        return c.json({ error: 'bad_replace', message: `replace is true or false, not ${JSON.stringify(replaceText.slice(0, 40))}` }, 400);
      }
      const replace = /^(1|true|yes)$/i.test(replaceText);
      const urls = form.getAll('url').filter((u): u is string => typeof u === 'string');
      const parts = form.getAll('file').filter((f): f is File => typeof f !== 'string');
      if (parts.length === 0) return c.json({ error: 'no_files', message: 'no file parts named "file"' }, 400);
      if (urls.length && urls.length !== parts.length) {
        return c.json({ error: 'url_count', message: `${urls.length} url fields for ${parts.length} files; send one url per file` }, 400);
      }
      const files: UploadFile[] = [];
      for (const [i, part] of parts.entries()) files.push({ name: urls[i] ?? part.name, data: new Uint8Array(await part.arrayBuffer()) });
      const result = await options.store.upload(app, release, files, { replace });
      options.log(
        `sourcemaps: app ${app} release ${JSON.stringify(release)}: stored ${result.stored.length}, refused ${result.rejected.length}, removed ${result.removed.length} (${byWhom(c)})`,
      );
      return c.json(result, result.stored.length === 0 ? 400 : 200);
    },
  );

  routes.get('/api/sourcemaps', async (c) => {
    onlyParams(c.req.queries(), ['app', 'release']);
    const app = c.req.query('app') || c.get('uploadApp');
    const refused = otherApp(c, app);
    if (refused) return refused;
    const release = c.req.query('release');
    if (release && !app) return c.json({ error: 'missing_app', message: 'release needs app' }, 400);
    return c.json({ releases: await options.store.list(app || undefined, release || undefined) });
  });

  routes.delete('/api/sourcemaps', async (c) => {
    // Strictly: a misspelt `url` would otherwise delete the whole release.
    onlyParams(c.req.queries(), ['app', 'release', 'url']);
    const app = validateAppGuid(c.req.query('app'));
    const release = validateRelease(c.req.query('release'));
    const url = c.req.query('url') || undefined;
    const deleted = await options.store.delete(app, release, url);
    if (deleted) options.log(`sourcemaps: app ${app} release ${JSON.stringify(release)}: deleted ${deleted} (${byWhom(c)})`);
    if (!deleted) {
      const what = url ? `file ${JSON.stringify(url.slice(0, 200))} in release` : 'files for release';
      return c.json({ error: 'not_found', message: `no ${what} ${JSON.stringify(release)} of app ${app}`, app, release, deleted }, 404);
    }
    return c.json({ app, release, deleted });
  });

  routes.post('/api/reprocess', async (c) => {
    const text = await c.req.text();
    let body: { app?: unknown; release?: unknown; crash_ids?: unknown; all?: unknown } = {};
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        return c.json({ error: 'bad_json', message: 'the body is not JSON; send {"app": ..., "release": ...} or {"crash_ids": [...]}' }, 400);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return c.json({ error: 'bad_json', message: 'the body must be a JSON object: {"app": ..., "release": ...} or {"crash_ids": [...]}' }, 400);
      }
    }
    // The query's app and release stand in for the body's (`?app=…&release=…`), under the same checks.
    onlyParams(c.req.queries(), ['app', 'release']);
    body = { ...Object.fromEntries(['app', 'release'].flatMap((k) => (c.req.query(k) === undefined ? [] : [[k, c.req.query(k)]]))), ...body };
    const problems = reprocessProblems(body);
    if (problems.length) return c.json({ error: 'bad_request', message: problems.join('; '), problems }, 400);
    if (body.all !== undefined && body.crash_ids !== undefined) return c.json({ error: 'bad_request', message: '"all" takes no "crash_ids"' }, 400);
    if (body.crash_ids !== undefined) {
      if (c.get('uploadApp')) return c.json({ error: 'forbidden', message: 'an upload token of one app reprocesses by app and release, not by crash ID' }, 403);
      if (!Array.isArray(body.crash_ids) || body.crash_ids.length === 0 || !body.crash_ids.every((id) => typeof id === 'string')) {
        return c.json({ error: 'bad_crash_ids', message: 'crash_ids must be a non-empty list of crash IDs (bp-<uuid>)' }, 400);
      }
      if (body.crash_ids.length > MAX_REPROCESS_IDS) {
        return c.json({ error: 'too_many_crash_ids', message: `at most ${MAX_REPROCESS_IDS} crash IDs per request` }, 400);
      }
      const ids: string[] = [];
      const unknown: string[] = [];
      for (const given of body.crash_ids as string[]) {
        const id = normalizeCrashId(given.trim());
        if (id && (await options.storage.getRaw(id).catch(() => null))) {
          if (!ids.includes(id)) ids.push(id);
        } else unknown.push(given.slice(0, 100));
      }
      for (const id of ids) await options.queue.enqueue(id);
      if (ids.length) options.wake();
      options.log(`reprocess: ${ids.length} named ${ids.length === 1 ? 'crash' : 'crashes'} queued (${byWhom(c)})`);
      const answer = { queued: ids.length, crash_ids: ids.map((id) => `${CRASH_ID_PREFIX}${id}`), unknown };
      if (!ids.length) return c.json({ error: 'not_found', message: `no crash named is stored here: ${unknown.slice(0, 10).join(', ')}`, ...answer }, 404);
      return c.json(answer);
    }
    // Every stored crash, after an upgrade whose signature rules group crashes better.
    const all = body.all === true;
    if (all && (c.get('role') === 'upload' || body.app !== undefined || body.release !== undefined)) {
      return c.json(
        { error: 'bad_request', message: c.get('role') === 'upload' ? 'an upload token reprocesses one app, not all' : '"all" takes no "app" or "release"' },
        c.get('role') === 'upload' ? 403 : 400,
      );
    }
    const app = all ? undefined : (body.app as string | undefined);
    const release = all ? undefined : (body.release as string | undefined);
    const refused = all ? null : otherApp(c, app);
    if (refused) return refused;
    // The index's keys for apps without a GUID (`product:<name>`, `-`) select crashes too.
    if (!all && app !== NO_APP && !app?.startsWith(PRODUCT_APP_PREFIX)) validateAppGuid(app);
    if (release) validateRelease(release);
    // Each app-wide reprocess reads every stored crash: one at a time.
    if (appWideRunning) return c.json({ error: 'busy', message: 'a reprocess of an app is running; try again when it is done' }, 429, { 'Retry-After': '10' });
    appWideRunning = true;
    const what = `${all ? 'every app' : `app ${app}`}${release ? ` release ${JSON.stringify(release)}` : ''}`;
    const who = byWhom(c);
    const queuing = (async (): Promise<string[]> => {
      const ids: string[] = [];
      try {
        for await (const id of options.storage.listCrashIds()) {
          const raw = await options.storage.getRaw(id).catch(() => null);
          if (!raw) continue;
          const a = raw.annotations;
          if (all || (appKey(a.WebAppGUID?.trim() ? a.WebAppGUID : null, a.ProductName ?? null) === app && (!release || a.Version === release))) ids.push(id);
        }
        for (const id of ids) await options.queue.enqueue(id);
      } finally {
        appWideRunning = false;
      }
      if (ids.length) options.wake();
      options.log(`reprocess: ${what}: ${ids.length} ${ids.length === 1 ? 'crash' : 'crashes'} queued (${who})`);
      return ids;
    })();
    // A store of many crashes takes minutes to read and queue: the answer does not wait for
    // that (a proxy or the CLI would give up), the log says when it is done.
    let timer: NodeJS.Timeout | undefined;
    const ids = await Promise.race([queuing, new Promise<null>((resolve) => (timer = setTimeout(resolve, options.answerWaitMs ?? REPROCESS_ANSWER_WAIT_MS, null)))]);
    clearTimeout(timer);
    if (ids === null) {
      queuing.catch((err: unknown) => options.log(`reprocess: ${what}: queuing failed: ${(err as Error).message}`));
      return c.json({ queuing: true, message: `still reading and queuing the crashes of ${what}; the receiver's log says how many when it is done` }, 202);
    }
    // The upload token reads no crash: it learns how many were queued, not which.
    if (c.get('role') === 'upload') return c.json({ queued: ids.length });
    return c.json({ queued: ids.length, crash_ids: ids.slice(0, MAX_LISTED_IDS).map((id) => `${CRASH_ID_PREFIX}${id}`) });
  });

  return routes;
}

/** The fields `POST /api/reprocess` takes. */
const REPROCESS_FIELDS = ['app', 'release', 'crash_ids', 'all'];

/**
 * Problems with a reprocess request's fields. Refused rather than ignored: a misspelt or
 * mistyped `release` would otherwise reprocess every crash of the app.
 */
function reprocessProblems(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(body)) {
    if (!REPROCESS_FIELDS.includes(key)) problems.push(`unknown field ${JSON.stringify(key.slice(0, 40))}; it takes ${REPROCESS_FIELDS.join(', ')}`);
  }
  for (const key of ['app', 'release']) {
    const value = body[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) problems.push(`${key} must be a non-empty string, got ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  if (body.all !== undefined && typeof body.all !== 'boolean') problems.push(`all must be true or false, got ${JSON.stringify(body.all)?.slice(0, 40)}`);
  return problems;
}

/** The fields an upload takes. */
const UPLOAD_FIELDS = ['app', 'release', 'replace', 'url', 'file'];

function formText(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === 'string' ? v : undefined;
}
