import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { formatSubmitResponse } from '../../../shared/src/protocol.ts';
import { basePathOf } from '../base-path.ts';
import type { CrashStorage, RawCrash } from '../storage/types.ts';
import { decide, type Judge } from './accept.ts';
import { BodyDeadlines } from './body-deadlines.ts';
import type { SubmissionActivity } from './activity.ts';
import { clientRateLimited, lowDisk, SubmissionRejected, storageUnavailable } from './errors.ts';
import { checkSubmissionHeaders, type SubmissionLimits, parseSubmission, rawCrashFrom } from './parse.ts';
import { PendingBytes, type PendingHolding } from './pending.ts';
import { RateLimiter } from './rate-limit.ts';
import { Throttler } from './throttler.ts';
import { clientAddress, incomingClientAddress, incomingRequestedHost, type ProxyTrust, requestedHost } from '../proxy.ts';

/**
 * Told about an accepted crash once it is durable, before the client is answered (the forwarder
 * puts it in its outbox). A listener that fails is logged and the crash stays accepted (it is on
 * disk).
 */
export type AcceptedListener = (crashId: string, raw: RawCrash) => void | Promise<void>;

export interface CollectorOptions {
  /** Where accepted crashes go; its saveRaw resolves once the crash is durable (and queued). */
  storage: CrashStorage;
  limits: SubmissionLimits;
  throttler?: Throttler;
  clientRatePerMinute?: number;
  appRatePerMinute?: number;
  trustProxy?: ProxyTrust;
  now?: () => Date;
  /** Told about each accepted crash once it is durable; several listeners run together. */
  onAccepted?: AcceptedListener | AcceptedListener[];
  log?: (line: string) => void;
  /** Marked at every submission, so background work can step aside during a burst. */
  activity?: SubmissionActivity;
  /** Bytes of bodies all submissions in progress may hold in memory together (unbounded if not given). */
  maxPendingBytes?: number;
  /** Why no crash should be taken now though storage still writes (the disk is under its floor), or null. */
  lowDisk?: () => string | null;
  /**
   * `--public-url`. When it has a path, a submission addressed to its host went through the proxy
   * at that path, which took it off: `submitted_to` puts it back (`tools.example.com/crashes/submit`).
   */
  publicUrl?: string;
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

/** How often a collector that cannot store crashes says so in the log. */
const STORAGE_LOG_EVERY_MS = 10_000;

/** Where crashes are submitted; a client configured with a trailing slash is served too. */
export const SUBMIT_PATHS = ['/submit', '/submit/'];

/**
 * The path of a request target as Hono routes it: the absolute form (`POST http://host/submit`)
 * and dot segments resolved, percent-escapes decoded, the query left off. Requests taken before
 * Hono sees them must be recognised the same way, or `/./submit` would skip their checks.
 *
 * @example requestPath('http://127.0.0.1:8000/./%73ubmit?x=1') // '/submit'
 */
export function requestPath(target: string): string {
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  // The usual target needs no URL parsing: it is on the hot path.
  if (path.startsWith('/') && !path.startsWith('//') && !path.includes('%') && !path.includes('/.')) return path;
  const url = URL.parse(target, 'http://localhost');
  if (!url) return path;
  try {
    return decodeURI(url.pathname);
  } catch {
    return url.pathname;
  }
}

/**
 * `POST /submit`: Antenna's breakpad resource for JavaScript crashes. Reads the body within its
 * limits as it streams in, parses it, rate-limits and throttles, saves it durably (and so queues
 * it for processing), then answers `CrashID=bp-…`.
 */
export function collectorRoutes(options: CollectorOptions): {
  routes: Hono<{ Bindings: Bindings }>;
  stats: CollectorStats;
  checkContinue: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Takes a `POST /submit` from node:http directly; rejects only for a bug (answer 500). */
  handle: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
} {
  const clientLimiter = new RateLimiter(options.clientRatePerMinute ?? 0);
  const judge: Judge = {
    throttler: options.throttler ?? new Throttler(),
    appLimiter: new RateLimiter(options.appRatePerMinute ?? 0),
    now: options.now ?? (() => new Date()),
  };
  const log = options.log ?? (() => undefined);
  const pending = new PendingBytes(options.maxPendingBytes ?? Infinity);
  const deadlines = options.limits.submitTimeoutMs ? new BodyDeadlines(options.limits.submitTimeoutMs) : undefined;
  const stats: CollectorStats = { accepted: 0, discarded: 0, discardedByRule: {}, rejected: {} };
  const routes = new Hono<{ Bindings: Bindings }>();
  const publicHost = options.publicUrl ? new URL(options.publicUrl).host : '';
  const publicPath = basePathOf(options.publicUrl);

  // A full disk refuses every submission: one line per STORAGE_LOG_EVERY_MS says so, with a count.
  let storageLoggedAt = -Infinity;
  let unlogged = 0;
  const logStorageProblem = (message: string): void => {
    const now = performance.now();
    if (now - storageLoggedAt < STORAGE_LOG_EVERY_MS) return void unlogged++;
    log(`collector: ${message}${unlogged ? ` (${unlogged} more refused so since the last such line)` : ''}`);
    storageLoggedAt = now;
    unlogged = 0;
  };

  /** Counts a refused submission and says how to answer it. */
  const refuse = (err: SubmissionRejected): Answer => {
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
    c.text('Discarded=method_not_allowed: submit crashes with POST multipart/form-data\n', 405, { ...PLAIN_TEXT_ANY_ORIGIN, Allow: 'POST, OPTIONS' }),
  );

  /** Reads, judges and stores one submission; every refusal becomes its answer. */
  const submit = async (req: SubmitRequest): Promise<Answer> => {
    options.activity?.mark();
    const client = req.clientAddress();
    const holding = pending.hold(client);
    try {
      const clientWait = clientLimiter.enabled ? clientLimiter.take(client) : 0;
      if (clientWait) throw clientRateLimited(clientWait);
      const disk = options.lowDisk?.();
      if (disk) throw lowDisk(disk);
      const host = req.host().toLowerCase().slice(0, 300);
      const submittedTo = `${host}${publicPath && host === publicHost ? publicPath : ''}${req.path}`;
      const outcome = await take(req, submittedTo, holding);
      if (!outcome.accept) {
        stats.discarded++;
        stats.discardedByRule[outcome.rule] = (stats.discardedByRule[outcome.rule] ?? 0) + 1;
        return { status: 200, text: `Discarded=${outcome.rule}\n` };
      }
      stats.accepted++;
      await notifyAccepted(options.onAccepted, outcome.crash, log);
      return { status: 200, text: formatSubmitResponse(outcome.crash.crash_id) };
    } catch (err) {
      if (!(err instanceof SubmissionRejected)) throw err;
      if (err.status === 503) logStorageProblem(err.message);
      return refuse(err);
    } finally {
      holding.release();
    }
  };

  /** Parses, judges and (when accepted) durably stores a submission. */
  const take = async (req: SubmitRequest, submittedTo: string, holding: PendingHolding): Promise<Outcome> => {
    const parsed = await parseSubmission(req.body, (name) => req.header(name), options.limits, holding, deadlines);
    const verdict = decide(parsed.annotations, judge);
    if (!verdict.accept) return verdict;
    const metadata: RawCrash['metadata'] = { throttle_rule: verdict.rule, content_encoding: parsed.contentEncoding, submitted_to: submittedTo };
    const raw = rawCrashFrom(verdict.crashId, verdict.receivedAt.toISOString(), metadata, parsed);
    try {
      await options.storage.saveRaw(raw, new Map([...parsed.files].map(([name, f]) => [name, f.data])), { body: parsed.body, boundary: parsed.boundary });
    } catch (err) {
      throw storageUnavailable(err);
    }
    return { accept: true, crash: raw };
  };

  routes.on('POST', SUBMIT_PATHS, async (c) => {
    const { status, text, headers } = await submit({
      body: c.env?.incoming ?? Readable.fromWeb((c.req.raw.body ?? new Blob([]).stream()) as never),
      header: (name) => c.req.header(name),
      clientAddress: () => clientAddress(c, options.trustProxy),
      host: () => requestedHost(c, options.trustProxy),
      path: c.req.path,
    });
    return new Response(text, { status, headers: headers ? { ...PLAIN_TEXT_ANY_ORIGIN, ...headers } : PLAIN_TEXT_ANY_ORIGIN });
  });

  /**
   * `POST /submit` straight from node:http, ahead of Hono: the same submission, without
   * building a Request and a Response for it (a tenth of the cost of taking a crash).
   */
  const handle = (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> =>
    submit(new NodeSubmitRequest(req, path, options.trustProxy)).then((answer) =>
      req.complete ? write(res, answer, true) : readRestOfBody(req, answer.status, options.limits.submitTimeoutMs).then((whole) => write(res, answer, whole)),
    );

  /**
   * For a request that sent `Expect: 100-continue`, before its body is invited: a submission
   * whose headers already say it will be refused (too large, wrong type or encoding) is answered
   * now, so the client does not upload megabytes to be told so. False means "go on".
   */
  const checkContinue = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = requestPath(req.url ?? '');
    if (req.method !== 'POST' || !SUBMIT_PATHS.includes(path)) return false;
    const request = new NodeSubmitRequest(req, path, options.trustProxy);
    try {
      checkSubmissionHeaders((name) => request.header(name), options.limits);
      // A client over its rate would be refused after the upload: say so before it.
      const clientWait = clientLimiter.enabled ? clientLimiter.wait(request.clientAddress()) : 0;
      if (clientWait) throw clientRateLimited(clientWait);
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

  return { routes, stats, checkContinue, handle };
}

// Module-level rather than closures made per request: under tsx every named closure costs a
// defineProperty call, and these run for every submission.

/** The collector's answers: plain text that any origin may read. */
const PLAIN_TEXT_ANY_ORIGIN: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/plain; charset=UTF-8',
  'access-control-allow-origin': '*',
});

/** Writes an answer; `keepAlive` false closes the connection after it (its request's body was not all read). */
function write(res: ServerResponse, { status, text, headers }: Answer, keepAlive: boolean): void {
  res.writeHead(status, {
    ...PLAIN_TEXT_ANY_ORIGIN,
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
    ...(keepAlive ? undefined : { connection: 'close' }),
  });
  res.end(text);
}

/** A refused submission whose body is still arriving is read to its end when it declares at most this many bytes. */
const READ_REFUSED_BODY_BYTES = 1024 * 1024;

/**
 * Reads and drops the rest of a refused submission's body before it is answered; true once it
 * has all arrived. A refusal can come before the body has (over the rate, the disk under its
 * floor, a malformed start). Answering and closing at once makes the kernel reset a connection
 * whose sent bytes were not read, and a client still uploading then sees a broken pipe instead
 * of the 429 and its Retry-After. A crash-sized body is read on, for at most the submission
 * timeout. A larger one, or one of unknown length, could go on for as long as the client sends,
 * as could one refused for its size or slowness (413, 408): false at once, and the connection
 * closes after the answer.
 */
function readRestOfBody(req: IncomingMessage, status: number, timeoutMs: number | undefined): Promise<boolean> {
  const declared = Number(req.headers['content-length']);
  if (status === 408 || status === 413 || !(declared <= READ_REFUSED_BODY_BYTES)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (): void => {
      clearTimeout(timer);
      req.off('end', settle);
      req.off('close', settle);
      resolve(req.complete);
    };
    const timer = setTimeout(settle, timeoutMs || 60_000);
    req.once('end', settle);
    req.once('close', settle);
    req.resume();
  });
}

/** `Discarded=<code>: <reason>` on one line whatever the client sent, with Retry-After when there is one. */
function rejection(err: SubmissionRejected): Answer {
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

/** A submission accepted (durably stored) or discarded by a throttle rule. */
type Outcome = { accept: true; crash: RawCrash } | { accept: false; rule: string };

/** What the collector answers: a status, one line of text, and extra headers (Retry-After). */
interface Answer {
  status: number;
  text: string;
  headers?: Record<string, string>;
}

/** A submission request, whether it came through Hono or straight from node:http. */
interface SubmitRequest {
  body: Readable;
  header(name: string): string | undefined;
  clientAddress(): string;
  /** The host (and port) the client addressed. */
  host(): string;
  path: string;
}

/** A submission request straight from node:http. A class, not closures: under tsx each named closure costs a defineProperty call. */
class NodeSubmitRequest implements SubmitRequest {
  constructor(
    readonly body: IncomingMessage,
    readonly path: string,
    private readonly trustProxy: ProxyTrust = false,
  ) {}

  header(name: string): string | undefined {
    const value = this.body.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  clientAddress(): string {
    return incomingClientAddress(this.body, this.trustProxy);
  }

  host(): string {
    return incomingRequestedHost(this.body, this.trustProxy);
  }
}
