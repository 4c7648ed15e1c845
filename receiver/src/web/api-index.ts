import { type Context, Hono } from 'hono';
import type { CrashIndex } from '../index/crash-index.ts';
import { isSignatureId } from '../processor/signature.ts';
import type { SignatureStatuses } from '../triage/signature-status.ts';
import { type AppLookup, KnownApps } from './known-apps.ts';
import { under } from './links.ts';
import { appsParams, BAD_SIGNATURE_ID, MAX_APP_KEY_SHOWN, queryOf, searchParams, signatureParams, topCrashersParams } from './params.ts';
import { hiddenBy, rowStatus, statusFields } from './triage.ts';


/** Seconds a script is asked to wait (Retry-After) for an app the index being rebuilt lacks so far. */
const REBUILD_RETRY_AFTER_S = 30;

/**
 * The JSON behind the pages: `/api/apps` (also by key, for a walk), `/api/apps/<guid>/topcrashers`,
 * `/api/signatures/<id>`, `/api/search` (`/api/crashes/<id>` is in api-crashes.ts). Unlike the
 * pages, they refuse parameters they do not take.
 */
export function indexApiRoutes(index: CrashIndex, triage?: SignatureStatuses, known: KnownApps = new KnownApps(index)): Hono {
  const routes = new Hono();
  // Every address about one app answers so for a key nothing knows (see KnownApps), as top
  // crashers always did: a mistyped GUID would otherwise read as an app with no crashes. While
  // the index is rebuilt from storage, the app may only not be indexed yet: a script should try again.
  const unknownApp = (c: Context, app: string, found: AppLookup): Response => {
    const key = JSON.stringify(app.slice(0, MAX_APP_KEY_SHOWN));
    if (found.found === 'rebuilding') {
      c.header('Retry-After', String(REBUILD_RETRY_AFTER_S));
      return c.json({ error: 'index_rebuilding', message: `no crash of the app ${key} is indexed yet: the index is being rebuilt from the stored crashes; try again in a minute` }, 503);
    }
    // Keys are matched as written: an app key typed in another case than its crashes give it.
    const spelled = found.found === 'unknown' && found.spelled ? `; its crashes name it ${JSON.stringify(found.spelled)} (keys are matched as written)` : '';
    return c.json({ error: 'not_found', message: `no processed crash names the app ${key}, and it is not set up here${spelled} (GET ${under(c, '/api/apps')} lists the apps)` }, 404);
  };

  routes.get('/api/apps', async (c) => {
    const params = appsParams(queryOf(c), c.req.queries());
    // Apps set up but not crashed yet are listed too, with 0 crashes.
    const result = index.apps({ ...params, also: await known.withoutCrashes() });
    // After a cursor the page has no number.
    return c.json({ ...result, page: params.after ? null : result.page });
  });

  routes.get('/api/apps/:guid/topcrashers', async (c) => {
    // As the page: ignored signatures are left out (and counted in `hidden`) unless ?ignored=1.
    const { query, showIgnored } = topCrashersParams(queryOf(c), c.req.queries());
    const guid = c.req.param('guid');
    const found = await known.lookup(guid);
    if (!('app' in found)) return unknownApp(c, guid, found);
    const result = index.topCrashers(guid, { ...query, hide: showIgnored ? undefined : hiddenBy(triage), known: found.app })!;
    return c.json({ ...result, rows: result.rows.map((row) => ({ ...row, ...rowStatus(triage, row) })) });
  });

  routes.get('/api/signatures/:id', async (c) => {
    if (!isSignatureId(c.req.param('id'))) return c.json({ error: 'bad_signature_id', message: BAD_SIGNATURE_ID }, 400);
    const params = signatureParams(queryOf(c), c.req.queries());
    const summary = index.signature(c.req.param('id'), params);
    if (!summary) {
      // All its crashes moved by reprocessing, in an index rebuilt since: where they went.
      const moved = triage?.movedTo(c.req.param('id')) ?? [];
      return c.json({ error: 'not_found', message: 'no crash has this signature ID', ...(moved.length ? { moved_to: moved } : {}) }, 404);
    }
    if (params.app) {
      const found = await known.lookup(params.app);
      if (!('app' in found)) return unknownApp(c, params.app, found);
    }
    // After a cursor the page has no number.
    const reports = params.after ? { ...summary.reports, page: null } : summary.reports;
    return c.json({ ...summary, reports, ...statusFields(triage, summary.signature_id, summary.signature) });
  });

  routes.get('/api/search', async (c) => {
    const { query } = searchParams(queryOf(c), c.req.queries());
    if (query.app) {
      const found = await known.lookup(query.app);
      if (!('app' in found)) return unknownApp(c, query.app, found);
    }
    const result = index.search(query);
    // The query as it was used, for the script to read back: dates in ISO, and the page number or
    // the cursor as it was given (after a cursor the page has no number). The `url` as typed, when
    // it was encoded, is the index's to match, not part of the answer.
    const { after, page, from, to, urlAsGiven: _typed, ...filters } = query;
    const shown = {
      ...filters,
      from: from?.toISOString(),
      to: to?.toISOString(),
      page: after ? undefined : page,
      after: after ? c.req.query('after') : undefined,
    };
    return c.json({
      query: shown,
      ...result,
      page: after ? null : result.page,
      signatures: Object.fromEntries(index.signatureTexts(result.facets.signature.map((v) => v.value))),
    });
  });

  return routes;
}
