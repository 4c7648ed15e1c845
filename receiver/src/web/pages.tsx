import type { Context } from 'hono';
import { Hono } from 'hono';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { ANNOTATION_NAME_PATTERN } from '../../../shared/src/protocol.ts';
import type { CrashIndex } from '../index/crash-index.ts';
import { isSignatureId } from '../processor/signature.ts';
import type { CrashStorage } from '../storage/types.ts';
import { AppsPage } from './apps-page.tsx';
import { appName } from './format.ts';
import type { AuthVariables } from './auth.ts';
import { page, problemPage } from './layout.tsx';
import { appsParams, BAD_SIGNATURE_ID, BadQuery, MAX_APP_KEY_SHOWN, queryOf, searchParams, signatureParams, topCrashersParams } from './params.ts';
import { ReportPage } from './report-page.tsx';
import { SearchPage } from './search-page.tsx';
import { MovedNotice, SignaturePage } from './signature-page.tsx';
import { TopCrashersPage } from './topcrashers-page.tsx';
import type { ForwardingStatus } from '../forwarder/status.ts';
import type { SignatureStatuses } from '../triage/signature-status.ts';
import { fileDownload } from './security.ts';
import { hiddenBy, rowStatus, statusFields } from './triage.ts';
import { forwardingFor } from './api-forwarding.ts';
import { type AppLookup, KnownApps } from './known-apps.ts';

export interface PageDeps {
  index: CrashIndex;
  storage: CrashStorage;
  /** True while the index is being rebuilt from storage in the background. */
  rebuilding: () => boolean;
  /** How forwarding went for a crash (a master receiver), or null when it was never forwarded. */
  forwarding?: (crashId: string) => Promise<ForwardingStatus | null>;
  /** Resolved / ignored signatures: badges, hiding ignored ones, and the signature page's buttons. */
  triage?: SignatureStatuses;
  /** The clock pages tell "3 h ago" from (tests fix it). */
  now?: () => Date;
  /** Which app keys are apps: with crashes, or set up without any yet (default: those with crashes). */
  known?: KnownApps;
}

type Env = { Variables: AuthVariables };

/** Apps the search form's app list offers: the busiest ones. */
const SEARCH_APP_CHOICES = 200;

/**
 * Why a page about one app has nothing to show for `app`, and where the apps are listed; while
 * the index is rebuilt, that the app may only not be indexed yet (answered 503, not 404).
 */
function unknownApp(app: string, rebuilding: boolean, spelled: string | null = null): { status: 404 | 503; lines: string[] } {
  const shown = app.slice(0, MAX_APP_KEY_SHOWN);
  if (rebuilding) {
    return { status: 503, lines: [`No crash of the app ${shown} is indexed yet: the index is being rebuilt from the stored crashes.`, 'Reload this page in a minute.'] };
  }
  return {
    status: 404,
    lines: [
      `No processed crash names the app ${shown}, and it is not set up here (registered for forwarding, given upload tokens or source maps).`,
      ...(spelled ? [`Its crashes name it ${spelled}: app keys are matched as written.`] : []),
      'The Apps page lists the apps there are.',
    ],
  };
}

/** unknownApp for what KnownApps found, when that is no app. */
function notAnApp(app: string, found: AppLookup): { status: 404 | 503; lines: string[] } {
  return unknownApp(app, found.found === 'rebuilding', found.found === 'unknown' ? found.spelled : null);
}

