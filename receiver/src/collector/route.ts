import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { Annotation, formatSubmitResponse } from '../../../shared/src/protocol.ts';
import type { CrashStorage, RawCrash } from '../storage/types.ts';
import { validateAppGuid } from '../symbols/validate.ts';
import type { SubmissionActivity } from './activity.ts';
import { SubmissionRejected, malformed } from './errors.ts';
import { checkSubmissionHeaders, type SubmissionLimits, parseSubmission, rawCrashFrom } from './parse.ts';
import { RateLimiter } from './rate-limit.ts';
import { Throttler } from './throttler.ts';
import { clientAddress, incomingClientAddress, requestedHost } from '../proxy.ts';

/**
 * Told about an accepted crash once it is durable, before the client is answered (the forwarder
 * puts it in its outbox). A listener that fails is logged and the crash stays accepted (it is on
 * disk).
 */
export type AcceptedListener = (crashId: string, raw: RawCrash) => void | Promise<void>;

/** Seconds a client is asked to wait before retrying when storage cannot write. */
export const STORAGE_RETRY_AFTER_SECONDS = 60;

export interface CollectorOptions {
  /** Where accepted crashes go; its saveRaw resolves once the crash is durable (and queued). */
  storage: CrashStorage;
  limits: SubmissionLimits;
  throttler?: Throttler;
  clientRatePerMinute?: number;
  appRatePerMinute?: number;
  trustProxy?: boolean;
  now?: () => Date;
  /** Told about each accepted crash once it is durable; several listeners run together. */
  onAccepted?: AcceptedListener | AcceptedListener[];
  log?: (line: string) => void;
  /** Marked at every submission, so background work can step aside during a burst. */
  activity?: SubmissionActivity;
}

/** What the collector has seen since start, for the stats endpoint and the log. */
export interface CollectorStats {
  accepted: number;
  /** Answered `Discarded=<rule>` by a throttle rule, in all and per rule. */
  discarded: number;
  discardedByRule: Record<string, number>;
  rejected: Record<string, number>;
}

type Bindings = { incoming?: IncomingMessage };

/** Where crashes are submitted; a client configured with a trailing slash is served too. */
export const SUBMIT_PATHS = ['/submit', '/submit/'];

/**
 * `POST /submit`: Antenna's breakpad resource for JavaScript crashes. Reads the body within its
 * limits as it streams in, parses it, rate-limits and throttles, saves it durably (and so queues
 * it for processing), then answers `CrashID=bp-…`.
 */
