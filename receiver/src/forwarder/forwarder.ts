import { isIP } from 'node:net';
import { Annotation } from '../../../shared/src/protocol.ts';
import { basePathOf } from '../base-path.ts';
import { type SubmitFile, submitCrash } from '../cli/submit.ts';
import { RateLimiter } from '../collector/rate-limit.ts';
import type { Config } from '../config.ts';
import type { CrashStorage, RawCrash, WorkQueue } from '../storage/types.ts';
import type { FsOps } from '../storage/durable.ts';
import { FsCrashStorage } from '../storage/fs-storage.ts';
import { type FailedForward, FsOutbox, type OutboxEntry } from './outbox.ts';
import { forwardedSubmission, hopsOf } from './policy.ts';
import { AppRegistry, normalizeSubmitUrl } from './registry.ts';
import { type ForwardingStatus, ForwardingStatusStore, statusFromOutbox } from './status.ts';
import { checkTargetUrl, classifyAddress, ForwardRefused, forwardingFetch, type TargetPolicy } from './url-guard.ts';

/** The longest Retry-After we honour; a receiver asking for more is retried after this. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
/** setTimeout's limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Deleting a crash folder the processor is writing into: how often and how patiently to retry. */
const DELETE_ATTEMPTS = 10;
const DELETE_RETRY_MS = 20;
/** The most of a receiver's answer kept in a recorded reason. */
const MAX_REASON_CHARS = 200;
/**
 * A URL-mode crash refused because URL mode was turned off after it was queued: a setting the
 * operator can turn back on, so it is listed with the failed forwards, to be sent again with them.
 */
const URL_MODE_OFF = 'url_mode_off';

/** How the forwarder behaves; from `Config` by `forwardSettings`. */
export interface ForwardSettings {
  /** URL mode: forward crashes carrying SubmitURL with no registry entry. */
  bySubmitUrl: boolean;
  targets: TargetPolicy;
  /** URL mode: forwards per minute per destination host (0: no limit). */
  ratePerMinute: number;
  maxHops: number;
  giveUpAfterMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  concurrency: number;
  /**
   * URL mode: where this receiver takes submissions besides the address a crash was posted to
   * (`host[:port]/path`): its --public-url, and loopback at its port (under the --public-url
   * path too). A SubmitURL naming one of them is this receiver, reached through a proxy or
   * another name: nothing to forward.
   */
  ownSubmitTargets: string[];
}

/** The settings of `config` for a receiver listening on `port`. */
export function forwardSettings(config: Config, port?: number): ForwardSettings {
  const own: string[] = [];
  const base = basePathOf(config.publicUrl);
  if (config.publicUrl) own.push(`${new URL(config.publicUrl).host}${base}/submit`);
  // Reached directly, the receiver takes submissions under the --public-url path too.
  const paths = base ? ['/submit', `${base}/submit`] : ['/submit'];
  if (port) own.push(...['localhost', '127.0.0.1', '[::1]'].flatMap((host) => paths.map((path) => `${host}:${port}${path}`)));
  return {
    ownSubmitTargets: own,
    bySubmitUrl: config.forwardBySubmitUrl,
    targets: { allowPrivate: config.forwardAllowPrivateTargets, allowHttp: config.forwardAllowHttp },
    ratePerMinute: config.forwardRatePerMinute,
    maxHops: config.forwardMaxHops,
    giveUpAfterMs: config.forwardGiveUpAfterMs,
    retryInitialMs: config.forwardRetryInitialMs,
    retryMaxMs: config.forwardRetryMaxMs,
    timeoutMs: config.forwardTimeoutMs,
    concurrency: config.forwardConcurrency,
  };
}

export interface ForwarderDeps {
  storage: CrashStorage;
  queue: WorkQueue;
  registry: AppRegistry;
  outbox: FsOutbox;
  /** The crashes whose forwarding failed, until retried or deleted (`forward-failed/`). */
  failed: FsOutbox<FailedForward>;
  statuses: ForwardingStatusStore;
  settings: ForwardSettings;
  now?: () => number;
  log?: (line: string) => void;
}

/** One outbox entry in memory. */
interface Slot {
  entry: OutboxEntry;
  nextAt: number;
  running: boolean;
  /** Waiting for its destination to come back (not in the heap). */
  parked: boolean;
  /** The operator asked for a retry while an attempt was running: retry as soon as it ends. */
  retryNow?: { gate: Gate | null };
  /** The crash was deleted while an attempt was running: its outbox entry goes when the attempt ends. */
  forgotten?: boolean;
}

/**
 * One destination's health: after a retryable failure, its other crashes wait instead of each
 * knocking on a receiver that is down; one probe goes at a time, and a success releases them all.
 */
interface Gate {
  /** The destination as the log names it (the target of the attempt that made the gate). */
  name: string;
  failures: number;
  blockedUntil: number;
  probing: boolean;
  lastError: string | null;
  /** Some of its failures were more than being asked to wait (a 429). */
  failed: boolean;
  parked: Set<string>;
  timer: NodeJS.Timeout | null;
}

/** Destinations whose failures are remembered before idle ones are forgotten (#newGate). */
const MAX_GATES = 1000;
/** A destination's rate limiting (429) is logged at most this often. */
const RATE_LIMIT_LOG_MS = 60_000;
/** How often the crashes forwarded with their copy kept are summed up in the log. */
const FORWARDED_SUMMARY_MS = 60_000;

type Outcome =
  | { kind: 'forwarded'; remoteCrashId: string }
  | { kind: 'retry'; error: string; retryAfterMs: number; rateLimited?: true }
  | { kind: 'failed'; code: string; reason: string }
  | { kind: 'refused'; code: string; reason: string };

