import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type AcceptedListener, collectorRoutes, type CollectorStats, requestPath, SUBMIT_PATHS } from './collector/route.ts';
import type { SubmissionActivity } from './collector/activity.ts';
import type { Throttler } from './collector/throttler.ts';
import type { Config } from './config.ts';
import type { Forwarder } from './forwarder/forwarder.ts';
import type { AlertStats } from './notify/webhook.ts';
import type { AppRegistry } from './forwarder/registry.ts';
import type { CrashStorage, WorkQueue } from './storage/types.ts';
import type { CrashIndex } from './index/crash-index.ts';
import type { Processing } from './processor/start.ts';
import type { BuiltDemo } from './demo/build.ts';
import { basePathOf } from './base-path.ts';
import { demoRoutes } from './demo/routes.ts';
import { crashApiRoutes } from './web/api-crashes.ts';
import { sourcemapApiRoutes } from './web/api-sourcemaps.ts';
import { appTokenRoutes, type AppUploadTokens } from './web/app-tokens.ts';
import { forwardingApiRoutes } from './web/api-forwarding.ts';
import { indexApiRoutes } from './web/api-index.ts';
import { KnownApps } from './web/known-apps.ts';
import { wrongMethod } from './web/api-methods.ts';
import { requireAuth, Sessions } from './web/auth.ts';
import { healthRoutes, type HealthOptions } from './web/health.ts';
import { servedUnder, under } from './web/links.ts';
import { loginRoutes } from './web/login.tsx';
import { problemPage } from './web/layout.tsx';
import { pageRoutes } from './web/pages.tsx';
import { BadQuery, badQueryBody, noQueryParams } from './web/params.ts';
import { noStore, pageSecurityHeaders } from './web/security.ts';
import { staticRoutes } from './web/static.ts';
import { triageRoutes } from './web/triage.ts';
import type { SignatureStatuses } from './triage/signature-status.ts';
import { writeFileSync } from 'node:fs';
import { INDEX_DAMAGED_MARK, INDEX_FILE, isIndexDamage } from './index/open.ts';

/** Largest body of a form or an API call; a source map upload has its own limit. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
const SOURCEMAP_UPLOAD_PATH = '/api/sourcemaps';

export interface AppDeps {
  config: Config;
  storage: CrashStorage;
  queue: WorkQueue;
  index: CrashIndex;
  /** Resolved / ignored signatures (`<data-dir>/signature-status.json`); their API and buttons are mounted when given. */
  triage?: SignatureStatuses;
  /** True while the index is rebuilt from storage in the background (the apps page says so). */
  indexRebuilding?: () => boolean;
  tmpDir: string;
  adminToken: string;
  throttler?: Throttler;
  version: HealthOptions['version'];
  onAccepted?: AcceptedListener | AcceptedListener[];
  /** The forwarding registry and outbox (issue 7); their API is mounted when given. */
  forwarding?: { registry: AppRegistry; forwarder: Forwarder };
  /** The background processor and source map store (issue 3); their API is mounted when given. */
  processing?: Processing;
  /** Marked by the collector at every submission (background work yields to bursts). */
  activity?: SubmissionActivity;
  /** Crashes accepted and journaled but not laid out as folders yet. */
  backlog?: () => number;
  /** Crashes laid out and waiting in the processing queue. */
  queued?: () => Promise<number>;
  /** What the webhook has done and how many alerts wait (also without --webhook-url). */
  alerts?: () => AlertStats | Promise<AlertStats>;
  /** Why storage cannot do its work right now (a full disk), for the heartbeat. */
  storageProblem?: () => string | null;
  /** Why new crashes are refused though storage still writes (the disk under --min-free-disk), or null. */
  lowDisk?: () => string | null;
  /** Upload tokens tied to one app (`<data-dir>/upload-tokens.json`); their API is mounted when given. */
  appTokens?: AppUploadTokens;
  /** The built demo app, served at /demo/ when given. */
  demo?: BuiltDemo;
  /** The report pages' clock, which "3 h ago" is told from (tests fix it; default the system's). */
  now?: () => Date;
  log: (line: string) => void;
}

