import { type Context, Hono } from 'hono';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import type { Forwarder } from '../forwarder/forwarder.ts';
import type { ForwardingStatus } from '../forwarder/status.ts';
import { type AppRegistry, InvalidApp, type RegisteredApp, validateApp } from '../forwarder/registry.ts';
import type { AuthVariables, Role } from './auth.ts';
import { problemPage } from './layout.tsx';
import { under } from './links.ts';
import { FORWARDING_SECTION_ID } from './report-page.tsx';
import type { CrashStorage } from '../storage/types.ts';
import { limitParam, noQueryParams, onlyParams, queryOf } from './params.ts';

/** Largest JSON body the registry API reads. */
const MAX_JSON_BYTES = 16 * 1024;
const MAX_OUTBOX_LISTED = 1000;
/** What a registry entry may say (`guid` only in the body of a POST; a PUT names it in the path). */
const APP_FIELDS = new Set(['guid', 'submit_url', 'trust_files', 'keep_copy']);

export interface ForwardingApiOptions {
  registry: AppRegistry;
  forwarder: Forwarder;
  storage: CrashStorage;
  /** Where changes to the registry are said (the receiver's log). */
  log?: (line: string) => void;
}

type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

async function readJson(c: Context): Promise<JsonBody> {
  // Only JSON: a plain HTML form cannot send it, so a cross-site form post cannot edit the registry.
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    return { ok: false, response: c.json({ error: 'wrong_content_type', message: 'send Content-Type: application/json' }, 415) };
  }
  if (Number(c.req.header('content-length')) > MAX_JSON_BYTES) {
    return { ok: false, response: c.json({ error: 'too_large', message: `body over ${MAX_JSON_BYTES} bytes` }, 413) };
  }
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES) return { ok: false, response: c.json({ error: 'too_large', message: `body over ${MAX_JSON_BYTES} bytes` }, 413) };
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, response: c.json({ error: 'bad_json', message: 'the body must be a JSON object' }, 400) };
  }
}

function optionalBool(body: Record<string, unknown>, key: string, problems: string[]): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') problems.push(`${key} must be true or false`);
  return v === true;
}

/**
 * The forwarding API, mounted behind the `/api/*` token check:
 *
 * - `GET /api/forwarding/apps` → `{ apps: RegisteredApp[] }`
 * - `GET /api/forwarding/apps/<guid>` → `{ app }`
 * - `PUT /api/forwarding/apps/<guid>` `{ submit_url, trust_files?, keep_copy? }` → `{ app, created }` (201 when new)
 * - `POST /api/forwarding/apps` `{ guid, submit_url, trust_files?, keep_copy? }` → the same
 * - `DELETE /api/forwarding/apps/<guid>` → `{ removed: true }`
 * - `GET /api/forwarding/outbox?limit=100` → `{ total, entries: OutboxEntry[] }`, soonest first
 * - `GET /api/forwarding/failed?app=&limit=100` → `{ total, entries: FailedForward[] }`, most recent first
 * - `POST /api/forwarding/failed/retry?app=` → `{ retried, not_retried }`: every failed forward (of the app) sent again
 * - `GET /api/crashes/<id>/forwarding` → `{ crash_id, forwarding: ForwardingStatus | null }`
 * - `POST /api/crashes/<id>/forwarding/retry` → `{ retried, forwarding }`
 *
 * and the report page's "Send again" form, `POST /report/<id>/forwarding/retry`, which checks the
 * session's CSRF token (as the triage forms do) and answers 303 to the report page, at its
 * forwarding section, which shows how it goes now.
 */