/**
 * Forwards crashes from a master to each app's private receiver, from a durable outbox.
 *
 * The collector calls `accepted()` once a crash is on disk and before it answers; when the
 * crash is to be forwarded (its `WebAppGUID` is registered, or URL mode is on and it carries
 * `SubmitURL`), an outbox entry is written durably then. Entries are sent as ordinary
 * submissions (allowlisted annotations, files only for trusted apps, `ForwardHops` + 1),
 * retried with exponential backoff on network errors, 5xx and 429 (honouring Retry-After),
 * given up after `giveUpAfterMs`, and picked up again after a restart. How it went is kept in
 * the crash's `forwarding.json`.
 */
export class Forwarder {
  readonly #d: ForwarderDeps;
  readonly #s: ForwardSettings;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #slots = new Map<string, Slot>();
  /**
   * One schedule and one set of workers per mode, so that URL mode (where strangers choose the
   * target, and a slow one can hold a worker for the whole timeout) never delays the apps the
   * operator registered.
   */
  readonly #lanes = { registry: { heap: new TimeHeap(), busy: 0 }, url: { heap: new TimeHeap(), busy: 0 } };
  readonly #gates = new Map<string, Gate>();
  /** The registry's problem last logged, so a broken file is said once, not once per crash. */
  #registryProblem: string | null = null;
  readonly #limiter: RateLimiter;
  readonly #stop = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  readonly #onDeleted: ((crashId: string) => void)[] = [];
  readonly #onDeleting: ((crashId: string) => void)[] = [];
  /** When a destination's rate limiting was last logged, and the lines left out since. */
  readonly #rateLimitLogged = new Map<string, { at: number; skipped: number }>();
  /** Every failed forward on disk, by crash ID: listed and counted without reading the folder. */
  readonly #failed = new Map<string, FailedForward>();
  /** Retries under way, by crash ID (see retry). */
  readonly #retrying = new Map<string, Promise<boolean>>();
  /** Crashes forwarded (copy kept) since the last summary line, by destination as logged. */
  readonly #forwardedSince = new Map<string, number>();
  #summaryTimer: NodeJS.Timeout | null = null;

  constructor(deps: ForwarderDeps) {
    this.#d = deps;
    this.#s = deps.settings;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.log ?? (() => undefined);
    this.#limiter = new RateLimiter(this.#s.ratePerMinute, this.#now);
  }

  /**
   * Adds a listener told when the master's copy of a crash was deleted after forwarding (the
   * app does not keep copies), e.g. to drop it from the index.
   */
  onDeleted(listener: (crashId: string) => void): void {
    this.#onDeleted.push(listener);
  }

  /**
   * Adds a listener told just before the master's copy of a crash is deleted after forwarding,
   * e.g. to note in the index that a deletion is under way (a stop before onDeleted then is not
   * taken for a restored backup).
   */
  onDeleting(listener: (crashId: string) => void): void {
    this.#onDeleting.push(listener);
  }

