import { createServer, type IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createApp } from './app.ts';
import { basePathOf, firstSegment, withoutBasePath } from './base-path.ts';
import { readVersion } from './version.ts';
import { SubmissionActivity } from './collector/activity.ts';
import { type CollectorStats, requestPath, SUBMIT_PATHS } from './collector/route.ts';
import { Throttler } from './collector/throttler.ts';
import { buildDemo } from './demo/build.ts';
import { uploadDemoSourcemaps } from './demo/upload.ts';
import type { Config } from './config.ts';
import { type Forwarder, openForwarding } from './forwarder/forwarder.ts';
import { RegistryUnreadable } from './forwarder/registry.ts';
import type { AppRegistry } from './forwarder/registry.ts';
import { appKey, type CrashIndex } from './index/crash-index.ts';
import { openIndexForServer } from './index/open.ts';
import { NO_SIGNATURE } from './processor/process-crash.ts';
import { openProcessing, type Processing } from './processor/start.ts';
import { TuningError } from './processor/tuning.ts';
import { DataDirBusy, lockDataDir } from './storage/data-dir-lock.ts';
import { isDiskFull, writeFileDurably } from './storage/durable.ts';
import { DiskSpace } from './storage/disk-space.ts';
import { FsWorkQueue } from './storage/fs-queue.ts';
import { FsCrashStorage } from './storage/fs-storage.ts';
import { dayExpired, Retention } from './storage/retention.ts';
import { type JournalFs, JournaledCrashStorage } from './storage/journal.ts';
import { AdminTokenFileError, ensureAdminToken } from './web/token.ts';
import { DataFormatError, markDataFormat, readDataFormat, thisRelease } from './storage/data-format.ts';
import { type NewSignatureWebhook, openWebhook, unsentAlertStats } from './notify/webhook.ts';
import { SPIKE_ALERTS_FILE, SPIKE_WINDOW_MS, SpikeDetector } from './notify/spikes.ts';
import { SignatureStatuses, StatusFileError } from './triage/signature-status.ts';
import { AppTokensFileError, AppUploadTokens } from './web/app-tokens.ts';
import type { ProcessedCrash } from './storage/types.ts';

export interface RunningReceiver {
  /** Where users and clients reach it: --public-url, else the address it listens on. */
  url: string;
  /** The address it listens on, as reached from this machine. */
  localUrl: string;
  port: number;
  adminToken: string;
  /** Where the admin token came from: set, kept in the data dir, or made at this start. */
  adminTokenSource: 'config' | 'file' | 'generated';
  dataDir: string;
  storage: JournaledCrashStorage;
  queue: FsWorkQueue;
  /** The forwarding outbox and the app registry (issue 7). */
  forwarder: Forwarder;
  registry: AppRegistry;
  /** The background processor and the source map store (issue 3). */
  processing: Processing;
  /** The SQLite crash index behind the report pages and the API. */
  index: CrashIndex;
  /** Resolves once a background index rebuild started at open has finished: true when the index is whole. */
  indexRebuilt: Promise<boolean>;
  /** Deletes crashes past --retention-days. */
  retention: Retention;
  /** Which signatures are resolved or ignored (`<data-dir>/signature-status.json`). */
  triage: SignatureStatuses;
  /** Alerts for new and regressed signatures, from `<data-dir>/webhook-outbox/`; null without --webhook-url. */
  webhook: NewSignatureWebhook | null;
  /** Stops taking connections and resolves when in-flight requests have finished. */
  close(): Promise<void>;
}

export interface StartDeps {
  log?: (line: string) => void;
  fs?: JournalFs;
  /** How often the collector's activity is logged (tests shorten it). */
  activityLogMs?: number;
  /** The report pages' clock, which "3 h ago" is told from (tests fix it). */
  now?: () => Date;
}