export function forwardingApiRoutes(options: ForwardingApiOptions): Hono<{ Variables: AuthVariables }> {
  const { registry, forwarder, storage } = options;
  const routes = new Hono<{ Variables: AuthVariables }>();

  const upsert = async (c: Context, guid: unknown, body: Record<string, unknown>): Promise<Response> => {
    // Every problem at once: the fields' types, unknown fields, and the registry's own rules.
    const problems: string[] = [];
    for (const key of Object.keys(body)) if (!APP_FIELDS.has(key)) problems.push(`unknown field ${JSON.stringify(key.slice(0, 40))}`);
    const trustFiles = optionalBool(body, 'trust_files', problems);
    const keepCopy = optionalBool(body, 'keep_copy', problems);
    if (typeof guid !== 'string') problems.push('guid is required');
    if (typeof body.submit_url !== 'string') problems.push('submit_url is required');
    if (typeof guid === 'string' && typeof body.submit_url === 'string') {
      try {
        validateApp({ guid, submitUrl: body.submit_url });
        if (forwarder.isThisReceiver(body.submit_url, `${new URL(c.req.url).host}/submit`)) {
          problems.push(`submit_url ${body.submit_url} is this receiver: give the address of the app's own receiver`);
        }
      } catch (err) {
        if (!(err instanceof InvalidApp)) throw err;
        problems.push(...err.problems);
      }
    }
    if (problems.length) return c.json({ error: 'invalid_app', message: problems.join('; '), problems }, 400);
    try {
      const { app, created } = await registry.upsert({ guid: guid as string, submitUrl: body.submit_url as string, trustFiles, keepCopy });
      // The query of a submit URL can hold a key: the log names the URL without it.
      options.log?.(
        `forwarding: ${created ? 'registered' : 'updated'} app ${app.guid} -> ${withoutQuery(app.submit_url)} (files ${app.trust_files ? 'forwarded' : 'withheld'}, master copy ${app.keep_copy ? 'kept' : 'deleted'}; admin)`,
      );
      return c.json({ app, created }, created ? 201 : 200);
    } catch (err) {
      if (err instanceof InvalidApp) return c.json({ error: 'invalid_app', message: err.problems.join('; '), problems: err.problems }, 400);
      throw err;
    }
  };

  /** A registry entry as the caller may see it: a viewer gets the submit URL without its query (a key may be in it). */
  const shown = (c: Context, app: RegisteredApp): RegisteredApp => (roleOf(c) === 'viewer' ? { ...app, submit_url: withoutQuery(app.submit_url) } : app);

  routes.use('/api/forwarding/apps', noQueryParams);
  routes.use('/api/forwarding/apps/*', noQueryParams);

  routes.get('/api/forwarding/apps', async (c) => c.json({ apps: (await registry.list()).map((app) => shown(c, app)) }));

  routes.get('/api/forwarding/apps/:guid', async (c) => {
    const app = await registry.lookup(c.req.param('guid'));
    return app ? c.json({ app: shown(c, app) }) : c.json({ error: 'not_found', message: 'no such app in the forwarding registry' }, 404);
  });

  routes.put('/api/forwarding/apps/:guid', async (c) => {
    const body = await readJson(c);
    return body.ok ? upsert(c, c.req.param('guid'), body.value) : body.response;
  });

  routes.post('/api/forwarding/apps', async (c) => {
    const body = await readJson(c);
    return body.ok ? upsert(c, body.value.guid, body.value) : body.response;
  });

  routes.delete('/api/forwarding/apps/:guid', async (c) => {
    const removed = await registry.remove(c.req.param('guid'));
    // Named as registered, not as the request spelled it (which may carry white space).
    if (removed) options.log?.(`forwarding: removed app ${removed.guid} from the registry (admin)`);
    return removed ? c.json({ removed: true }) : c.json({ error: 'not_found', message: 'no such app in the forwarding registry' }, 404);
  });

  // Their parameters strictly, as the rest of the API (a BadQuery is answered 400 by the app's
  // error handler): a misspelt `app=` on the retry would send every app's failed crashes again.
  routes.get('/api/forwarding/outbox', (c) => {
    onlyParams(c.req.queries(), ['limit']);
    return c.json(forwarder.pending(limitParam(queryOf(c), MAX_OUTBOX_LISTED, 100)));
  });

  routes.get('/api/forwarding/failed', (c) => {
    onlyParams(c.req.queries(), ['app', 'limit']);
    return c.json(forwarder.failedForwards({ app: c.req.query('app'), limit: limitParam(queryOf(c), MAX_OUTBOX_LISTED, 100) }));
  });

  routes.post('/api/forwarding/failed/retry', async (c) => {
    onlyParams(c.req.queries(), ['app']);
    return c.json(await forwarder.retryFailed(c.req.query('app')));
  });

  const crashId = (c: Context): string | null => normalizeCrashId(c.req.param('id') ?? '');
  const badId = (c: Context): Response =>
    c.json({ error: 'bad_crash_id', message: 'not a crash ID (expected bp-<uuid> ending in the date)' }, 400);

  routes.get('/api/crashes/:id/forwarding', async (c) => {
    onlyParams(c.req.queries(), []);
    const id = crashId(c);
    if (!id) return badId(c);
    const forwarding = await forwarder.status(id);
    if (!forwarding && !(await storage.getRaw(id))) return c.json({ error: 'not_found', message: `no crash ${id}` }, 404);
    return c.json({ crash_id: id, forwarding: forwardingFor(roleOf(c), forwarding) });
  });

  routes.post('/api/crashes/:id/forwarding/retry', async (c) => {
    onlyParams(c.req.queries(), []);
    const id = crashId(c);
    if (!id) return badId(c);
    if (!(await storage.getRaw(id))) return c.json({ error: 'not_found', message: `no crash ${id}` }, 404);
    const retried = await forwarder.retry(id);
    const forwarding = await forwarder.status(id);
    const answer = { retried, forwarding };
    if (retried) return c.json(answer);
    // Refused again under today's settings: its reason says what would let it go.
    const why = forwarding?.state === 'refused' && forwarding.reason ? `it is refused (${forwarding.reason_code}): ${forwarding.reason}` : 'it is forwarded, or not for forwarding now (see forwarding)';
    return c.json({ error: 'not_retried', message: `crash ${id} has nothing to send again: ${why}`, ...answer }, 409);
  });

  routes.post('/report/:id/forwarding/retry', async (c) => {
    const body = await c.req.parseBody();
    const expected = c.get('csrfToken');
    // Bearer clients have no session to ride on; cookie clients must echo the form's token.
    if (expected !== null && body.csrf !== expected) {
      return problemPage(c, 403, 'Not sent again', ['The form is out of date (its security token does not match your session): reload the page and try again.']);
    }
    const id = crashId(c);
    if (!id) return problemPage(c, 400, 'Not a crash ID', ['A crash ID looks like bp-de1bb258-cbbf-4589-a673-34f800261129.']);
    if (!(await storage.getRaw(id))) return problemPage(c, 404, 'No such crash', [`No crash bp-${id} is stored here.`]);
    // Not sent again (refused again under today's settings, its app removed): the page says why,
    // in the state and reason it shows.
    await forwarder.retry(id);
    return c.redirect(under(c, `/report/bp-${id}#${FORWARDING_SECTION_ID}`), 303);
  });

  return routes;
}

function roleOf(c: Context): Role | undefined {
  return c.get('role') as Role | undefined;
}

/** A submit URL without its query, shown `?…` (a key may be in it): what a viewer sees. */
export function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : `${url.slice(0, at)}?…`;
}

/** A crash's forwarding status as `role` may see it: a viewer gets its target without the query. */
export function forwardingFor(role: Role | undefined, status: ForwardingStatus | null): ForwardingStatus | null {
  return role === 'viewer' && status?.target ? { ...status, target: withoutQuery(status.target) } : status;
}