  /** Tells each listener about the crash; one that throws is logged and does not stop the others. */
  #tell(listeners: readonly ((crashId: string) => void)[], id: string, when: string): void {
    for (const listener of listeners) {
      try {
        listener(id);
      } catch (err) {
        this.#log(`forwarder: ${when} bp-${id}: ${(err as Error).message}`);
      }
    }
  }

  /** Loads the outbox left by a previous run and starts sending. */
  async start(): Promise<{ resumed: number }> {
    await this.#d.failed.open();
    for (const f of await this.#d.failed.list((name, err) => this.#log(`forwarder: skipping unreadable failed-forward entry ${name}: ${err.message}`))) {
      this.#failed.set(f.crash_id, f);
    }
    await this.#d.outbox.open();
    const entries = await this.#d.outbox.list((name, err) => this.#log(`forwarder: skipping unreadable outbox entry ${name}: ${err.message}`));
    for (const entry of entries) this.#schedule(entry, Date.parse(entry.next_attempt_at) || this.#now());
    this.#pump();
    return { resumed: entries.length };
  }

  /** Stops sending; attempts in flight are abandoned and stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#timer) clearTimeout(this.#timer);
    for (const gate of this.#gates.values()) if (gate.timer) clearTimeout(gate.timer);
    await Promise.allSettled([...this.#running]);
    this.#logForwarded();
  }

  /**
   * Counts a crash forwarded with its copy kept: its forwarding.json says where it went, so the
   * log says how many went where, once a minute (a busy master forwards many a second; a line
   * each was almost all of its log).
   */
  #countForwarded(target: string): void {
    this.#forwardedSince.set(target, (this.#forwardedSince.get(target) ?? 0) + 1);
    this.#summaryTimer ??= setTimeout(() => this.#logForwarded(), FORWARDED_SUMMARY_MS);
    this.#summaryTimer.unref();
  }

  #logForwarded(): void {
    if (this.#summaryTimer) clearTimeout(this.#summaryTimer);
    this.#summaryTimer = null;
    if (this.#forwardedSince.size === 0) return;
    const line = forwardedSummary(this.#forwardedSince);
    this.#forwardedSince.clear();
    this.#log(`forwarder: ${line}`);
  }

  /**
   * The collector's listener: decides whether `raw` is forwarded and, if so, puts it in the
   * outbox durably before returning. A crash already forwarded `maxHops` times, or aimed by
   * URL mode at a target that is not allowed, gets a `refused` status instead.
   */
  async accepted(crashId: string, raw: RawCrash): Promise<void> {
    if (this.#stop.signal.aborted) return;
    const guid = raw.annotations[Annotation.WebAppGUID]?.trim() || null;
    const app = guid ? await this.#d.registry.lookup(guid) : null;
    if (this.#d.registry.problem !== this.#registryProblem) {
      this.#registryProblem = this.#d.registry.problem;
      this.#log(this.#registryProblem ? `forwarder: ${this.#registryProblem}` : 'forwarder: the app registry can be read again');
    }
    const submitUrl = raw.annotations[Annotation.SubmitURL]?.trim();
    if (!app && !(this.#s.bySubmitUrl && submitUrl)) return;
    // The page meant the crash for the receiver it was sent to: this one. Nothing to forward.
    if (!app && this.isThisReceiver(submitUrl!, raw.metadata.submitted_to)) return;

    const now = new Date(this.#now()).toISOString();
    const entry: OutboxEntry = {
      crash_id: crashId,
      mode: app ? 'registry' : 'url',
      app_guid: guid,
      url: null,
      hops_in: hopsOf(raw.annotations),
      queued_at: now,
      attempts: 0,
      next_attempt_at: now,
      last_attempt_at: null,
      last_error: null,
    };
    if (app && this.isThisReceiver(app.submit_url, raw.metadata.submitted_to)) {
      // Forwarding to itself would store the crash again at every hop up to the limit.
      const reason = `the app's registered submit URL ${app.submit_url} is this receiver; register the app's own receiver (socorrito apps add --guid ${app.guid} --submit-url …)`;
      entry.refusal = { code: 'this_receiver', reason };
    } else if (entry.hops_in >= this.#s.maxHops) {
      const reason = `already forwarded ${entry.hops_in} time(s) (ForwardHops); the limit is ${this.#s.maxHops}, so this stops a forwarding loop`;
      entry.refusal = { code: 'hop_limit', reason };
      entry.url = app ? null : (submitUrl?.slice(0, 2000) ?? null);
    } else if (!app) {
      try {
        const checked = checkTargetUrl(submitUrl!, this.#s.targets);
        const normalized = normalizeSubmitUrl(checked.toString());
        if ('problem' in normalized) throw new ForwardRefused('bad_url', normalized.problem);
        entry.url = normalized.url;
      } catch (err) {
        if (!(err instanceof ForwardRefused)) throw err;
        entry.refusal = { code: err.code, reason: err.message };
        entry.url = submitUrl!.slice(0, 2000);
      }
    }
    // Refusals go through the outbox too: the crash's folder may not be laid out yet, and the
    // outbox is what survives a restart.
    await this.#d.outbox.put(entry);
    this.#schedule(entry, this.#now());
    this.#pump();
  }

  /**
   * Whether a submit URL is this receiver: the address a crash was posted to (`submittedTo`,
   * `host[:port]/path`), its --public-url, or loopback at its port.
   */
  isThisReceiver(submitUrl: string, submittedTo?: unknown): boolean {
    return [submittedTo, ...this.#s.ownSubmitTargets].some((to) => submittedHere(submitUrl, to));
  }

  /**
   * For a crash deleted on request: it leaves the outbox now rather than at its next attempt,
   * which would find it gone. An attempt already under way finishes.
   */
  async forget(crashId: string): Promise<void> {
    await this.#clearFailed(crashId);
    const slot = this.#slots.get(crashId);
    if (!slot) return;
    this.#slots.delete(crashId);
    // A running attempt may write the entry back (a failed try records itself): removed again when it ends.
    if (slot.running) slot.forgotten = true;
    await this.#d.outbox.remove(crashId);
  }

  /** How forwarding went for a crash, or null when it was never meant to be forwarded. */
  async status(crashId: string): Promise<ForwardingStatus | null> {
    const slot = this.#slots.get(crashId);
    const saved = await this.#d.statuses.read(crashId).catch(() => null);
    if (!slot) return saved;
    const app = slot.entry.mode === 'registry' ? await this.#d.registry.lookup(slot.entry.app_guid ?? '') : null;
    const target = slot.entry.mode === 'registry' ? (app?.submit_url ?? null) : slot.entry.url;
    const status = statusFromOutbox(this.#waiting(slot, target), app?.keep_copy ?? true, target);
    status.withheld = saved?.withheld ?? null;
    return status;
  }

  /**
   * A waiting crash's outbox entry as it stands: one held behind its destination's wait goes
   * when the wait ends, not at its own old time, and the destination's last error is its news.
   * So does one not yet parked there (it arrived during the wait): its turn parks it (#attempt).
   */
  #waiting(slot: Slot, target: string | null): OutboxEntry {
    const gate = this.#gateOf(slot.entry.mode, target);
    return {
      ...slot.entry,
      next_attempt_at: new Date(gate ? Math.max(slot.nextAt, gate.blockedUntil) : slot.nextAt).toISOString(),
      last_error: slot.entry.last_error ?? gate?.lastError ?? null,
    };
  }

  /** How many crashes wait in the outbox, and how many failed (until retried or deleted). */
  counts(): { waiting: number; failed: number } {
    return { waiting: this.#slots.size, failed: this.#failed.size };
  }

  /** Crashes waiting in the outbox, soonest first (at most `limit`). */
  pending(limit = 100): { total: number; entries: OutboxEntry[] } {
    const slots = [...this.#slots.values()].sort((a, b) => a.nextAt - b.nextAt).slice(0, limit);
    const targetOf = (slot: Slot): string | null =>
      slot.entry.mode === 'registry' ? (this.#d.registry.cached(slot.entry.app_guid ?? '')?.submit_url ?? null) : slot.entry.url;
    return { total: this.#slots.size, entries: slots.map((slot) => this.#waiting(slot, targetOf(slot))) };
  }

  /**
   * Sends a crash again now: one in the outbox skips its wait; one that failed or was refused
   * goes back in the outbox with a fresh give-up time. Returns false when there is nothing to retry.
   *
   * Retries of one crash that overlap (the bulk retry while the report page's button is pressed,
   * or twice) share one answer: each would otherwise find it out of the outbox and queue it
   * again beside the attempt the other started, and the private receiver would get it twice.
   */
  retry(crashId: string): Promise<boolean> {
    const under = this.#retrying.get(crashId);
    if (under) return under;
    const retry = this.#retryOnce(crashId).finally(() => this.#retrying.delete(crashId));
    this.#retrying.set(crashId, retry);
    return retry;
  }

  async #retryOnce(crashId: string): Promise<boolean> {
    const slot = this.#slots.get(crashId);
    if (slot) {
      // The operator says the destination is worth trying now: lift its wait too.
      const app = slot.entry.mode === 'registry' ? await this.#d.registry.lookup(slot.entry.app_guid ?? '') : null;
      const gate = this.#gateOf(slot.entry.mode, slot.entry.mode === 'registry' ? (app?.submit_url ?? null) : slot.entry.url);
      if (gate && !gate.probing) gate.blockedUntil = 0;
      if (slot.running) slot.retryNow = { gate }; // the attempt under way would reschedule it later
      else this.#reschedule(slot, this.#now());
      this.#pump();
      return true;
    }
    // Not in the outbox: it failed, was refused, or says queued while its outbox entry is gone
    // (an operator cleared the folder), or was never decided. Only a forwarded one is done.
    const saved = await this.#d.statuses.read(crashId).catch(() => null);
    if (saved?.state === 'forwarded') return false;
    const raw = await this.#d.storage.getRaw(crashId);
    if (!raw) {
      await this.#clearFailed(crashId); // gone (deleted by hand): nothing to list
      return false;
    }
    // Decide afresh: the registry or the settings may have changed since.
    const listed = this.#failed.get(crashId);
    await this.accepted(crashId, { ...raw, annotations: { ...raw.annotations } });
    if (!this.#slots.has(crashId)) return false;
    // Only the entry this retry replaces: the attempt it started may already have failed anew.
    if (this.#failed.get(crashId) === listed) await this.#clearFailed(crashId);
    return true;
  }

  /** The crashes whose forwarding failed (of one app, or all), most recent first, at most `limit`. */
  failedForwards(options: { app?: string | null; limit?: number } = {}): { total: number; entries: FailedForward[] } {
    const app = options.app?.trim().toLowerCase() || null;
    const all = [...this.#failed.values()].filter((f) => app === null || f.app_guid?.toLowerCase() === app);
    all.sort((a, b) => b.failed_at.localeCompare(a.failed_at) || a.crash_id.localeCompare(b.crash_id));
    return { total: all.length, entries: all.slice(0, options.limit ?? 100) };
  }

  /** Sends every failed forward (of one app, or all) again; says how many went back in the outbox. */
  async retryFailed(app?: string | null): Promise<{ retried: number; not_retried: number }> {
    let retried = 0;
    let notRetried = 0;
    for (const f of this.failedForwards({ app, limit: Infinity }).entries) {
      if (await this.retry(f.crash_id)) retried++;
      else notRetried++;
    }
    return { retried, not_retried: notRetried };
  }

  async #clearFailed(crashId: string): Promise<void> {
    if (!this.#failed.delete(crashId)) return;
    await this.#d.failed.remove(crashId);
  }

  #schedule(entry: OutboxEntry, at: number): void {
    const slot: Slot = { entry, nextAt: at, running: false, parked: false };
    this.#slots.set(entry.crash_id, slot);
    this.#lanes[entry.mode].heap.push(at, entry.crash_id);
  }

  #reschedule(slot: Slot, at: number): void {
    slot.nextAt = at;
    slot.parked = false;
    this.#lanes[slot.entry.mode].heap.push(at, slot.entry.crash_id);
  }

  /** Starts every due attempt the concurrency allows, then sleeps until the next one is due. */
  #pump(): void {
    if (this.#stop.signal.aborted) return;
    const now = this.#now();
    let wakeAt = Infinity;
    for (const lane of Object.values(this.#lanes)) {
      while (lane.busy < this.#s.concurrency) {
        const top = lane.heap.peek();
        if (!top || top.at > now) break;
        lane.heap.pop();
        const slot = this.#slots.get(top.id);
        if (!slot || slot.running || slot.parked || slot.nextAt !== top.at) continue; // stale heap node
        slot.running = true;
        lane.busy++;
        const run = this.#attempt(slot)
          .catch((err: Error) => {
            if (this.#stop.signal.aborted) return; // stopping: the outbox entry is picked up next start
            // Disk trouble while recording: try again later rather than lose the crash.
            this.#log(`forwarder: bp-${slot.entry.crash_id}: ${err.stack ?? err.message}`);
            if (this.#slots.get(slot.entry.crash_id) === slot) this.#reschedule(slot, this.#now() + this.#s.retryMaxMs);
          })
          .finally(async () => {
            if (slot.forgotten) await this.#d.outbox.remove(slot.entry.crash_id).catch(() => undefined);
            slot.running = false;
            lane.busy--;
            if (slot.retryNow) {
              // The attempt that just failed blocked its destination again; the operator's word wins.
              const { gate } = slot.retryNow;
              slot.retryNow = undefined;
              if (gate && !gate.probing) gate.blockedUntil = 0;
              if (this.#slots.get(slot.entry.crash_id) === slot && !slot.parked) slot.nextAt = this.#now();
            }
            // A node for this slot popped while it ran was skipped: put it back.
            if (this.#slots.get(slot.entry.crash_id) === slot && !slot.parked) lane.heap.push(slot.nextAt, slot.entry.crash_id);
            this.#running.delete(run);
            this.#pump();
          });
        this.#running.add(run);
      }
      // With every worker of a lane busy, the next attempt to finish pumps again.
      const next = lane.heap.peek();
      if (next && lane.busy < this.#s.concurrency) wakeAt = Math.min(wakeAt, next.at);
    }
    if (wakeAt !== Infinity && wakeAt !== this.#timerAt) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timerAt = wakeAt;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#timerAt = Infinity;
        this.#pump();
      }, Math.min(MAX_TIMER_MS, Math.max(0, wakeAt - now)));
      this.#timer.unref();
    }
  }


  #gateOf(mode: OutboxEntry['mode'], target: string | null): Gate | null {
    if (!target) return null;
    try {
      return this.#gates.get(gateKey(mode, target)) ?? null;
    } catch {
      return null;
    }
  }

  async #attempt(slot: Slot): Promise<void> {
    const { entry } = slot;
    const id = entry.crash_id;
    const raw = await this.#d.storage.getRaw(id);
    if (!raw) {
      this.#log(`forwarder: bp-${id} is no longer stored; dropping it from the outbox`);
      await this.#deleteCopy(id); // whatever a deletion cut short left behind
      await this.#d.outbox.remove(id);
      this.#slots.delete(id);
      return;
    }

    if (entry.refusal) {
      const app = entry.mode === 'registry' ? await this.#d.registry.lookup(entry.app_guid ?? '') : null;
      const target = entry.mode === 'registry' ? (app?.submit_url ?? null) : entry.url;
      return this.#end(slot, { kind: 'refused', ...entry.refusal }, true, target, null);
    }
    let target: string;
    let trustFiles = false;
    let keepCopy = true;
    let policy: TargetPolicy | null = null;
    if (entry.mode === 'registry') {
      const app = await this.#d.registry.lookup(entry.app_guid ?? '');
      if (!app) {
        return this.#end(slot, { kind: 'failed', code: 'app_removed', reason: 'the app was removed from the registry before the crash was forwarded' }, true, null, null);
      }
      ({ submit_url: target, trust_files: trustFiles, keep_copy: keepCopy } = app);
    } else {
      target = entry.url!;
      policy = this.#s.targets; // the operator's registry is trusted; a SubmitURL is not
      // Checked again at each attempt: settings may have been tightened since it was queued.
      const refusal = this.#urlModeRefusal(target, id);
      if (refusal) return this.#end(slot, { kind: 'refused', ...refusal }, true, target, null);
    }

    const now = this.#now();
    const host = new URL(target).host;
    const key = gateKey(entry.mode, target);
    let gate = this.#gates.get(key);
    const giveUpAt = Date.parse(entry.queued_at) + this.#s.giveUpAfterMs;
    if (now >= giveUpAt && (entry.attempts > 0 || gate?.failures)) {
      const last = entry.last_error ?? gate?.lastError ?? 'no answer';
      const reason = `gave up after ${entry.attempts} attempt(s) over ${formatMs(now - Date.parse(entry.queued_at))}; last error: ${last}`;
      return this.#end(slot, { kind: 'failed', code: 'gave_up', reason }, keepCopy, target, null);
    }
    if (gate && (gate.probing || gate.blockedUntil > now)) return this.#park(slot, gate);
    if (entry.mode === 'url') {
      const waitS = this.#limiter.take(host);
      if (waitS && now >= giveUpAt) {
        const reason = `gave up after ${formatMs(now - Date.parse(entry.queued_at))}: the per-destination rate limit (${this.#s.ratePerMinute}/min) never let it through`;
        return this.#end(slot, { kind: 'failed', code: 'gave_up', reason }, keepCopy, target, null);
      }
      if (waitS) return this.#reschedule(slot, Math.min(giveUpAt, now + waitS * 1000));
    }

    // One probe at a time to a destination that failed: claimed before any await.
    gate ??= this.#newGate(key, loggedTarget(target));
    gate.probing = gate.failures > 0;
    const sub = forwardedSubmission(raw, { trustFiles, hops: entry.hops_in + 1 });
    let outcome: Outcome;
    try {
      const files: SubmitFile[] = [];
      for (const name of sub.fileNames) {
        const data = await this.#d.storage.getFile(id, name);
        const sent = raw.files.find((f) => f.name === name);
        if (data) files.push({ name, filename: sent?.filename || name, data, contentType: sent?.contentType });
      }
      let retryAfter: string | string[] | undefined;
      let location: string | undefined;
      const fetchImpl = forwardingFetch({
        policy,
        stop: this.#stop.signal,
        onHeaders: (h) => {
          retryAfter = h['retry-after'];
          location = h.location;
        },
      });
      const result = await submitCrash(target, sub.annotations, files, { fetch: fetchImpl, timeoutMs: this.#s.timeoutMs });
      outcome = classifyAnswer(result, retryAfter, this.#now(), location);
    } catch (err) {
      if (this.#stop.signal.aborted) return; // shutting down: the entry stays in the outbox as it was
      outcome =
        err instanceof ForwardRefused
          ? { kind: 'refused', code: err.code, reason: err.message }
          : { kind: 'retry', error: networkError(err), retryAfterMs: 0 };
    } finally {
      gate.probing = false;
    }
    // Counted once it has an outcome (an attempt cut short by a stop did not happen), and shown
    // only once it is on disk.
    const tried: OutboxEntry = { ...entry, attempts: entry.attempts + 1, last_attempt_at: new Date(now).toISOString() };

    if (outcome.kind !== 'retry') {
      if (outcome.kind === 'forwarded') this.#openGate(key, gate);
      else this.#armGate(gate);
      slot.entry = tried;
      return this.#end(slot, outcome, keepCopy, target, sub.withheld);
    }
    // Retry: this destination waits (all its crashes, not only this one), as long as its
    // Retry-After says, else with backoff.
    const backoff = Math.min(this.#s.retryMaxMs, this.#s.retryInitialMs * 2 ** Math.min(gate.failures, 30));
    const delay = outcome.retryAfterMs > 0 ? outcome.retryAfterMs : backoff;
    // Said when a destination starts failing and when it answers again (#openGate), not at each
    // retry; a receiver that asks to wait (429) is not failing, and is said so at most once a minute.
    if (gate.failures === 0 && outcome.rateLimited) {
      this.#logRateLimit(gate.name, `asks to wait (${oneLine(outcome.error)}); its crashes wait in the outbox for ${formatMs(delay)}`);
    } else if (!gate.failed && !outcome.rateLimited) {
      this.#log(`forwarder: ${gate.name} failed (${oneLine(outcome.error)}); its crashes wait in the outbox and are retried with backoff`);
    }
    gate.failed ||= !outcome.rateLimited;
    gate.failures++;
    gate.blockedUntil = this.#now() + delay;
    gate.lastError = outcome.error;
    tried.last_error = outcome.error;
    const at = Math.min(gate.blockedUntil, Math.max(giveUpAt, this.#now()));
    tried.next_attempt_at = new Date(at).toISOString();
    await this.#d.outbox.put(tried);
    slot.entry = tried;
    this.#reschedule(slot, at);
    this.#armGate(gate);
    const status = statusFromOutbox(tried, keepCopy, target);
    status.withheld = sub.withheld;
    await this.#d.statuses.write(status, this.#stop.signal);
  }

  /** Records how forwarding ended, cleans up the outbox, and deletes the master's copy when the app said so. */
  async #end(
    slot: Slot,
    outcome: Exclude<Outcome, { kind: 'retry' }>,
    keepCopy: boolean,
    target: string | null,
    withheld: ForwardingStatus['withheld'],
  ): Promise<void> {
    const { entry } = slot;
    const id = entry.crash_id;
    // A refusal is the settings' decision; a failure is listed, to be sent again once the receiver
    // is fixed. So is a crash refused only because URL mode was turned off after it was queued:
    // the operator who turns it back on sends the whole backlog again, not one crash at a time.
    const listed = outcome.kind === 'failed' || (outcome.kind === 'refused' && outcome.code === URL_MODE_OFF);
    if (outcome.kind === 'forwarded') {
      const status = this.#final(entry, keepCopy, target, withheld, 'forwarded', null, null);
      status.remote_crash_id = outcome.remoteCrashId;
      status.forwarded_at = status.updated_at;
      if (keepCopy) {
        await this.#d.statuses.write(status, this.#stop.signal);
      } else {
        // Deleting before storage has laid the folder out would let the layout bring it back.
        await this.#d.statuses.waitForFolder(id, this.#stop.signal);
        this.#tell(this.#onDeleting, id, 'before deleting');
        this.#d.queue.deleting?.(id);
        await this.#deleteCopy(id);
        await this.#d.queue.done(id);
        this.#tell(this.#onDeleted, id, 'after deleting');
      }
      // The copy kept has its forwarding record; a deleted one has only this line left.
      if (keepCopy) this.#countForwarded(loggedTarget(target));
      else this.#log(`forwarder: bp-${id} forwarded to ${loggedTarget(target)} as ${outcome.remoteCrashId}; master copy deleted`);
    } else {
      // When the app did not want the master to keep a copy, it now is the only one: it stays.
      const status = this.#final(entry, keepCopy, target, withheld, outcome.kind, outcome.code, outcome.reason);
      await this.#d.statuses.write(status, this.#stop.signal);
      if (listed) {
        const failed: FailedForward = { ...entry, failed_at: status.updated_at, target, reason_code: outcome.code, reason: outcome.reason };
        await this.#d.failed.put(failed);
        this.#failed.set(id, failed);
      }
      // A failure outlasts the log line that tells of it: say where it waits and how it goes again.
      const after = listed ? '; listed at /api/forwarding/failed until POST /api/forwarding/failed/retry sends it again' : '';
      this.#log(`forwarder: bp-${id} ${outcome.kind} (${outcome.code}): ${outcome.reason}${after}`);
    }
    if (!listed) await this.#clearFailed(id);
    await this.#d.outbox.remove(id);
    this.#slots.delete(id);
  }

  /**
   * Deletes the master's copy. The processor may be writing into the folder at the same moment
   * (a temp file renamed in makes `rm` fail with ENOTEMPTY): try again briefly.
   */
  async #deleteCopy(crashId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#d.storage.delete(crashId);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EBUSY') || attempt >= DELETE_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, DELETE_RETRY_MS * attempt));
      }
    }
  }

  #final(
    entry: OutboxEntry,
    keepCopy: boolean,
    target: string | null,
    withheld: ForwardingStatus['withheld'],
    state: ForwardingStatus['state'],
    code: string | null,
    reason: string | null,
  ): ForwardingStatus {
    return {
      ...statusFromOutbox(entry, keepCopy, target),
      state,
      withheld,
      next_attempt_at: null,
      reason_code: code,
      reason,
      updated_at: new Date(this.#now()).toISOString(),
    };
  }

  #newGate(key: string, name: string): Gate {
    // Strangers choose URL-mode hosts, so gates of hosts that never answered could pile up: past
    // MAX_GATES, those holding no crash and no wait go (a failing host starts its backoff again).
    if (this.#gates.size >= MAX_GATES) {
      const now = this.#now();
      for (const [k, g] of this.#gates) if (!g.parked.size && !g.probing && g.blockedUntil <= now) this.#gates.delete(k);
    }
    const gate: Gate = { name, failures: 0, blockedUntil: 0, probing: false, lastError: null, failed: false, parked: new Set(), timer: null };
    this.#gates.set(key, gate);
    return gate;
  }

  /** Why a SubmitURL may not be forwarded to under the settings now in force, or null. */
  #urlModeRefusal(target: string, crashId: string): { code: string; reason: string } | null {
    if (!this.#s.bySubmitUrl) {
      // A restart that dropped the flag by mistake refuses a whole backlog: say how to get each one back.
      const reason = `forwarding by SubmitURL was turned off after the crash was queued; to send it, start the receiver with --forward-by-submit-url and POST /api/crashes/bp-${crashId}/forwarding/retry (or POST /api/forwarding/failed/retry for every such crash)`;
      return { code: URL_MODE_OFF, reason };
    }
    try {
      checkTargetUrl(target, this.#s.targets);
      return null;
    } catch (err) {
      if (!(err instanceof ForwardRefused)) throw err;
      return { code: err.code, reason: err.message };
    }
  }

  /** Holds a crash until its destination's wait is over (or a probe succeeds). */
  #park(slot: Slot, gate: Gate): void {
    slot.parked = true;
    gate.parked.add(slot.entry.crash_id);
    this.#armGate(gate);
  }

  /** Wakes a destination's parked crashes when its wait is over, unless a probe is out (it decides). */
  #armGate(gate: Gate): void {
    if (gate.timer || gate.probing || !gate.parked.size || this.#stop.signal.aborted) return;
    gate.timer = setTimeout(() => {
      gate.timer = null;
      this.#release(gate);
    }, Math.min(MAX_TIMER_MS, Math.max(0, gate.blockedUntil - this.#now())));
    gate.timer.unref();
  }

  #release(gate: Gate): void {
    const now = this.#now();
    for (const id of gate.parked) {
      const slot = this.#slots.get(id);
      if (slot?.parked) this.#reschedule(slot, now);
    }
    gate.parked.clear();
    this.#pump();
  }

  /** A line about a destination's rate limiting, at most once a minute per destination (with how many were left out). */
  #logRateLimit(name: string, line: string): void {
    const now = this.#now();
    const last = this.#rateLimitLogged.get(name);
    if (last && now - last.at < RATE_LIMIT_LOG_MS) return void last.skipped++;
    this.#log(`forwarder: ${name} ${line}${last?.skipped ? ` (${last.skipped} more such lines left out)` : ''}`);
    this.#rateLimitLogged.delete(name);
    this.#rateLimitLogged.set(name, { at: now, skipped: 0 });
    if (this.#rateLimitLogged.size > MAX_GATES) this.#rateLimitLogged.delete(this.#rateLimitLogged.keys().next().value!);
  }

  #openGate(key: string, gate: Gate): void {
    if (gate.failed) this.#log(`forwarder: ${gate.name} answers again after ${gate.failures} failed attempt(s) in a row since this receiver started`);
    else if (gate.failures) this.#logRateLimit(gate.name, `takes crashes again after asking to wait ${gate.failures} time(s)`);
    if (gate.timer) clearTimeout(gate.timer);
    gate.timer = null;
    this.#gates.delete(key);
    this.#release(gate);
  }
}

/**
 * The destination a crash waits on while its target fails: a registered app's receiver by its
 * submit URL; a SubmitURL by its host, apart from the registry, so that a stranger's SubmitURL
 * on the host of a registered receiver (a path that answers 429 for a day, or hangs) never
 * holds that app's crashes back.
 */
/** Destinations named in the forwarded summary; the rest are summed as "N to M more". */
const SUMMARY_DESTINATIONS = 5;

/**
 * The once-a-minute line for crashes forwarded with their copy kept: the total, then the
 * busiest destinations first.
 *
 * @example forwardedSummary(new Map([['a/submit', 2], ['b/submit', 5]])) // 'forwarded 7 crashes (copies kept): 5 to b/submit, 2 to a/submit'
 */
export function forwardedSummary(counts: ReadonlyMap<string, number>): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const sum = (list: [string, number][]): number => list.reduce((n, [, c]) => n + c, 0);
  const total = sum(sorted);
  const shown = sorted.slice(0, SUMMARY_DESTINATIONS).map(([target, n]) => `${n} to ${target}`);
  const rest = sorted.slice(SUMMARY_DESTINATIONS);
  if (rest.length) shown.push(`${sum(rest)} to ${rest.length} more`);
  return `forwarded ${total} ${total === 1 ? 'crash' : 'crashes'} (copies kept): ${shown.join(', ')}`;
}

function gateKey(mode: OutboxEntry['mode'], target: string): string {
  return mode === 'registry' ? `registry ${target}` : `url ${new URL(target).host}`;
}

/**
 * A target as the log shows it: without its query (a registered URL may carry a token there) and
 * cut short (a SubmitURL is a stranger's, up to a megabyte).
 */
function loggedTarget(target: string | null): string {
  const bare = (target ?? '').split(/[?#]/, 1)[0]!;
  return bare.length > 200 ? `${bare.slice(0, 200)}…` : bare;
}

/** What a receiver's answer means for a forward. */
function classifyAnswer(
  result: { crashId: string | null; status: number; body: string },
  retryAfter: string | string[] | undefined,
  now: number,
  location?: string,
): Outcome {
  const line = oneLine(result.body);
  if (result.crashId) return { kind: 'forwarded', remoteCrashId: result.crashId };
  if (result.status === 429 || result.status === 408 || result.status >= 500) {
    const outcome: Outcome = { kind: 'retry', error: `answered ${result.status}: ${line}`, retryAfterMs: retryAfterMs(retryAfter, now) };
    if (result.status === 429) outcome.rateLimited = true;
    return outcome;
  }
  if (result.status >= 300 && result.status < 400) {
    // Most often http:// sent to https://: the address to register instead is in Location.
    const to = location ? ` to ${oneLine(location)}` : '';
    return { kind: 'failed', code: 'redirect', reason: `answered ${result.status}${to} (a redirect, which is not followed${to ? ': register that address if it is the receiver' : ''})` };
  }
  if (result.status === 200 && /^Discarded=/.test(result.body)) {
    return { kind: 'failed', code: 'discarded', reason: `the receiver discarded it: ${line}` };
  }
  if (result.status === 200) return { kind: 'failed', code: 'not_a_receiver', reason: `answered 200 without a CrashID: ${line}` };
  // A collector words its refusals `Discarded=…`; a login wall or a missing page is no collector,
  // nor is a receiver's page that says crashes go to its /submit (`Discarded=wrong_path`).
  if ([401, 403, 404, 405].includes(result.status) && (!/^Discarded=/.test(result.body) || /^Discarded=wrong_path\b/.test(result.body))) {
    return {
      kind: 'failed',
      code: 'not_a_receiver',
      reason: `answered ${result.status}: ${line} (this address takes no crash submissions: check the submit URL; a receiver takes them at /submit)`,
    };
  }
  return { kind: 'failed', code: 'rejected', reason: `answered ${result.status}: ${line}` };
}

/** Retry-After as seconds or an HTTP date, in ms from now; 0 when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return 0;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : 0;
}

function oneLine(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS)}…` : line || '(empty answer)';
}

function networkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'network error: timed out';
  const code = e?.code ?? e?.cause?.code;
  return `network error: ${code ?? e?.name ?? 'unknown'}${e?.message ? ` (${oneLine(e.message)})` : ''}`;
}

function formatMs(ms: number): string {
  if (ms < 2_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** A binary min-heap of (time, crash id); stale nodes are skipped by the caller. */
class TimeHeap {
  readonly #items: { at: number; id: string }[] = [];

  push(at: number, id: string): void {
    const items = this.#items;
    items.push({ at, id });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  peek(): { at: number; id: string } | undefined {
    return this.#items[0];
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (!items.length || !last) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < items.length && items[l]!.at < items[min]!.at) min = l;
      if (r < items.length && items[r]!.at < items[min]!.at) min = r;
      if (min === i) break;
      [items[min], items[i]] = [items[i]!, items[min]!];
      i = min;
    }
  }
}

/**
 * Whether a SubmitURL names the address the crash was posted to (`host[:port]/path` as the
 * client addressed us), read the way a SubmitURL is forwarded to (normalizeSubmitUrl). The
 * scheme is not compared: behind a TLS proxy we see http.
 */
export function submittedHere(submitUrl: string, submittedTo: unknown): boolean {
  if (typeof submittedTo !== 'string') return false;
  const target = normalizeSubmitUrl(submitUrl);
  if ('problem' in target) return false;
  const { hostname, port, pathname } = new URL(target.url);
  // Every loopback address (127.0.0.2, [::ffff:127.0.0.1]) is this machine, as 127.0.0.1 is.
  const bare = hostname.replace(/^\[|\]$/g, '');
  const host = isIP(bare) && classifyAddress(bare) === 'loopback' ? `127.0.0.1${port ? `:${port}` : ''}` : new URL(target.url).host;
  return withoutTrailingSlashes(`${host}${pathname}`).toLowerCase() === withoutTrailingSlashes(submittedTo).toLowerCase();
}

/** `u` without the slashes it ends with (a loop: `/\/+$/` backtracks quadratically over a long run of slashes). */
function withoutTrailingSlashes(u: string): string {
  let end = u.length;
  while (end > 0 && u.charCodeAt(end - 1) === 47) end--;
  return u.slice(0, end);
}

/**
 * Builds the registry and the forwarder over a data dir and resumes the outbox; what
 * `startReceiver` calls. Close with `forwarder.stop()`.
 */
export async function openForwarding(
  config: Config,
  deps: {
    dataDir: string;
    storage: CrashStorage;
    queue: WorkQueue;
    fs?: FsOps;
    log: (line: string) => void;
    /** The port the receiver listens on: a SubmitURL at loopback on it is this receiver. */
    port?: number;
  },
): Promise<{ registry: AppRegistry; forwarder: Forwarder }> {
  const { dataDir, storage, fs, log } = deps;
  // Only for where things are: crash folders by ID (written by storage) and the temp dir.
  const layout = new FsCrashStorage(dataDir, fs);
  const registry = new AppRegistry(dataDir, layout.tmpDir, fs);
  await registry.list(); // a file that cannot be read stops the start here, before anything runs
  const forwarder = new Forwarder({
    storage,
    queue: deps.queue,
    registry,
    outbox: new FsOutbox(dataDir, layout.tmpDir, fs),
    failed: new FsOutbox<FailedForward>(dataDir, layout.tmpDir, fs, 'forward-failed'),
    statuses: new ForwardingStatusStore((id) => layout.crashDir(id), layout.tmpDir, fs),
    settings: forwardSettings(config, deps.port),
    log,
  });
  const { resumed } = await forwarder.start();
  if (resumed) log(`forwarder: resuming ${resumed} crash(es) from the outbox`);
  return { registry, forwarder };
}
