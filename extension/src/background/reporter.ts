/**
 * The background's work: from a batch of captured errors to delivered reports. It chooses the
 * destination, folds repeats into one report (JSRepeatCount), rate-limits per page and per app,
 * queues in storage, and delivers with backoff, honouring Retry-After: a few reports at once, no two
 * to the same receiver or from the same site, so a receiver that hangs holds back only its own.
 * Side effects (storage, fetch, clock, alarms) come in as dependencies.
 */
import { isLocalHost } from '../../../shared/src/local-address.ts';
import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import type { AppIdentity } from '../identity.ts';
import { type CapturedError, errorKey } from '../relay.ts';
import { retryDelayMs } from './backoff.ts';
import { WindowLimiter } from './rate-limit.ts';
import { appName, buildAnnotations, fromBrowserExtension, protectAnnotations } from './report.ts';
import { INVALID_GUID_SKIP, type Settings, chooseDestination, hostOf, siteMatches, submitUrlOf } from './settings.ts';
import { type ReportEntry, type ReportStore, type StoreState, siteOf } from './store.ts';
import { acceptsReportsFromAnywhere, type Outcome, SUBMIT_TIMEOUT_MS, submitReport } from './submit.ts';

/** A new report waits this long before its first attempt, so repeats in a loop fold into it. */
export const SETTLE_MS = 1_000;
/**
 * The same error (same app, type, message, place and stack) within this time after its report
 * was made is counted on that report, not reported again: an error in a loop is one report a
 * minute at most, while a person who triggers it again later still gets a new report. Repeats
 * that come after the report went out are gathered into one follow-up report, sent when the
 * window is over, so the receiver counts every repeat the popup does.
 */
export const DEDUPE_WINDOW_MS = 60_000;
export const PAGE_REPORTS_PER_MINUTE = 10;
export const APP_REPORTS_PER_MINUTE = 30;
/**
 * Reports per minute from one site (the tab's): the page chooses its frames, paths and GUIDs, so
 * the limits keyed by them do not stop a page that invents new ones; its site it cannot change.
 */
export const SITE_REPORTS_PER_MINUTE = 30;
/**
 * Batches per minute one site may hand over; past it a batch is not stored (a flood would
 * rewrite the queue for each), and its errors are held in memory (at most MAX_HELD_ERRORS
 * distinct ones) and within HELD_FOLD_MS, or when the Reporter stops, placed as a batch's are.
 */
export const SITE_BATCHES_PER_MINUTE = 120;
export const MAX_HELD_ERRORS = 1_000;
export const HELD_FOLD_MS = 1_000;
/** Reports of one site queued at most: a page cannot fill the queue and push out other sites' reports. */
export const MAX_QUEUED_PER_SITE = 20;
/** A report not delivered after this long is given up (failed). */
export const MAX_REPORT_AGE_MS = 7 * 24 * 60 * 60_000;
export const RETRY_ALARM = 'socorrito-retry';
/**
 * Attempts under way at once, each to a different receiver and from a different site: a site
 * that rotates its declared receiver over addresses that never answer holds one of them.
 */
export const MAX_PARALLEL_ATTEMPTS = 4;
/**
 * Before each attempt the alarm is set this long ahead: Firefox suspends an idle background
 * (30 s by default) even while a fetch waits, and only an alarm wakes it to go on.
 */
export const ATTEMPT_ALARM_MS = SUBMIT_TIMEOUT_MS + 5_000;
/** How long a local receiver's answer to the OPTIONS check is trusted. */
const LOCAL_RECEIVER_CHECK_MS = 60 * 60_000;
/** Why a public page's report was not sent to a receiver on a local address. */
export const LOCAL_RECEIVER_REFUSED =
  'not sent: a public page declared a receiver on a local address that does not take reports from elsewhere (no CORS answer to OPTIONS)';

export interface IncomingBatch {
  identity: AppIdentity | null;
  errors: CapturedError[];
  dropped: number;
  /** The document's URL, from the browser's sender info, not from the page. */
  pageUrl: string;
  /**
   * For a document with no web address of its own (about:blank, about:srcdoc, blob:), its
   * origin's, from the browser: what its site is checked and named by. Else pageUrl is.
   */
  siteUrl?: string;
  /** The tab's URL (the top-level page), from the browser; differs from pageUrl in a frame. */
  topUrl?: string;
  /** Which document in which tab (`tabId:frameId`), for the per-page limit. */
  pageKey: string;
}