/** Wires the receiver's parts into one Hono app: routes, auth, and the one error boundary. */
export function createApp(deps: AppDeps): {
  app: Hono;
  collectorStats: CollectorStats;
  checkContinue: ReturnType<typeof collectorRoutes>['checkContinue'];
  /** `POST /submit` from node:http, ahead of Hono; it never rejects. */
  submit: ReturnType<typeof collectorRoutes>['handle'];
} {
  const { config } = deps;
  const app = new Hono();
  const collector = collectorRoutes({
    storage: deps.storage,
    limits: config,
    throttler: deps.throttler,
    clientRatePerMinute: config.clientRatePerMinute,
    appRatePerMinute: config.appRatePerMinute,
    trustProxy: config.trustProxy,
    onAccepted: deps.onAccepted,
    log: deps.log,
    activity: deps.activity,
    maxPendingBytes: config.maxPendingBytes,
    publicUrl: config.publicUrl,
    lowDisk: deps.lowDisk,
  });
  app.route('/', collector.routes as unknown as Hono);
  /** Why the index cannot answer (found damaged by a query), for the heartbeat and every answer that needs it. */
  let indexDamaged: string | null = null;
  app.route('/', healthRoutes({ tmpDir: deps.tmpDir, version: deps.version, storageProblem: () => deps.storageProblem?.() ?? indexDamaged }));
  // Everything below hands out addresses (links, redirects, cookies): under the --public-url path.
  app.use('*', servedUnder(basePathOf(config.publicUrl)));
  // The demo app is a stranger's web page, not part of the report pages: no login, its own headers.
  if (deps.demo) app.route('/', demoRoutes(deps.demo, config.publicUrl));

  // Pages and the API: secure headers, then the login form, then everything behind the admin
  // token (a session cookie or a Bearer header). Routes above this line are not affected.
  const publicOrigin = config.publicUrl ? URL.parse(config.publicUrl)?.origin : undefined;
  const sessions = new Sessions({
    token: deps.adminToken,
    viewerToken: config.viewerToken,
    sessionMs: config.sessionHours * 3_600_000,
    secureCookies: publicOrigin?.startsWith('https:'),
    trustProxy: config.trustProxy,
    endedFile: join(resolve(config.dataDir), 'ended-sessions.json'),
  });
  const login = loginRoutes({ sessions, publicOrigin, trustProxy: config.trustProxy, uploadToken: config.uploadToken, appTokens: deps.appTokens });
  // Forms and API calls are small; only a source map upload (its own limit) may be large. Checked
  // before the login, so nobody can make the receiver read a gigabyte to be told no.
  const limitBody = bodyLimit({
    maxSize: MAX_REQUEST_BODY_BYTES,
    // The rest of the body is not read: the connection cannot carry another request.
    onError: (c) => c.json({ error: 'too_large', message: `request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes here` }, 413, { connection: 'close' }),
  });
  app.use('*', (c, next) => (c.req.path === SOURCEMAP_UPLOAD_PATH ? next() : limitBody(c, next)));
  app.use('*', pageSecurityHeaders({ https: publicOrigin?.startsWith('https:'), underPath: basePathOf(config.publicUrl) !== '' }), noStore());
  app.route('/', staticRoutes());
  app.route('/', login.open);
  app.use('*', requireAuth({ sessions, publicOrigin, trustProxy: config.trustProxy, uploadToken: config.uploadToken, appTokens: deps.appTokens }));
  app.route('/', login.guarded);
  // As every API address: a parameter it does not take is refused (400), not ignored.
  app.get('/api/stats', noQueryParams, async (c) => {
    // The queue is counted on disk: a folder that cannot be read is said in `processing.error`
    // (queued null), not answered 500 with the parts that could be read.
    const queued = await Promise.resolve(deps.queued?.()).then(
      (count) => ({ queued: count ?? null }),
      (err: Error) => ({ queued: null, error: err.message }),
    );
    return c.json({
      collector: collector.stats,
      // How far the work behind the collector lags: crashes waiting in the journal, then in the queue.
      layout: { waiting: deps.backlog?.() ?? 0 },
      processing: deps.processing ? { ...deps.processing.processor.stats, ...queued } : null,
      alerts: (await deps.alerts?.()) ?? null,
      // Forwarding: crashes waiting in the outbox, and those whose forwarding failed (until retried).
      forwarding: deps.forwarding?.forwarder.counts() ?? null,
    });
  });
  app.route(
    '/',
    crashApiRoutes({
      storage: deps.storage,
      deleteCrash: async (id) => {
        // Before the folder goes: a stop before the index forgets it is then told from a restore.
        deps.index.markDeleting(id);
        // And for the queue: processing that finds it gone from storage now says nothing of it.
        deps.queue.deleting?.(id);
        await deps.storage.delete(id);
        await deps.queue.done(id);
        await deps.forwarding?.forwarder.forget(id);
        deps.index.erase(id);
      },
      log: deps.log,
    }),
  );
  if (deps.processing) {
    const { store, processor } = deps.processing;
    app.route(
      '/',
      sourcemapApiRoutes({ store, storage: deps.storage, queue: deps.queue, maxUploadBytes: config.maxSourcemapUploadBytes, wake: () => processor.wake(), log: deps.log }),
    );
  }
  if (deps.appTokens) app.route('/', appTokenRoutes({ tokens: deps.appTokens, log: deps.log }));
  if (deps.forwarding) app.route('/', forwardingApiRoutes({ ...deps.forwarding, storage: deps.storage, log: deps.log }));
  // An app is one with crashes, or one set up here (forwarding, upload tokens, source maps) that has none yet.
  const known = new KnownApps(
    deps.index,
    { registry: deps.forwarding?.registry, tokens: deps.appTokens, sourcemaps: deps.processing?.store },
    deps.indexRebuilding,
  );
  app.route('/', indexApiRoutes(deps.index, deps.triage, known));
  if (deps.triage) app.route('/', triageRoutes({ index: deps.index, triage: deps.triage, log: deps.log }));
  app.route(
    '/',
    pageRoutes({
      index: deps.index,
      storage: deps.storage,
      rebuilding: deps.indexRebuilding ?? (() => false),
      triage: deps.triage,
      forwarding: deps.forwarding ? (id) => deps.forwarding!.forwarder.status(id) : undefined,
      now: deps.now,
      known,
    }),
  );

  /**
   * `Expect: 100-continue`: the collector refuses what a submission's headers rule out; any
   * other request declaring a body over its limit is refused before the body is invited.
   */
  const checkContinue = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (collector.checkContinue(req, res)) return true;
    const path = requestPath(req.url ?? '');
    if (SUBMIT_PATHS.includes(path)) return false;
    const limit = path === SOURCEMAP_UPLOAD_PATH ? config.maxSourcemapUploadBytes : MAX_REQUEST_BODY_BYTES;
    if (!(Number(req.headers['content-length']) > limit)) return false;
    res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: 'too_large', message: `request bodies are limited to ${limit} bytes here` }));
    return true;
  };

  app.notFound((c) => {
    const refused = wrongMethod(app, c);
    if (refused) return refused;
    // A person who followed a wrong link gets a page; programs (the API, no HTML accepted) JSON.
    if (!c.req.path.startsWith('/api/') && c.req.method === 'GET' && /text\/html/.test(c.req.header('accept') ?? '')) {
      const lines = [`There is no page at ${under(c, c.req.path)}.`];
      // `npm run firefox` opens /demo/ on whatever receiver it is pointed at.
      if (!config.demo && /^\/demo(\/|$)/.test(c.req.path)) lines.push('The demo app is off on this receiver: it runs with --demo (as npm start does).');
      return problemPage(c as unknown as Parameters<typeof problemPage>[0], 404, 'Page not found', lines);
    }
    return c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404);
  });
  // The one error boundary: a bug anywhere is logged with its stack and answered 500, for the
  // submissions taken straight from node:http too.
  const INTERNAL_ERROR = { error: 'internal', message: 'internal error; see the receiver log' };
  app.onError((err, c) => {
    if (err instanceof BadQuery) return c.json(badQueryBody(err), 400);
    if (isIndexDamage(err)) {
      // The index is a cache of storage: the next start sets it aside and builds it again.
      if (!indexDamaged) {
        indexDamaged = `the crash index ${join(config.dataDir, INDEX_FILE)} is damaged (${(err as Error).message}): restart the receiver to rebuild it from the stored crashes (nothing stored is lost)`;
        deps.log(`index: ${indexDamaged}`);
        try {
          writeFileSync(join(config.dataDir, INDEX_DAMAGED_MARK), `${new Date().toISOString()} ${(err as Error).message}\n`);
        } catch (markErr) {
          deps.log(`index: could not leave ${INDEX_DAMAGED_MARK} for the next start (${(markErr as Error).message}); delete ${INDEX_FILE} before starting`);
        }
      }
      return c.json({ error: 'index_damaged', message: indexDamaged }, 503);
    }
    deps.log(`error: ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json(INTERNAL_ERROR, 500);
  });
  const submit: typeof collector.handle = (req, res, path) =>
    collector.handle(req, res, path).catch((err: Error) => {
      deps.log(`error: POST ${path}: ${err.stack ?? err.message}`);
      // Any origin may read it, as every answer of the collector.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', 'access-control-allow-origin': '*', connection: 'close' });
      res.end(JSON.stringify(INTERNAL_ERROR));
    });
  return { app, collectorStats: collector.stats, checkContinue, submit };
}