/**
 * A reason the receiver cannot start that the operator can fix (a busy port, a bad rules file,
 * another receiver on the data dir): `serve` prints it as one plain line, without a stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

const LISTEN_ADVICE: Record<string, string> = {
  EADDRINUSE: 'the port is in use; choose another --port',
  EACCES: 'not allowed; ports below 1024 need privileges, choose another --port',
  EADDRNOTAVAIL: 'this machine has no such address; check --host',
  ENOTFOUND: 'no such host; check --host',
};

/**
 * Listens, then opens the data dir and builds the app; used by `socorrito serve` and by tests.
 * The port comes first, so a busy port is reported before anything is created on disk.
 */
export async function startReceiver(config: Config, deps: StartDeps = {}): Promise<RunningReceiver> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(config.dataDir);
  const listener = await listen(config);
  let releaseDataDir: () => Promise<void>;
  try {
    releaseDataDir = await lockDataDir(dataDir, log);
  } catch (err) {
    await listener.close();
    if (isDiskFull(err)) throw diskFull(dataDir, err);
    if (err instanceof DataDirBusy) throw new StartupError(err.message, { cause: err });
    throw new StartupError(`cannot use the data dir ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await startLocked(config, dataDir, log, deps, releaseDataDir, listener);
  } catch (err) {
    await releaseDataDir().catch(() => undefined);
    await listener.close();
    throw isDiskFull(err) ? diskFull(dataDir, err) : err;
  }
}

function startupErrorFromDataFormat(err: unknown): never {
  throw err instanceof DataFormatError ? new StartupError(err.message, { cause: err }) : err;
}

/** A start cut short by a full disk, said so that the operator knows what to do. */
function diskFull(dataDir: string, err: unknown): StartupError {
  const code = (err as { code: string }).code;
  return new StartupError(`the disk holding ${dataDir} is full (${code}): free some space and start again; crashes already accepted are kept`, { cause: err });
}

/** Seconds a client that comes while the receiver starts is asked to wait. */
const STARTING_RETRY_AFTER_SECONDS = 5;

/** The answer to every request until the app is ready (a journal replay can take a while). */
function starting(): Response {
  return new Response(`Discarded=starting: the receiver is starting; retry in ${STARTING_RETRY_AFTER_SECONDS}s\n`, {
    status: 503,
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'access-control-allow-origin': '*',
      'retry-after': String(STARTING_RETRY_AFTER_SECONDS),
    },
  });
}

/** What the listener hands requests to once the app is ready. */
interface Handlers {
  fetch: (req: Request, env: object) => Response | Promise<Response>;
  checkContinue: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** `POST /submit`, taken from node:http before Hono sees it; never rejects. */
  submit: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
  /** The path (`/crashes`) taken off requests that carry it, or ''. */
  basePath: string;
}

interface Listener {
  server: ServerType;
  /** Hands requests to the app from now on. */
  ready(handlers: Handlers): void;
  /**
   * Answers from now on, and those still being worked on, say `Connection: close`: a client
   * does not send its next request on a connection the stop is about to close.
   */
  stopping(): void;
  close(): Promise<void>;
}

/** Listens on the configured address, answering 503 until `ready`. */
async function listen(config: Config): Promise<Listener> {
  let handle: (req: Request, env: object) => Response | Promise<Response> = starting;
  let checkContinue: (req: IncomingMessage, res: ServerResponse) => boolean = () => false;
  let submit: Handlers['submit'] | null = null;
  let stopping = false;
  /**
   * Answers written once the stop has begun say `Connection: close`, including those of
   * requests that came in before it. The flag is read as the headers are written: a set of the
   * responses in flight would do the same, but its discarded tables kept answered requests
   * alive through young collections, and the collector paid for copying them.
   */
  class Answer extends ServerResponse {
    override writeHead(...args: unknown[]): this {
      if (stopping) this.shouldKeepAlive = false;
      return ServerResponse.prototype.writeHead.apply(this, args as never) as this;
    }
  }
  const toHono = getRequestListener((req, env) => handle(req, env as object), { hostname: config.host });
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    // Submissions, the one hot path, go straight to the collector; Hono routes the rest.
    if (submit && req.method === 'POST') {
      const path = requestPath(req.url!);
      if (SUBMIT_PATHS.includes(path)) {
        void submit(req, res, path);
        return;
      }
    }
    void toHono(req, res);
  };
  // Behind a proxy that does not strip the --public-url path (or browsed to directly under it),
  // requests carry it: every part of the receiver sees them as if the proxy had stripped it.
  let base = '';
  const strip = (req: IncomingMessage): void => {
    if (base) req.url = withoutBasePath(req.url!, base);
  };
  const server: ServerType = await new Promise<ServerType>((resolveServer, rejectServer) => {
    const s = createServer({ ServerResponse: Answer }, (req, res) => {
      strip(req);
      route(req, res);
    });
    // A client that shuts down its sending side right after the body still gets its answer (its
    // crash is stored); Node would otherwise drop the request when the FIN arrives.
    (s as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
    s.listen(config.port, config.host, () => resolveServer(s));
    s.once('error', rejectServer);
    // `Expect: 100-continue`: Node invites the body unless someone listens; the collector first
    // refuses what its headers already rule out, then the request goes on as any other.
    s.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      strip(req);
      if (checkContinue(req, res)) return;
      res.writeContinue();
      route(req, res);
    });
  }).catch((err: NodeJS.ErrnoException) => {
    const advice = LISTEN_ADVICE[err.code ?? ''];
    if (!advice) throw err;
    throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${advice} (${err.code})`, { cause: err });
  });
  return {
    server,
    ready(handlers) {
      handle = handlers.fetch;
      checkContinue = handlers.checkContinue;
      submit = handlers.submit;
      base = handlers.basePath;
    },
    stopping() {
      stopping = true;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

async function startLocked(
  config: Config,
  dataDir: string,
  log: (line: string) => void,
  deps: StartDeps,
  releaseDataDir: () => Promise<void>,
  listener: Listener,
): Promise<RunningReceiver> {
  let throttler: Throttler;
  try {
    throttler = config.throttleRules ? await Throttler.fromFile(config.throttleRules) : new Throttler();
  } catch (err) {
    throw new StartupError(`--throttle-rules: ${(err as Error).message}`, { cause: err });
  }
  // A data dir a newer release wrote is refused before anything is written to it.
  await readDataFormat(dataDir).catch(startupErrorFromDataFormat);
  const folders = new FsCrashStorage(dataDir, deps.fs);
  const { removedTemp } = await folders.open();
  if (removedTemp) log(`storage: removed ${removedTemp} unfinished temp entries left by a previous run`);
  // Through the real filesystem: a test's failing one (a full disk for crash folders) is not about this small file.
  const { before: lastRelease } = await markDataFormat(dataDir, folders.tmpDir).catch(startupErrorFromDataFormat);
  if (lastRelease && lastRelease.written_by !== thisRelease()) log(`data dir: last used by ${lastRelease.written_by}; now by ${thisRelease()}`);
  const queue = new FsWorkQueue(dataDir, folders.tmpDir, deps.fs);
  await queue.open();
  // Everything reads and writes crashes through the journal: accepted crashes are durable after
  // a group-committed fdatasync, then laid out as folders and queued in the background.
  // `storage.onStored(listener)` is told of each crash once its folder and queue entry exist
  // (the processor wakes up there).
  // Laying crashes out and processing them share the event loop with the collector; they step
  // aside while it takes a burst (bounded in time and memory; see collector/activity.ts).
  const activity = new SubmissionActivity();
  const yieldTo = (): boolean => activity.busy();
  const storage = new JournaledCrashStorage({ dataDir, folders, queue, fs: deps.fs, log, yieldTo });
  const { replayed } = await storage.open();
  if (replayed) log(`storage: replayed ${replayed} accepted ${replayed === 1 ? 'crash' : 'crashes'} from the journal`);
  const token = await ensureAdminToken(dataDir, folders.tmpDir, config.adminToken).catch((err: unknown) => {
    throw err instanceof AdminTokenFileError ? new StartupError(err.message, { cause: err }) : err;
  });
  // Config can compare tokens given together; the one kept in the data dir only shows up here.
  if (token.source !== 'config') {
    const same = [config.viewerToken === token.token && '--viewer-token', config.uploadToken === token.token && '--upload-token'].filter(Boolean);
    if (same.length) throw new StartupError(`${same.join(' and ')} must differ from the admin token kept in ${token.path}: it would have the admin's rights`);
  }
  let triage: SignatureStatuses;
  try {
    triage = await SignatureStatuses.open({ dataDir, tmpDir: folders.tmpDir, log, fs: deps.fs });
  } catch (err) {
    if (err instanceof StatusFileError) throw new StartupError(err.message, { cause: err });
    throw err;
  }
  let appTokens: AppUploadTokens;
  try {
    appTokens = await AppUploadTokens.open(dataDir, folders.tmpDir);
  } catch (err) {
    if (err instanceof AppTokensFileError) throw new StartupError(err.message, { cause: err });
    throw err;
  }
  let forwarding;
  try {
    forwarding = await openForwarding(config, { dataDir, storage, queue, fs: deps.fs, log, port: (listener.server.address() as AddressInfo).port });
  } catch (err) {
    if (err instanceof RegistryUnreadable) throw new StartupError(err.message, { cause: err });
    throw err;
  }
  const { registry, forwarder } = forwarding;

  // Checked against the crash folders at start (a backup restored); see storageMismatch.
  const stored = {
    crashesDir: folders.crashesDir,
    tmpDir: folders.tmpDir,
    crashDir: (id: string) => folders.crashDir(id),
    queued: (id: string) => queue.has(id),
    expired: (day: string) => dayExpired(day, config.retentionDays, new Date()),
  };
  const crashIndex = await openIndexForServer(dataDir, storage, stored, log);
  // An app that keeps no copy on the master: its forwarded crashes leave the index too, with
  // their signature's text and the app's name when no other crash has them (as an erasure).
  // The old page images leave the write-ahead log a second after the last such crash, not once
  // per crash a busy master relays (each checkpoint writes and syncs the index).
  let checkpointSoon: NodeJS.Timeout | null = null;
  forwarder.onDeleting((id) => crashIndex.index.markDeleting(id));
  forwarder.onDeleted((id) => {
    crashIndex.index.erase(id, { checkpoint: false });
    checkpointSoon ??= setTimeout(() => {
      checkpointSoon = null;
      crashIndex.index.checkpoint();
    }, 1000).unref();
  });
  /** A registered app whose crashes the master only passes on (it keeps no copy): they never alert here. */
  const relayedOnly = (p: ProcessedCrash): boolean => p.app_guid !== null && registry.cached(p.app_guid)?.keep_copy === false;
  // The processor drains the queue in the background and tells the index of each crash.
  let receiverUrl = config.publicUrl ?? '';
  // Alerts a previous run could not deliver start going out now (they carry their own links).
  const webhook = await openWebhook(config, { dataDir, tmpDir: folders.tmpDir, fs: deps.fs, receiverUrl: () => receiverUrl, log });
  const spikes = webhook
    ? new SpikeDetector({
        minPerHour: config.spikeAlerts,
        countOverDays: (app, id, first, last, environment) => crashIndex.index.signatureCountOverDays(app, id, first, last, environment),
      })
    : null;
  // Spike alerts go on where the last run left them: its last hour from the index, and which
  // signatures alerted lately (so a restart does not alert them again) from spike-alerts.json.
  const spikeFile = join(dataDir, SPIKE_ALERTS_FILE);
  let spikeWrites: Promise<void> = Promise.resolve();
  if (spikes) {
    try {
      spikes.restoreQuiet(JSON.parse(await readFile(spikeFile, 'utf8')) as Record<string, unknown>);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`spike alerts: ignoring ${spikeFile} (${(err as Error).message}): signatures that alerted lately may alert again`);
    }
  }
  const rememberSpikes = (): void => {
    spikeWrites = spikeWrites
      .then(() => writeFileDurably(spikeFile, JSON.stringify(spikes!.quietUntil()), folders.tmpDir, deps.fs))
      .catch((err: unknown) => log(`spike alerts: could not write ${spikeFile}: ${(err as Error).message}`));
  };
  // --alert-environments: only crashes from those alert and reopen, and "new" means new to them.
  const alertEnvironments = config.alertEnvironments;
  const alertsFor = (p: ProcessedCrash): boolean => alertEnvironments.length === 0 || alertEnvironments.includes(p.environment ?? '');
  const isNewSignature = (p: ProcessedCrash): boolean =>
    alertEnvironments.length === 0 ? !crashIndex.index.hasSignature(p.signature_id) : !crashIndex.index.hasSignatureIn(p.signature_id, alertEnvironments);
  // False after a rebuild of the index failed: it lacks crashes, so it cannot say what is new or usual.
  let indexWhole = true;
  const indexProcessed = (p: ProcessedCrash): void => {
    // Deleted while it was processed (forwarded by a master that keeps no copy, or by the API):
    // its deletion has taken it out of the index already, and indexing it now would leave a row
    // with no crash behind it, which retention (working from the folders) never removes.
    if (!existsSync(folders.crashDir(p.crash_id))) return;
    // Null: processed for the first time. Read before the upsert moves it.
    const before = crashIndex.index.signatureIdOf(p.crash_id);
    // Moved by reprocessing into a signature no crash had: the new signature takes the old one's
    // status, note and bugs when it has none (before the alerts below ask whether it is ignored
    // or resolved). Not into a signature with crashes of its own, which is a bug of its own
    // standing: a stray minified crash someone ignored must not hide a live top crasher once its
    // maps arrive. Not from or to the bucket of failed crashes, which groups no bug.
    if (before !== null && before !== p.signature_id && !p.processing_error && p.signature !== NO_SIGNATURE) {
      const old = crashIndex.index.signatureText(before);
      if (old !== null && old !== NO_SIGNATURE) {
        // The old signature's page says where its crashes went, carried over or not.
        triage.crashMoved(before, p);
        if (!crashIndex.index.hasSignature(p.signature_id) && triage.crashRegrouped({ signature_id: before, signature: old }, p.signature_id)) {
          log(`triage: signature ${p.signature_id} took the status, note and bugs of ${before}, whose crashes reprocessing regrouped under it`);
        }
      }
    }
    if (relayedOnly(p) || !alertsFor(p)) return void crashIndex.index.upsert(p);
    // A crash processed again (reprocessing after an upgrade or a late upload) may move to a
    // signature no crash had: the same bug regrouped, not a new one, so it does not alert.
    const isNew = webhook !== null && !p.processing_error && indexWhole && before === null && isNewSignature(p);
    crashIndex.index.upsert(p);
    // Ignored signatures never alert, those ignored by default (browser extensions' errors) included.
    if (isNew && triage.statusOf(p.signature_id, p.signature) !== 'ignored') webhook.notify(p);
    // A crash of a resolved signature reopens it (ignored ones stay quiet).
    const regressed = triage.crashProcessed(p);
    if (regressed) webhook?.regression(p, regressed.resolved_at ?? null);
    const spike = indexWhole ? spikes?.crashProcessed(p, appKey(p.app_guid, p.product)) : null;
    if (spike && triage.statusOf(p.signature_id, p.signature) !== 'ignored') webhook!.spike(p, spike);
    if (spike) rememberSpikes();
  };
  let processing: Processing;
  try {
    processing = await openProcessing(config, { dataDir, tmpDir: folders.tmpDir, storage, queue, log, onProcessed: indexProcessed, yieldTo });
  } catch (err) {
    if (err instanceof TuningError) throw new StartupError(err.message, { cause: err });
    throw err;
  }

  const retention = new Retention({
    folders,
    days: config.retentionDays,
    onDeleted: async (id) => {
      crashIndex.index.remove(id);
      await storage.forget(id);
      // Out of the forwarding outbox and the failed list too (they would name a crash that is gone).
      await forwarder.forget(id);
    },
    // Noted in the index while a day goes, for the start-up check (see storageMismatch).
    onDaySweeping: (day) => crashIndex.index.markSweeping(day),
    onDaySwept: (day) => crashIndex.index.unmarkSweeping(day),
    waiting: storage,
    log,
  });

  const diskSpace = await new DiskSpace(dataDir, config.minFreeDiskBytes).start();
  // A setting that refuses every crash from the start is said at the start, not at the first crash.
  const lowAtStart = diskSpace.problem();
  if (lowAtStart) log(`collector: ${lowAtStart}; until then every crash is refused (503)`);
  const demo = config.demo ? await buildDemo(join(dataDir, 'demo-build')) : undefined;

  const { app, collectorStats, checkContinue, submit } = createApp({
    activity,
    backlog: () => storage.backlog,
    queued: () => queue.size(),
    alerts: webhook ? () => ({ webhook: true, ...webhook.stats() }) : unsentAlertStats(dataDir, folders.tmpDir),
    storageProblem: () => storage.problem() ?? diskSpace.problem(),
    lowDisk: () => diskSpace.problem(),
    demo,
    config,
    storage,
    queue,
    index: crashIndex.index,
    triage,
    appTokens,
    indexRebuilding: crashIndex.rebuilding,
    tmpDir: folders.tmpDir,
    adminToken: token.token,
    throttler,
    version: readVersion(),
    // The processor is woken by storage.onStored below, once the crash is laid out and queued.
    onAccepted: [(id, raw) => forwarder.accepted(id, raw)],
    processing,
    forwarding: { registry, forwarder },
    now: deps.now,
    log,
  });

  // A request under the --public-url path is taken as one whose proxy did not strip it, unless
  // that path begins like one of the receiver's own (`/api`): such a request could be either.
  const basePath = basePathOf(config.publicUrl);
  const clash = basePath ? app.routes.find((r) => firstSegment(r.path) === firstSegment(basePath)) : undefined;
  if (clash) log(`public URL: its path ${basePath} begins like the receiver's own ${clash.path}: the proxy must strip ${basePath} off, requests that still carry it are not taken`);

  const server = listener.server;
  listener.ready({ fetch: app.fetch, checkContinue, submit, basePath: clash ? '' : basePath });
  // Whether a signature is new, and how often it crashed in the week before a spike, are read
  // from the index: while it is rebuilt (new schema, damage, a restored backup) it lacks crashes
  // stored long ago, and processing would alert on signatures known for months. Crashes accepted
  // meanwhile wait in the queue, and processing starts once the index is whole.
  let closing = false;
  const startProcessing = (): void => {
    if (closing) return;
    try {
      // The last hour before this start counts toward spikes.
      if (indexWhole) spikes?.seed(crashIndex.index.crashesSince(Date.now() - SPIKE_WINDOW_MS));
    } catch (err) {
      log(`spike alerts: could not read the last hour from the index (${(err as Error).message}): counting starts now`);
    }
    processing.processor.start();
  };
  if (crashIndex.rebuilding()) {
    // Said only of a rebuild that takes a while (not of a new data dir's empty one).
    const say = setTimeout(() => log('processor: waits for the index rebuild to finish (alerts compare with every stored crash); crashes accepted meanwhile wait in the queue'), 1000).unref();
    void crashIndex.rebuilt.then((whole) => {
      clearTimeout(say);
      if (!whole && !closing) {
        // Crashes are processed all the same (pages show them); only what reads the index's history waits for a whole one.
        indexWhole = false;
        log('processor: the index rebuild did not finish, so new-signature and spike alerts are off until a restart rebuilds it; crashes are processed and regressions still alert');
      }
      startProcessing();
    });
  } else {
    startProcessing();
  }
  retention.start();
  const activityLog = logCollectorActivity(collectorStats, log, deps.activityLogMs);
  storage.onStored(() => processing.processor.wake());
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  // All interfaces (0.0.0.0, ::) are reached here through loopback.
  const localUrl = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl === '[::]' ? '[::1]' : hostForUrl}:${port}`;
  const url = config.publicUrl ?? localUrl;
  receiverUrl = url;
  // The demo's source maps go in the way a user's do: upload-sourcemaps over HTTP.
  if (demo) await uploadDemoSourcemaps(demo, localUrl, token.token, log, basePath);

  return {
    url,
    localUrl,
    port,
    adminToken: token.token,
    adminTokenSource: token.source,
    dataDir,
    storage,
    queue,
    index: crashIndex.index,
    indexRebuilt: crashIndex.rebuilt,
    forwarder,
    registry,
    processing,
    retention,
    triage,
    webhook,
    close: () =>
      new Promise<void>((done) => {
        // Idle keep-alive sockets would hold close() open until they time out, and a busy one
        // turns idle once its request is answered: keep closing idle ones until all are gone.
        closing = true;
        listener.stopping();
        const closeIdle = (): void => (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        const sweeper = setInterval(closeIdle, 50);
        server.close(() => {
          clearInterval(sweeper);
          diskSpace.stop();
          if (checkpointSoon) clearTimeout(checkpointSoon);
          // The minute under way is summed up too, or a stop would leave it out of the log.
          activityLog.stop();
          // Crashes already answered are in the journal; laying them out finishes here or,
          // if the process is stopped first, on the next start. The forwarder stops first: it
          // reads crashes from storage, which closes after it.
          void forwarder
            .stop()
            .then(() => retention.stop())
            .then(() => processing.close())
            // After processing, so the alerts of the last crashes processed are in the outbox.
            .then(() => webhook?.stop())
            .then(() => spikeWrites)
            .then(() => triage.flushed())
            .then(() => storage.close())
            .catch((err: Error) => log(`storage: ${err.message}`))
            .then(() => crashIndex.close())
            .then(releaseDataDir)
            .then(done, done);
        });
        closeIdle();
      }),
  };
}

/** How often the collector's activity is summed up in the log. */
export const ACTIVITY_LOG_MS = 60_000;

/**
 * One log line a minute saying what the collector did, when it did anything: enough to see
 * that crashes arrive and why some were turned away, without a line per request. `stop()` sums
 * up the minute under way.
 */
function logCollectorActivity(stats: CollectorStats, log: (line: string) => void, everyMs = ACTIVITY_LOG_MS): { stop(): void } {
  const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
  let last = structuredClone(stats);
  const summarize = (): void => {
    const accepted = stats.accepted - last.accepted;
    const discarded = stats.discarded - last.discarded;
    const rejected = Object.fromEntries(
      Object.entries(stats.rejected)
        .map(([code, n]) => [code, n - (last.rejected[code] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    last = structuredClone(stats);
    if (!accepted && !discarded && !total(rejected)) return;
    const reasons = Object.entries(rejected).map(([code, n]) => `${code} ×${n}`).join(', ');
    log(`collector: in the last ${minute ? 'minute' : `${Math.max(1, Math.round((Date.now() - since) / 1000))} s`} ${accepted} accepted, ${discarded} discarded by throttle rules, ${total(rejected)} rejected${reasons ? ` (${reasons})` : ''}`);
  };
  let since = Date.now();
  let minute = true;
  const timer = setInterval(() => {
    summarize();
    since = Date.now();
  }, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      minute = false;
      summarize();
    },
  };
}