export function collectorRoutes(options: CollectorOptions): {
  routes: Hono<{ Bindings: Bindings }>;
  stats: CollectorStats;
  checkContinue: (req: IncomingMessage, res: ServerResponse) => boolean;
} {
  const throttler = options.throttler ?? new Throttler();
  const clientLimiter = new RateLimiter(options.clientRatePerMinute ?? 0);
  const appLimiter = new RateLimiter(options.appRatePerMinute ?? 0);
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const stats: CollectorStats = { accepted: 0, discarded: 0, discardedByRule: {}, rejected: {} };
  const routes = new Hono<{ Bindings: Bindings }>();

  /** Counts a refused submission and says how to answer it. */
  const refuse = (err: SubmissionRejected): ReturnType<typeof rejection> => {
    stats.rejected[err.code] = (stats.rejected[err.code] ?? 0) + 1;
    return rejection(err);
  };

  // CORS by hand: every answer allows any origin, and the preflight says what a submission may
  // send. (Hono's cors middleware costs more per request than parsing the whole submission.)
  routes.on('OPTIONS', SUBMIT_PATHS, (c) =>
    c.body(null, 204, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Content-Encoding',
      'Access-Control-Max-Age': '86400',
    }),
  );

  // Antenna answers anything but POST with 405; browsing to /submit should not ask for a login.
  routes.on(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'], SUBMIT_PATHS, (c) =>
    c.text('Discarded=method_not_allowed: submit crashes with POST multipart/form-data\n', 405, { Allow: 'POST, OPTIONS' }),
  );

  routes.on('POST', SUBMIT_PATHS, async (c) => {
    options.activity?.mark();
    try {
      const clientWait = clientLimiter.enabled
        ? clientLimiter.take(clientAddress(c, options.trustProxy ?? false))
        : 0;
      if (clientWait) {
        throw new SubmissionRejected(429, 'client_rate_limited', `too many submissions from this client; retry in ${clientWait}s`, {
          retryAfterSeconds: clientWait,
        });
      }

      const body = c.env?.incoming ?? Readable.fromWeb((c.req.raw.body ?? new Blob([]).stream()) as never);
      const parsed = await parseSubmission(body, (name) => c.req.header(name), options.limits);
      const { annotations } = parsed;

      // The GUID names the app's source maps, index entry and forwarding: one rule for it everywhere.
      const guid = annotations[Annotation.WebAppGUID];
      if (guid !== undefined) {
        try {
          validateAppGuid(guid);
        } catch (err) {
          throw malformed('invalid_guid', `WebAppGUID ${JSON.stringify(guid.slice(0, 60))}: ${(err as Error).message}`);
        }
      }
      const app = guid || annotations[Annotation.ProductName] || 'unknown';
      const appWait = appLimiter.enabled ? appLimiter.take(app) : 0;
      if (appWait) {
        throw new SubmissionRejected(429, 'app_rate_limited', `too many submissions for this app; retry in ${appWait}s`, {
          retryAfterSeconds: appWait,
        });
      }

      const decision = throttler.throttle(annotations);
      if (!decision.accept) {
        stats.discarded++;
        stats.discardedByRule[decision.rule] = (stats.discardedByRule[decision.rule] ?? 0) + 1;
        return answer(200, `Discarded=${decision.rule}\n`);
      }

      const receivedAt = now();
      const crashId = createCrashId(receivedAt);
      const metadata: RawCrash['metadata'] = {
        throttle_rule: decision.rule,
        content_encoding: parsed.contentEncoding,
        submitted_to: `${requestedHost(c, options.trustProxy ?? false).toLowerCase().slice(0, 300)}${c.req.path}`,
      };
      const raw = rawCrashFrom(crashId, receivedAt.toISOString(), metadata, parsed);
      try {
        await options.storage.saveRaw(raw, new Map([...parsed.files].map(([name, f]) => [name, f.data])), {
          body: parsed.body,
          boundary: parsed.boundary,
        });
      } catch (err) {
        throw new SubmissionRejected(
          503,
          'storage_unavailable',
          `could not store the crash (${(err as NodeJS.ErrnoException).code ?? (err as Error).name}); keep it and retry later`,
          { cause: err, retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS },
        );
      }
      stats.accepted++;
      await notifyAccepted(options.onAccepted, raw, log);
      return answer(200, formatSubmitResponse(crashId));
    } catch (err) {
      if (err instanceof SubmissionRejected) {
        if (err.status === 503) log(`collector: ${err.message}`);
        const { status, text, headers } = refuse(err);
        return answer(status, text, headers);
      }
      throw err;
    }
  });

  /**
   * For a request that sent `Expect: 100-continue`, before its body is invited: a submission
   * whose headers already say it will be refused (too large, wrong type or encoding) is answered
   * now, so the client does not upload megabytes to be told so. False means "go on".
   */
  const checkContinue = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || !SUBMIT_PATHS.includes((req.url ?? '').split('?')[0]!)) return false;
    try {
      checkSubmissionHeaders((name) => req.headers[name.toLowerCase()] as string | undefined, options.limits);
      // A client over its rate would be refused after the upload: say so before it.
      const clientWait = clientLimiter.enabled ? clientLimiter.wait(incomingClientAddress(req, options.trustProxy ?? false)) : 0;
      if (clientWait) {
        throw new SubmissionRejected(429, 'client_rate_limited', `too many submissions from this client; retry in ${clientWait}s`, { retryAfterSeconds: clientWait });
      }
      return false;
    } catch (err) {
      if (!(err instanceof SubmissionRejected)) throw err;
      const { status, text, headers } = refuse(err);
      // The body will not be read: the connection cannot be reused.
      res.writeHead(status, { ...PLAIN_TEXT_ANY_ORIGIN, ...headers, connection: 'close' });
      res.end(text);
      return true;
    }
  };

  return { routes, stats, checkContinue };
}

// Module-level rather than closures made per request: under tsx every named closure costs a
// defineProperty call, and these run for every submission.

/**
 * The collector's answers: plain text that any origin may read. Built as a Response with plain
 * header objects, which @hono/node-server writes out directly (`c.text` with extra headers goes
 * through a Headers object, a few percent of a submission's cost).
 */
function answer(status: number, text: string, headers?: Record<string, string>): Response {
  return new Response(text, { status, headers: headers ? { ...PLAIN_TEXT_ANY_ORIGIN, ...headers } : PLAIN_TEXT_ANY_ORIGIN });
}
const PLAIN_TEXT_ANY_ORIGIN: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/plain; charset=UTF-8',
  'access-control-allow-origin': '*',
});

/** `Discarded=<code>: <reason>` on one line whatever the client sent, with Retry-After when there is one. */
function rejection(err: SubmissionRejected): { status: number; text: string; headers?: Record<string, string> } {
  return {
    status: err.status,
    text: `Discarded=${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`,
    headers: err.retryAfterSeconds ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined,
  };
}

/** Runs every listener and waits for all; a failure is logged, never turned into an error answer. */
async function notifyAccepted(listeners: CollectorOptions['onAccepted'], raw: RawCrash, log: (line: string) => void): Promise<void> {
  const all = listeners === undefined ? [] : Array.isArray(listeners) ? listeners : [listeners];
  const results = await Promise.allSettled(all.map(async (listener) => listener(raw.crash_id, raw)));
  for (const r of results) {
    if (r.status === 'rejected') log(`collector: after accepting bp-${raw.crash_id}: ${(r.reason as Error)?.stack ?? String(r.reason)}`);
  }
}