export interface ReporterDeps {
  store: ReportStore;
  loadSettings: () => Promise<Settings>;
  userAgent: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Wakes the background at `when` (ms since the epoch) even if it was suspended. */
  scheduleAlarm?: (when: number) => void;
  randomId?: () => string;
  /** Resolves when submissions may start (the privacy rules are in place). */
  ready?: Promise<void>;
  /**
   * Whether a report may be sent to `submitUrl` without giving away anything of this browser:
   * the extension has access to the receiver's origin (else Firefox sends its installation ID as
   * `Origin`, which the privacy rule cannot remove there). All when not given.
   */
  mayReach?: (submitUrl: string) => Promise<boolean>;
}

/** A short stable hash of a long key (cyrb53), so entries do not store the whole stack twice. */
export function hashKey(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0') + ':' + text.length;
}

export class Reporter {
  readonly #pageLimiter = new WindowLimiter(PAGE_REPORTS_PER_MINUTE, 60_000);
  readonly #appLimiter = new WindowLimiter(APP_REPORTS_PER_MINUTE, 60_000);
  readonly #siteLimiter = new WindowLimiter(SITE_REPORTS_PER_MINUTE, 60_000);
  readonly #siteBatches = new WindowLimiter(SITE_BATCHES_PER_MINUTE, 60_000);
  /** Errors of batches the site limit refused that could not be held: not yet in droppedRateLimited. */
  #unheld = 0;
  /** What the page dropped of batches the site limit refused: not yet in droppedInPage. */
  #heldDroppedInPage = 0;
  /** Errors of batches refused by the site limit, by report key, not yet placed (count: all their repeats). */
  readonly #held = new Map<string, { error: CapturedError; place: BatchPlace }>();
  #foldTimer: ReturnType<typeof setTimeout> | undefined;
  /** When each receiver (origin) was last tried: delivery takes turns between receivers. */
  readonly #triedAt = new Map<string, number>();
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The delivery round under way, if any. */
  #round: Promise<void> | undefined;
  /** drain() was called during the round: look for due reports again. */
  #again = false;
  /** Wakes the round from waiting for an attempt to end. */
  #wake: (() => void) | undefined;
  /** Receivers (origins) and sites with an attempt under way. */
  readonly #busy = new Set<string>();

  constructor(private readonly deps: ReporterDeps) {
    this.#now = deps.now ?? Date.now;
    this.#fetch = deps.fetch ?? ((...args) => fetch(...args));
  }

  /** Turns a batch into new or repeated reports and schedules delivery. */
  async handleBatch(batch: IncomingBatch): Promise<void> {
    const settings = await this.deps.loadSettings();
    const siteUrl = batch.siteUrl ?? batch.pageUrl;
    const destination = chooseDestination(settings, siteUrl, batch.identity, batch.topUrl);
    const topHost = hostOf(batch.topUrl);
    const pageHost = hostOf(siteUrl);
    if ('skip' in destination) {
      // Said in the popup: the app's developer should learn why nothing arrives.
      if (destination.skip === INVALID_GUID_SKIP) {
        const count = batch.errors.reduce((n, e) => n + e.count, 0);
        await this.deps.store.update((state) => {
          state.stats.ignoredInvalidGuid += count;
        });
      }
      return;
    }
    const app = appName(batch.identity, siteUrl);
    const place: BatchPlace = {
      identity: batch.identity,
      pageUrl: batch.pageUrl,
      pageKey: batch.pageKey,
      // The site whose tab it is: what a page cannot multiply (frames, paths and GUIDs it can).
      site: topHost ?? pageHost ?? '',
      topHost: topHost !== null && topHost !== pageHost ? topHost : undefined,
      app,
      appKey: `${destination.submitUrl}\n${batch.identity?.guid ?? app}`,
      submitUrl: destination.submitUrl,
      declared: destination.declared,
      strip: settings.stripQueryAndFragment,
      hide: settings.hideEmailsAndTokens,
    };
    const now = this.#now();
    if (!this.#siteBatches.take(place.site, now)) {
      // A flood: nothing stored now; its errors are placed at the next write.
      this.#hold(place, batch);
      return;
    }
    await this.deps.store.update((state) => {
      state.stats.droppedInPage += batch.dropped;
      for (const error of batch.errors) this.#place(state, place, error, now);
      // After this batch's errors: a follow-up it just queued takes the held repeats too.
      this.#placeHeld(state, now);
    });
    await this.schedule();
  }