/** The report pages (server-rendered, no script): apps, top crashers, signature, report, search. */
export function pageRoutes(deps: PageDeps): Hono<Env> {
  const { index, storage } = deps;
  const now = deps.now ?? ((): Date => new Date());
  const known = deps.known ?? new KnownApps(index, {}, deps.rebuilding);
  const routes = new Hono<Env>();

  const noSuchApp = (c: Context<Env>, app: string, found: AppLookup): Response | Promise<Response> => {
    const { status, lines } = notAnApp(app, found);
    return problemPage(c, status, status === 503 ? 'App not indexed yet' : 'No such app', lines);
  };

  routes.get('/', async (c) => {
    const params = appsParams(queryOf(c));
    // Apps set up but not crashed yet are listed too, with 0 crashes.
    const result = index.apps({ ...params, also: await known.withoutCrashes() });
    return page(c, 'Apps', <AppsPage result={result} after={params.after} limitGiven={params.limit} rebuilding={deps.rebuilding()} />);
  });

  routes.get('/apps/:guid', async (c) => {
    const guid = c.req.param('guid');
    const { query, showIgnored } = topCrashersParams(queryOf(c));
    const found = await known.lookup(guid);
    if (!('app' in found)) return noSuchApp(c, guid, found);
    const result = index.topCrashers(guid, { ...query, hide: showIgnored ? undefined : hiddenBy(deps.triage), known: found.app })!;
    const status = deps.triage ? (row: { signature_id: string; signature: string }) => rowStatus(deps.triage, row) : undefined;
    const setUp = found.found === 'set-up' ? found.setUp : undefined;
    return page(c, `Top crashers · ${appName(result.app)}`, <TopCrashersPage result={result} status={status} showIgnored={showIgnored} noCrashesYet={setUp} now={now()} />);
  });

  routes.get('/signatures/:id', async (c) => {
    if (!isSignatureId(c.req.param('id'))) return problemPage(c, 400, 'Not a signature ID', [BAD_SIGNATURE_ID]);
    const params = signatureParams(queryOf(c));
    const summary = index.signature(c.req.param('id'), params);
    if (!summary) {
      // Reprocessing moved all its crashes away, and the index (a cache) was rebuilt since: the
      // status file still says where they went.
      const moved = deps.triage?.movedTo(c.req.param('id')) ?? [];
      if (moved.length) {
        const body = (
          <>
            <h1>No such signature</h1>
            <MovedNotice moved={moved} all={true} app={params.app} />
          </>
        );
        return page(c, 'No such signature', body, 404);
      }
      return problemPage(c, 404, 'No such signature', ['The index has no crash with this signature ID.']);
    }
    const found = params.app ? await known.lookup(params.app) : null;
    if (params.app && found && !('app' in found)) return noSuchApp(c, params.app, found);
    const app = found && 'app' in found ? found.app : null;
    const url = new URL(c.req.url);
    const status = statusFields(deps.triage, summary.signature_id, summary.signature);
    const triage = deps.triage
      ? {
          entry: status.triage,
          ignoredByDefault: status.ignored_by_default,
          bugs: status.bugs,
          carriedFrom: status.carried_from,
          csrfToken: c.get('csrfToken') ?? null,
          back: url.pathname + url.search,
          readOnly: c.get('role') === 'viewer',
        }
      : undefined;
    const appNames = new Map(
      summary.facets.app.map((v) => {
        const known = index.app(v.value);
        return [v.value, known ? appName(known) : v.value];
      }),
    );
    return page(c, summary.signature, <SignaturePage summary={summary} appName={app ? appName(app) : null} appNames={appNames} triage={triage} movedTo={status.moved_to} now={now()} />);
  });

  routes.get('/report/:id', async (c) => {
    const id = normalizeCrashId(c.req.param('id'));
    if (!id) return problemPage(c, 400, 'Not a crash ID', ['A crash ID looks like bp-de1bb258-cbbf-4589-a673-34f800261129.']);
    const raw = await storage.getRaw(id);
    if (!raw) return problemPage(c, 404, 'No such crash', [`No crash bp-${id} is stored here.`]);
    const processed = await storage.getProcessed(id);
    const forwarding = forwardingFor(c.get('role'), (await deps.forwarding?.(id)) ?? null);
    const viewer = { csrfToken: c.get('csrfToken') ?? null, admin: c.get('role') === 'admin' };
    return page(c, `${processed?.signature ?? 'Crash'} · bp-${id}`, <ReportPage raw={raw} processed={processed} forwarding={forwarding} viewer={viewer} now={now()} />);
  });

  routes.get('/report/:id/files/:name', async (c) => {
    const id = normalizeCrashId(c.req.param('id'));
    const name = c.req.param('name');
    if (!id || !ANNOTATION_NAME_PATTERN.test(name)) return problemPage(c, 400, 'Bad file address', ['Not a crash ID or a file part name.']);
    const data = await storage.getFile(id, name);
    if (!data) return problemPage(c, 404, 'No such file', [`Crash bp-${id} has no file ${name}.`]);
    return fileDownload(data, `${id}-${name}`);
  });

  routes.get('/search', async (c) => {
    // The busiest apps to choose from, and the one asked for even when it is not among them;
    // then every app set up with no crash yet, by key, as the Apps page lists them after the
    // rest. Finding them is the Apps page's work per view: one read of the source-map folder,
    // and only the folders of apps with no crash looked into (their manifests are remembered).
    const apps = index.busiestApps(SEARCH_APP_CHOICES);
    const asked = c.req.query('app');
    const found = asked && !apps.some((a) => a.guid === asked) ? await known.lookup(asked) : null;
    if (found?.found === 'crashes') apps.unshift(found.app);
    const setUp = (await known.withoutCrashes()).sort();
    const menu = { apps, setUp, rebuilding: deps.rebuilding() };
    try {
      const parsed = searchParams(queryOf(c));
      // An app nothing knows is a mistyped key, as on top crashers, not an empty result; the
      // form stays filled in to correct it.
      if (parsed.query.app && !apps.some((a) => a.guid === parsed.query.app) && found?.found !== 'set-up') {
        const { status, lines } = found ? notAnApp(parsed.query.app, found) : unknownApp(parsed.query.app, deps.rebuilding());
        return page(c, 'Search (no such app)', <SearchPage form={parsed.form} result={null} errors={lines} invalid={['app']} {...menu} signatureTexts={new Map()} now={now()} />, status);
      }
      // No filter lists the newest crashes, as /api/search does.
      const result = index.search(parsed.query);
      const signatureTexts = index.signatureTexts(result?.facets.signature.map((v) => v.value) ?? []);
      return page(c, 'Search', <SearchPage form={parsed.form} result={result} errors={[]} {...menu} signatureTexts={signatureTexts} now={now()} />);
    } catch (err) {
      if (!(err instanceof BadQuery)) throw err;
      // Refill the form with what was typed, so the mistake can be corrected.
      const form = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.length <= 500));
      const title = `Search (${err.problems.length} ${err.problems.length === 1 ? 'problem' : 'problems'})`;
      return page(c, title, <SearchPage form={form} result={null} errors={err.problems} invalid={err.fields} {...menu} signatureTexts={new Map()} now={now()} />, 400);
    }
  });

  routes.onError((err, c) => {
    if (err instanceof BadQuery) return problemPage(c as Context<Env>, 400, 'Bad address', err.problems);
    throw err;
  });
  return routes;
}