  /**
   * Counts an error on the report that takes its repeats (see reportTaking), or else makes a new
   * report of it, within the rate limits and the site's room in the queue.
   */
  #place(state: StoreState, place: BatchPlace, error: CapturedError, now: number): void {
    if (fromBrowserExtension(error)) {
      state.stats.ignoredFromExtensions += error.count;
      return;
    }
    const key = hashKey(`${place.appKey}\n${errorKey(error)}`);
    const { takes, sent } = reportTaking(state.reports, key, now);
    if (takes) return addRepeats(takes, error.count);
    if (!this.#pageLimiter.take(place.pageKey, now) || !this.#appLimiter.take(place.appKey, now) || !this.#siteLimiter.take(place.site, now)) {
      state.stats.droppedRateLimited += error.count;
      return;
    }
    if (state.reports.filter((e) => e.status === 'queued' && siteOf(e) === place.site).length >= MAX_QUEUED_PER_SITE) {
      state.stats.droppedQueueFull += error.count;
      return;
    }
    state.reports.push({
      id: this.deps.randomId?.() ?? crypto.randomUUID(),
      key,
      app: place.app,
      submitUrl: place.submitUrl,
      annotations: buildAnnotations({
        error,
        identity: place.identity,
        pageUrl: place.pageUrl,
        submitUrl: place.submitUrl,
        declared: place.declared,
        strip: place.strip,
        hide: place.hide,
        now,
        userAgent: this.deps.userAgent,
      }),
      createdAt: now,
      status: 'queued',
      attempts: 0,
      // A follow-up to a report already sent waits for that report's window to end.
      nextAttemptAt: Math.max(now + SETTLE_MS, sent ? sent.createdAt + DEDUPE_WINDOW_MS : 0),
      repeatCount: error.count,
      ...(place.topHost !== undefined ? { topHost: place.topHost } : {}),
    });
  }

  /** Keeps the errors of a batch the site limit refused, to place them soon. */
  #hold(place: BatchPlace, batch: IncomingBatch): void {
    this.#heldDroppedInPage += batch.dropped;
    for (const error of batch.errors) {
      const key = hashKey(`${place.appKey}\n${errorKey(error)}`);
      const held = this.#held.get(key);
      if (held) held.error.count += error.count;
      else if (this.#held.size >= MAX_HELD_ERRORS) this.#unheld += error.count;
      // The first batch's page and error stand for all of them, as a report's first one does.
      else this.#held.set(key, { error: { ...error }, place });
    }
    // One write a second at most, however many batches the flood brings.
    this.#foldTimer ??= setTimeout(() => {
      this.#foldTimer = undefined;
      this.#writeHeld()
        // What was placed may be a new report (a follow-up, or one after its minute): it needs a timer and an alarm.
        .then((wrote) => (wrote ? this.schedule() : undefined))
        .catch((err: unknown) => console.error('socorrito: could not count repeats:', err));
    }, HELD_FOLD_MS);
  }

  /**
   * Places the held errors as handleBatch places a batch's: on the report that takes their
   * repeats, else as a report of their own (a follow-up to one being sent or sent). What could
   * not be held is counted as rate-limited, what their pages dropped as dropped in the page.
   */
  #placeHeld(state: StoreState, now: number): void {
    state.stats.droppedRateLimited += this.#unheld;
    state.stats.droppedInPage += this.#heldDroppedInPage;
    this.#unheld = 0;
    this.#heldDroppedInPage = 0;
    for (const { error, place } of this.#held.values()) this.#place(state, place, error, now);
    this.#held.clear();
  }

  /** Writes what is held to the queue, if anything is; says whether it did. */
  async #writeHeld(): Promise<boolean> {
    if (this.#held.size === 0 && this.#unheld === 0 && this.#heldDroppedInPage === 0) return false;
    await this.deps.store.update((state) => this.#placeHeld(state, this.#now()));
    return true;
  }

  /** After a (re)start: attempts cut short by the browser closing are queued again. */
  async start(): Promise<void> {
    await this.deps.store.update((state) => {
      for (const e of state.reports) if (e.status === 'sending') e.status = 'queued';
    });
    await this.schedule();
  }

  /** Makes every queued report due now and delivers them (the popup's "Retry now"). */
  async retryNow(): Promise<void> {
    const now = this.#now();
    await this.deps.store.update((state) => {
      for (const e of state.reports) if (e.status === 'queued') e.nextAttemptAt = now;
    });
    await this.drain();
  }

  /**
   * Clears the in-memory timers (the alarm stays, so a suspended background still wakes) and
   * writes what is held to the queue: a background that ends (suspended, disabled, updated)
   * keeps those repeats, and the alarm set for them wakes it to send them.
   */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#foldTimer);
    this.#foldTimer = undefined;
    // A report placed now is sent once the background wakes: the alarm must be set for it.
    if (await this.#writeHeld()) await this.schedule();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Sets the timer and the alarm for the next due report. */
  async schedule(): Promise<void> {
    const { reports } = await this.deps.store.read();
    const next = Math.min(...reports.filter((e) => e.status === 'queued').map((e) => e.nextAttemptAt));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!Number.isFinite(next)) return;
    this.#timer = setTimeout(() => void this.drain(), Math.max(0, next - this.#now()));
    // While an attempt is under way, no later than the alarm set for it (see ATTEMPT_ALARM_MS).
    this.deps.scheduleAlarm?.(this.#busy.size > 0 ? Math.min(next, this.#now() + ATTEMPT_ALARM_MS) : next);
  }

  /**
   * Delivers every due report, oldest first (receivers tried longest ago before others), up to
   * MAX_PARALLEL_ATTEMPTS at once, never two to one receiver or from one site. Called during a
   * round, it makes the round look for due reports again and resolves when the round ends.
   */
  drain(): Promise<void> {
    this.#again = true;
    this.#wake?.();
    this.#round ??= this.#runRound().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #runRound(): Promise<void> {
    const attempts = new Set<Promise<void>>();
    try {
      // Held repeats join their reports before those are sent.
      await this.#writeHeld();
      for (;;) {
        this.#again = false;
        while (attempts.size < MAX_PARALLEL_ATTEMPTS) {
          const picked = await this.#pick();
          if (!picked) break;
          if ('withdrawn' in picked) continue;
          const attempt: Promise<void> = this.#attempt(picked)
            .catch((err: unknown) => console.error('socorrito: a delivery attempt failed:', err))
            .finally(() => attempts.delete(attempt));
          attempts.add(attempt);
        }
        if (attempts.size === 0 && !this.#again) break;
        if (!this.#again) {
          // Until an attempt ends or drain() is called (a new report, the alarm).
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            for (const attempt of attempts) void attempt.then(resolve);
          });
          this.#wake = undefined;
        }
      }
    } finally {
      await this.schedule();
    }
  }

  /** Receivers on local addresses, by origin, and whether they take reports from pages elsewhere (asked once an hour). */
  readonly #localReceivers = new Map<string, { at: number; accepts: boolean }>();

  /**
   * For a report of a page on a public site to a receiver on this machine or a local network:
   * what to do instead of sending it when that receiver does not say it takes reports from
   * anywhere (see acceptsReportsFromAnywhere), or null to send it.
   */
  async #localReceiverCheck(submitUrl: string, annotations: Annotations): Promise<Outcome | null> {
    const receiver = hostOf(submitUrl);
    const page = hostOf(annotations[Annotation.URL]);
    if (receiver === null || !isLocalHost(receiver) || (page !== null && isLocalHost(page))) return null;
    const origin = new URL(submitUrl).origin;
    const known = this.#localReceivers.get(origin);
    const now = this.#now();
    let accepts = known && now - known.at < LOCAL_RECEIVER_CHECK_MS ? known.accepts : undefined;
    if (accepts === undefined) {
      const answer = await acceptsReportsFromAnywhere(submitUrl, this.#fetch);
      // No POST to a receiver that did not answer: asked again at the next attempt.
      if (answer === 'unreachable') return { kind: 'retry', reason: 'receiver unreachable (network error)', receiverWide: true };
      accepts = answer === 'yes';
      this.#localReceivers.set(origin, { at: now, accepts });
    }
    return accepts ? null : { kind: 'failed', reason: LOCAL_RECEIVER_REFUSED };
  }

  /** Marks the next report to send as sending (or withdraws it); null when none may go now. */
  async #pick(): Promise<Picked | { withdrawn: string } | null> {
    await this.deps.ready;
    // The person's choices as they are now, not as they were when the report was queued: one
    // who turned reporting off or blocked the site since sends nothing more.
    const settings = await this.deps.loadSettings();
    const now = this.#now();
    return this.deps.store.updateUnlessNull((state) => {
      // Receivers take turns (the one tried longest ago first), so one that hangs delays only its own reports.
      const tried = (e: ReportEntry): number => this.#triedAt.get(originOf(e.submitUrl)) ?? -Infinity;
      const due = state.reports
        .filter((e) => e.status === 'queued' && e.nextAttemptAt <= now && !this.#busy.has(originOf(e.submitUrl)) && !this.#busy.has(siteKey(e)))
        .sort((a, b) => tried(a) - tried(b) || a.createdAt - b.createdAt)[0];
      if (!due) return null;
      const withdrawn = withdrawnBecause(settings, due);
      if (withdrawn) {
        due.status = 'withdrawn';
        due.finishedAt = now;
        due.lastError = withdrawn;
        return { withdrawn };
      }
      this.#triedAt.set(originOf(due.submitUrl), now);
      if (this.#triedAt.size > 1000) this.#triedAt.delete(this.#triedAt.keys().next().value!);
      due.annotations = protectAnnotations(due.annotations, settings.stripQueryAndFragment, settings.hideEmailsAndTokens);
      due.status = 'sending';
      due.attempts++;
      this.#busy.add(originOf(due.submitUrl));
      this.#busy.add(siteKey(due));
      // Set before the attempt, not after it: a background suspended during it must be woken.
      this.deps.scheduleAlarm?.(now + ATTEMPT_ALARM_MS);
      return { id: due.id, submitUrl: due.submitUrl, annotations: { ...due.annotations }, busy: [originOf(due.submitUrl), siteKey(due)] };
    });
  }

  /** One attempt of a picked report, and its outcome stored. */
  async #attempt(picked: Picked): Promise<void> {
    try {
      const now = this.#now();
      let outcome: Outcome | null = null;
      if (this.deps.mayReach && !(await this.deps.mayReach(picked.submitUrl).catch(() => false))) {
        // Waits (retried with backoff) until the person gives the extension access to that receiver.
        outcome = {
          kind: 'retry',
          reason: `not sent: Socorrito may not reach ${new URL(picked.submitUrl).host} (its site access is limited; allow it in about:addons)`,
          receiverWide: true,
        };
      }
      outcome ??= await this.#localReceiverCheck(picked.submitUrl, picked.annotations);
      if (!outcome) {
        await this.deps.store.saveLastSent({ at: now, submitUrl: picked.submitUrl, annotations: picked.annotations });
        outcome = await submitReport(picked.submitUrl, picked.annotations, this.#fetch, this.#now);
      }
      const done = this.#now();
      const final = outcome;
      await this.deps.store.update((state) => {
        const entry = state.reports.find((e) => e.id === picked.id);
        if (!entry) return;
        applyOutcome(entry, final, done);
        if (final.kind === 'retry' && final.receiverWide && entry.status === 'queued') waitWith(state.reports, entry, done);
      });
    } finally {
      for (const key of picked.busy) this.#busy.delete(key);
    }
  }
}

/** What the errors of one batch share: where their reports go and the limits they count against. */
interface BatchPlace {
  identity: AppIdentity | null;
  pageUrl: string;
  pageKey: string;
  /** The tab's site (see SITE_REPORTS_PER_MINUTE). */
  site: string;
  /** The tab's host when it is not the page's own (a frame's report keeps it; see ReportEntry). */
  topHost: string | undefined;
  app: string;
  /** The destination and the app: the per-app limit's key, and part of each report's key. */
  appKey: string;
  submitUrl: string;
  declared: boolean;
  strip: boolean;
  hide: boolean;
}

/**
 * The report that counts a repeat of the error `key` seen at `now`, for a batch and for held
 * repeats alike: the newest of its reports made within DEDUPE_WINDOW_MS, while it waits to be
 * sent, and also when the receiver refused or discarded it or it was withdrawn (sending again
 * would get the same answer: counted locally only). When that newest one is being sent or went
 * out, none takes it: `sent` is the one a follow-up report waits for.
 */
export function reportTaking(reports: readonly ReportEntry[], key: string, now: number): { takes?: ReportEntry; sent?: ReportEntry } {
  const newest = reports.findLast((e) => e.key === key && now - e.createdAt < DEDUPE_WINDOW_MS);
  if (!newest) return {};
  return newest.status === 'sending' || newest.status === 'submitted' ? { sent: newest } : { takes: newest };
}

interface Picked {
  id: string;
  submitUrl: string;
  annotations: Annotations;
  /** The receiver and the site this attempt keeps others from. */
  busy: string[];
}

/** A report's site in the busy set (apart from receivers' origins, which have a scheme). */
function siteKey(entry: ReportEntry): string {
  return `site:${siteOf(entry)}`;
}

/**
 * Why a queued report may no longer be sent under the person's current settings, or null: they
 * turned reporting off, blocked the site, or (for a page that declared no receiver) no longer
 * send this site to their own receiver, or changed it.
 */
export function withdrawnBecause(settings: Settings, entry: ReportEntry): string | null {
  if (!settings.enabled) return 'not sent: reporting was turned off';
  // No page URL to judge by: the report stays.
  const host = hostOf(entry.annotations[Annotation.URL]);
  if (host !== null && siteMatches(host, settings.blockSites)) return 'not sent: the site was blocked';
  if (entry.topHost !== undefined && siteMatches(entry.topHost, settings.blockSites)) return 'not sent: the site was blocked';
  if (entry.annotations[Annotation.SubmitURL] !== undefined) return null; // the page declared where it goes
  const ownReceiver = settings.receiverUrl ? submitUrlOf(settings.receiverUrl) : null;
  if (ownReceiver !== entry.submitUrl) return 'not sent: your receiver URL was changed or removed';
  if (!settings.reportAllSites && !(host !== null && siteMatches(host, settings.allowSites))) return 'not sent: the site is no longer reported';
  return null;
}

function applyOutcome(entry: ReportEntry, outcome: Awaited<ReturnType<typeof submitReport>>, now: number): void {
  const finish = (status: ReportEntry['status'], lastError?: string): void => {
    entry.status = status;
    entry.finishedAt = now;
    entry.lastError = lastError;
  };
  switch (outcome.kind) {
    case 'submitted':
      entry.crashId = outcome.crashId;
      return finish('submitted');
    case 'discarded':
      return finish('discarded', outcome.reason);
    case 'failed':
      return finish('failed', outcome.reason);
    case 'retry':
      if (now - entry.createdAt > MAX_REPORT_AGE_MS) return finish('failed', `gave up after 7 days: ${outcome.reason}`);
      entry.status = 'queued';
      entry.lastError = outcome.reason;
      // The server's Retry-After wins over our backoff, but never below a second.
      entry.nextAttemptAt = now + (outcome.retryAfterMs !== undefined ? Math.max(1_000, outcome.retryAfterMs) : retryDelayMs(entry.attempts));
  }
}

/**
 * The receiver of `tried` did not answer or said it is busy: its other reports due now wait until
 * `tried`'s next attempt instead of each trying it in turn (a round of 100 reports to a receiver
 * that is down was 100 attempts and 200 rewrites of the whole queue in storage).
 */
function waitWith(reports: ReportEntry[], tried: ReportEntry, now: number): void {
  const origin = originOf(tried.submitUrl);
  for (const e of reports) {
    if (e === tried || e.status !== 'queued' || e.nextAttemptAt > now || originOf(e.submitUrl) !== origin) continue;
    if (now - e.createdAt > MAX_REPORT_AGE_MS) {
      e.status = 'failed';
      e.finishedAt = now;
      e.lastError = `gave up after 7 days: ${tried.lastError ?? ''}`;
      continue;
    }
    e.nextAttemptAt = tried.nextAttemptAt;
    e.lastError = tried.lastError;
  }
}

/** Adds repeats to a report; one still waiting to be sent says them in its JSRepeatCount too. */
function addRepeats(entry: ReportEntry, count: number): void {
  entry.repeatCount += count;
  if (entry.status === 'queued') entry.annotations[Annotation.JSRepeatCount] = String(entry.repeatCount);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
