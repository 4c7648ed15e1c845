import { urlForLog } from '../config.ts';
import type { FsOps } from '../storage/durable.ts';
import type { ProcessedCrash } from '../storage/types.ts';
import { deadline } from '../deadline.ts';
import type { Spike } from './spikes.ts';
import { AlertOutbox, alertName, describeAlerts, formatAge, newAlertId, type WaitingAlert } from './alert-outbox.ts';

/** How long one webhook call may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/**
 * After a failed call the next waits this long, doubling at each failure in a row up to
 * WEBHOOK_RETRY_MAX_MS: a chat that is down for an hour is tried every 5 minutes, and hears of
 * what happened within 5 minutes of coming back.
 */
export const WEBHOOK_RETRY_INITIAL_MS = 1_000;
export const WEBHOOK_RETRY_MAX_MS = 5 * 60_000;
/**
 * An alert not delivered this long after it was made is dropped with a log line, whether it
 * waited for the webhook or for the receiver to start again: a day-old "new signature" posted
 * as if it were news would mislead more than it helps, and the signature's page has it all.
 */
export const WEBHOOK_MAX_AGE_MS = 24 * 60 * 60_000;
/** An alert delivered later than this after it was made says so in its text. */
export const WEBHOOK_LATE_MS = 5 * 60_000;
/**
 * Events sent in any minute. Anyone can submit, and each made-up error is a new signature: past
 * this, events are not sent but counted, and the next one sent says how many were left out.
 * Alerts that waited (an outage, a restart) go out at this pace too.
 */
export const WEBHOOK_EVENTS_PER_MINUTE = 20;
/** Alerts waiting at most; past this, new ones are counted as left out, as over the rate. */
export const WEBHOOK_MAX_WAITING = 200;

export interface WebhookOptions {
  url: string;
  /** Where the receiver's pages are, for links in the message. */
  receiverUrl: () => string;
  log: (line: string) => void;
  /** Where alerts wait until delivered, across restarts; without it, in memory only. */
  outbox?: AlertOutbox;
  fetch?: typeof fetch;
  now?: () => number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  maxAgeMs?: number;
}

/** What the webhook has done since start, for `GET /api/stats`. */
export interface WebhookStats {
  /** Alerts not delivered yet (on disk, or in memory when the outbox cannot be written). */
  waiting: number;
  delivered: number;
  /** Refused by the webhook (4xx) or too old to send. */
  dropped: number;
  /** Not sent: over WEBHOOK_EVENTS_PER_MINUTE or WEBHOOK_MAX_WAITING. */
  left_out: number;
}

/**
 * `alerts` in `GET /api/stats`. Without --webhook-url (`webhook: false`), `waiting` counts the
 * alerts a run with one left in the outbox: kept, but sent only once it is set again; when the
 * outbox cannot be read, `waiting` is null and `error` says why and what to do.
 */
export interface AlertStats extends Omit<WebhookStats, 'waiting'> {
  webhook: boolean;
  waiting: number | null;
  error?: string;
}

/** What the webhook receives: a Slack/Mattermost-style `text`, and the facts as fields. */
export interface NewSignatureEvent {
  event: 'new_signature';
  text: string;
  signature: string;
  signature_id: string;
  app: string | null;
  product: string | null;
  version: string | null;
  /** The crash's environment (`production`), null when its page declared none. */
  environment: string | null;
  error_type: string | null;
  crash_id: string;
  signature_url: string;
  report_url: string;
  submitted_at: string;
  /** Events not sent before this one, over WEBHOOK_EVENTS_PER_MINUTE. */
  left_out?: number;
  /** When the alert was made (ISO); added as it is sent. */
  queued_at?: string;
}

/** A signature crashes far more than usual in an app (see notify/spikes.ts for the rule). */
export interface SpikeEvent extends Omit<NewSignatureEvent, 'event'> {
  event: 'spike';
  /** Crashes in the last hour. */
  count: number;
  /** Its average hour over the week before, to a hundredth. */
  usual_per_hour: number;
  /** Its crashes over the week before. */
  week_before: number;
}

/** Every event the webhook sends. */
export type AlertEvent = NewSignatureEvent | RegressionEvent | SpikeEvent;

/** A resolved signature crashed again (see triage/signature-status.ts for the rule). */
export interface RegressionEvent extends Omit<NewSignatureEvent, 'event'> {
  event: 'regression';
  /** When the signature had been resolved (ISO). */
  resolved_at: string | null;
}

/** U+200B ZERO WIDTH SPACE: invisible, and enough to stop a mention, a Markdown link or a link being recognised. */
const ZWSP = '\u200b';

/**
 * Crash data made plain text for Slack and Mattermost, whatever anyone who can submit a crash
 * put in it: `&`, `<` and `>` escaped as Slack asks (no `<!channel>`, no `<https://…|Click>`),
 * and a zero-width space breaks what Mattermost would act on: `@channel` and other mentions,
 * Markdown links and images (`[Click](https://…)`, `![x](…)`), and bare URLs (`https://…`,
 * which both make links). So does every dot between a name and a letter: Slack's server links a
 * bare domain (`Cannot reach api.example.com`, and `this.app` too, `.app` being a top-level
 * domain), so a page could plant a link in the channel by throwing an error that names one.
 *
 * Not inline code: Slack links what its server recognises before the message is formatted, so a
 * domain in backticks can come out linked all the same, and a backtick in the text would end the
 * code early. The zero-width space leaves the text reading exactly as it did; what a person
 * copies from the chat carries it, and the event's own fields (`signature`, `product`…) are
 * there unchanged for anything that needs the exact text.
 *
 * @example chatText('@all [Reset](https://evil.example)') // '@\u200ball [Reset]\u200b(https:\u200b//evil.\u200bexample)'
 * @example chatText('Cannot reach api.example.com') // 'Cannot reach api.\u200bexample.\u200bcom'
 */
export function chatText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, `@${ZWSP}`)
    .replace(/\]\(/g, `]${ZWSP}(`)
    .replace(/!\[/g, `!${ZWSP}[`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`)
    // Digits after a dot are left alone: a version (1.4.2) is no domain, and reads as it should.
    .replace(/(?<=[\p{L}\p{N}_-])\.(?=\p{L})/gu, `.${ZWSP}`);
}

/** An alert in memory, and whether its file is on disk. */
interface Waiting {
  alert: WaitingAlert;
  /** Resolves true once the file is written, false when it could not be (never rejects). */
  onDisk: Promise<boolean>;
}

/**
 * Tells a chat or an alerting system when a crash signature is seen for the first time, or a
 * resolved one crashes again, the way Sentry alerts on a new issue. It never holds up processing.
 *
 * Each alert is written to the outbox (see AlertOutbox) before the first call, sent oldest
 * first, one call at a time, and removed once the webhook answers 2xx (or refuses it with a 4xx
 * other than 429). While the webhook fails, the oldest alert is retried with backoff and the
 * others wait behind it; the failure is logged once, and again when it answers. Alerts left by a
 * previous run are sent after `start()`, to the URL configured now. An alert older than
 * `maxAgeMs` is dropped with a log line. When the outbox cannot be written (a full disk), the
 * alert is sent from memory, and that is logged.
 */
export class NewSignatureWebhook {
  readonly #now: () => number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #maxAgeMs: number;
  /** When each alert admitted in the last minute was made. */
  #admittedAt: number[] = [];
  /** When each call of the last minute was made. */
  #calledAt: number[] = [];
  /** Events left out since the last one admitted, and why the first of them was. */
  #leftOut = 0;
  #leftOutWhy = '';
  /** Alerts not delivered yet, oldest first. */
  #waiting: Waiting[] = [];
  /** False when the outbox could not be opened at start: alerts stay in memory only. */
  #outboxUsable: boolean;
  /** Why the last outbox write failed, until one succeeds (logged once per streak). */
  #diskProblem: string | null = null;
  readonly #writes = new Set<Promise<boolean>>();
  /** Failed calls in a row, and when the next may go. */
  #failures = 0;
  #retryAt = 0;
  /** The last failure, for the log line of alerts dropped while the webhook failed. */
  #problem = '';
  #busy = false;
  #run: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  readonly #stop = new AbortController();
  readonly #stats: WebhookStats = { waiting: 0, delivered: 0, dropped: 0, left_out: 0 };

  constructor(private readonly options: WebhookOptions) {
    this.#now = options.now ?? Date.now;
    this.#retryInitialMs = options.retryInitialMs ?? WEBHOOK_RETRY_INITIAL_MS;
    this.#retryMaxMs = options.retryMaxMs ?? WEBHOOK_RETRY_MAX_MS;
    this.#maxAgeMs = options.maxAgeMs ?? WEBHOOK_MAX_AGE_MS;
    this.#outboxUsable = options.outbox !== undefined;
  }

  /** Opens the outbox, takes up the alerts a previous run left there, and starts sending them. */
  async start(): Promise<{ resumed: number }> {
    const outbox = this.options.outbox;
    let resumed: WaitingAlert[] = [];
    if (outbox) {
      try {
        await outbox.open();
        resumed = await outbox.load(this.#now(), this.#maxAgeMs, this.options.log);
      } catch (err) {
        this.#outboxUsable = false;
        this.options.log(`webhook: cannot use ${outbox.dir} (${problemOf(err)}); alerts are kept in memory only until sent, so a restart before then loses them`);
      }
    }
    if (resumed.length) this.options.log(`webhook: resuming ${describeAlerts(resumed)} from ${outbox!.dir}`);
    this.#waiting = [...resumed.map((alert) => ({ alert, onDisk: Promise.resolve(true) })), ...this.#waiting];
    this.#waiting.sort((a, b) => (a.alert.id < b.alert.id ? -1 : 1));
    this.#kick();
    return { resumed: resumed.length };
  }

  /** Stops sending; a call under way is abandoned and its alert stays in the outbox for the next start. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#run;
    await Promise.all([...this.#writes]);
  }

  /** How many alerts wait, and what became of the others since start. */
  stats(): WebhookStats {
    return { ...this.#stats, waiting: this.#waiting.length };
  }

  notify(processed: ProcessedCrash): void {
    const facts = this.#facts(processed);
    this.#admit({
      event: 'new_signature',
      text: `New crash signature${chatText(facts.where)}: ${chatText(processed.signature)} — ${facts.signature_url}`,
      ...facts.fields,
    });
  }

  /** A resolved signature regressed: `Regression: <signature> in <product> <version> — <link>`. */
  regression(processed: ProcessedCrash, resolvedAt: string | null): void {
    const facts = this.#facts(processed);
    this.#admit({
      event: 'regression',
      text: `Regression: ${chatText(processed.signature)}${chatText(facts.where)} — ${facts.signature_url}`,
      ...facts.fields,
      resolved_at: resolvedAt,
    });
  }

  /** A spike: `Spike: 240 crashes in the last hour of <signature> in <product> <version> (12 in the week before) — <link>`. */
  spike(processed: ProcessedCrash, spike: Spike): void {
    const facts = this.#facts(processed);
    const before = spike.week_before === 0 ? 'none in the week before' : `${spike.week_before} in the week before`;
    this.#admit({
      event: 'spike',
      text: `Spike: ${spike.count} crashes in the last hour of ${chatText(processed.signature)}${chatText(facts.where)} (${before}) — ${facts.signature_url}`,
      ...facts.fields,
      count: spike.count,
      usual_per_hour: spike.usual_per_hour,
      week_before: spike.week_before,
    });
  }

  /** What every event says about the crash, and ` in <product> <version> (<environment>)` for their text. */
  #facts(processed: ProcessedCrash): { where: string; signature_url: string; fields: Omit<NewSignatureEvent, 'event' | 'text'> } {
    const base = this.options.receiverUrl().replace(/\/$/, '');
    const signatureUrl = `${base}/signatures/${processed.signature_id}`;
    return {
      where: whereText(processed),
      signature_url: signatureUrl,
      fields: {
        signature: processed.signature,
        signature_id: processed.signature_id,
        app: processed.app_guid,
        product: processed.product,
        version: processed.version,
        environment: processed.environment ?? null,
        error_type: processed.error_type,
        crash_id: `bp-${processed.crash_id}`,
        signature_url: signatureUrl,
        report_url: `${base}/report/bp-${processed.crash_id}`,
        submitted_at: processed.submitted_at,
      },
    };
  }

  /**
   * Whether an event may join the alerts (WEBHOOK_EVENTS_PER_MINUTE, WEBHOOK_MAX_WAITING); one
   * that may not is counted, and the next one admitted says how many were left out.
   */
  #allowed(now: number): boolean {
    this.#admittedAt = this.#admittedAt.filter((at) => now - at < 60_000);
    const full = this.#waiting.length >= WEBHOOK_MAX_WAITING;
    if (full || this.#admittedAt.length >= WEBHOOK_EVENTS_PER_MINUTE) {
      this.#stats.left_out++;
      if (this.#leftOut++ === 0) {
        this.#leftOutWhy = full ? `${WEBHOOK_MAX_WAITING} were waiting` : `over ${WEBHOOK_EVENTS_PER_MINUTE} a minute`;
        this.options.log(
          full
            ? `webhook: ${WEBHOOK_MAX_WAITING} alerts wait already; the next ones are counted, not sent, until fewer wait`
            : `webhook: more than ${WEBHOOK_EVENTS_PER_MINUTE} events in a minute; the next ones are counted, not sent, until fewer than that were sent in the last minute`,
        );
      }
      return false;
    }
    this.#admittedAt.push(now);
    return true;
  }

  /** Makes an event an alert: on disk first when the outbox can be written, then in line to be sent. */
  #admit(event: AlertEvent): void {
    if (this.#stop.signal.aborted) return;
    const now = this.#now();
    if (!this.#allowed(now)) return;
    if (this.#leftOut) {
      event.text += ` (and ${this.#leftOut} more ${this.#leftOut === 1 ? 'event' : 'events'} not sent: ${this.#leftOutWhy})`;
      event.left_out = this.#leftOut;
      this.#leftOut = 0;
    }
    const alert: WaitingAlert = { id: newAlertId(now), queued_at: new Date(now).toISOString(), event };
    const onDisk = this.#write(alert);
    this.#writes.add(onDisk);
    void onDisk.then(() => this.#writes.delete(onDisk));
    this.#waiting.push({ alert, onDisk });
    this.#kick();
  }

  /** Writes an alert's file; a failure (a full disk) is logged once per streak and the alert goes from memory. */
  async #write(alert: WaitingAlert): Promise<boolean> {
    const outbox = this.options.outbox;
    if (!outbox || !this.#outboxUsable) return false;
    try {
      await outbox.put(alert);
      if (this.#diskProblem) this.options.log(`webhook: alerts are written to ${outbox.dir} again`);
      this.#diskProblem = null;
      return true;
    } catch (err) {
      if (!this.#diskProblem) {
        this.options.log(`webhook: could not write an alert to ${outbox.dir} (${problemOf(err)}); alerts are sent from memory until it can be written, so a restart before they are sent loses them`);
      }
      this.#diskProblem = problemOf(err);
      return false;
    }
  }

  /** Starts sending unless a send is under way or a wait (backoff, rate) is set. */
  #kick(): void {
    if (this.#busy || this.#timer || this.#stop.signal.aborted) return;
    this.#busy = true;
    this.#run = this.#sendAll().catch((err: Error) => this.options.log(`webhook: ${err.stack ?? err.message}`));
  }

  /** Sends waiting alerts one at a time until none is left or one must wait. */
  async #sendAll(): Promise<void> {
    try {
      for (;;) {
        const next = this.#next();
        if (!next) return;
        if ('waitMs' in next) {
          this.#timer = setTimeout(() => {
            this.#timer = null;
            this.#kick();
          }, next.waitMs);
          this.#timer.unref();
          return;
        }
        await this.#send(next);
        if (this.#stop.signal.aborted) return;
      }
    } finally {
      // Set in the same step as the decision to return, so a #kick after it starts a new run.
      this.#busy = false;
    }
  }

  /** The alert to send now, how long to wait before the next, or null when none waits. */
  #next(): Waiting | { waitMs: number } | null {
    const now = this.#now();
    const tooOld = this.#waiting.filter((w) => now - Date.parse(w.alert.queued_at) > this.#maxAgeMs);
    if (tooOld.length) {
      this.#waiting = this.#waiting.filter((w) => !tooOld.includes(w));
      this.#stats.dropped += tooOld.length;
      this.options.log(`webhook: dropped ${describeAlerts(tooOld.map((w) => w.alert))}, not delivered within ${formatAge(this.#maxAgeMs)}${this.#failures ? ` (last problem: ${this.#problem})` : ''}`);
      for (const w of tooOld) void this.#forget(w);
    }
    if (this.#stop.signal.aborted || !this.#waiting.length) return null;
    if (this.#retryAt > now) return { waitMs: this.#retryAt - now };
    this.#calledAt = this.#calledAt.filter((at) => now - at < 60_000);
    if (this.#calledAt.length >= WEBHOOK_EVENTS_PER_MINUTE) return { waitMs: this.#calledAt[0]! + 60_000 - now };
    return this.#waiting[0]!;
  }

  async #send(waiting: Waiting): Promise<void> {
    await waiting.onDisk; // on disk before the first call, when it can be
    if (this.#stop.signal.aborted) return;
    const now = this.#now();
    this.#calledAt.push(now);
    const { alert } = waiting;
    const late = now - Date.parse(alert.queued_at);
    const body = { ...alert.event, queued_at: alert.queued_at };
    if (late > WEBHOOK_LATE_MS) body.text += ` (sent late: this happened ${formatAge(late)} ago)`;
    let outcome: 'delivered' | 'refused' | 'failed' = 'failed';
    let problem = '';
    const call = deadline(WEBHOOK_TIMEOUT_MS, this.#stop.signal);
    try {
      const response = await (this.options.fetch ?? fetch)(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: call.signal,
      });
      await response.body?.cancel();
      problem = `answered ${response.status}`;
      if (response.ok) outcome = 'delivered';
      // The hook refuses this one (a bad token, a payload it does not take): retrying will not help.
      else if (response.status < 500 && response.status !== 429 && response.status !== 408) outcome = 'refused';
    } catch (err) {
      if (this.#stop.signal.aborted) return; // stopping: the alert stays in the outbox for the next start
      problem = problemOf(err);
    } finally {
      call.clear();
    }
    const where = urlForLog(this.options.url);
    if (outcome === 'failed') {
      // Said when the webhook starts failing and when it answers again, not at each retry.
      if (this.#failures === 0) {
        this.options.log(`webhook: ${where} failed (${problem}); alerts wait and are retried with backoff for up to ${formatAge(this.#maxAgeMs)}`);
      }
      this.#failures++;
      this.#problem = problem;
      this.#retryAt = this.#now() + Math.min(this.#retryMaxMs, this.#retryInitialMs * 2 ** Math.min(this.#failures - 1, 30));
      return;
    }
    this.#waiting = this.#waiting.filter((w) => w !== waiting);
    if (this.#failures) {
      const left = this.#waiting.length;
      this.options.log(`webhook: ${where} answers again after ${this.#failures} failed ${this.#failures === 1 ? 'call' : 'calls'}; ${left} more ${left === 1 ? 'alert' : 'alerts'} to send`);
    }
    this.#failures = 0;
    this.#retryAt = 0;
    if (outcome === 'delivered') this.#stats.delivered++;
    else {
      this.#stats.dropped++;
      this.options.log(`webhook: ${where} refused the alert about ${alertName(alert.event)} (${problem}); dropped`);
    }
    await this.#forget(waiting);
  }

  /** Removes a delivered or dropped alert's file. */
  async #forget(waiting: Waiting): Promise<void> {
    if (!(await waiting.onDisk)) return;
    // A file left behind is sent again after a restart: a duplicate alert, not a lost one.
    await this.options.outbox!.remove(waiting.alert.id).catch((err: unknown) => this.options.log(`webhook: could not remove ${waiting.alert.id}.json from the outbox: ${problemOf(err)}`));
  }
}

/** An error as a log line shows it: its code and message, or its cause's. */
function problemOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (e?.name === 'TimeoutError') return 'timed out';
  const inner = e?.cause ?? e;
  return inner?.code ? `${inner.code}${inner.message && !inner.message.startsWith(inner.code) ? `: ${inner.message}` : ''}` : String(inner?.message ?? err);
}

/**
 * The webhook of `config` over the outbox in the data dir, started; null when no `--webhook-url`
 * is set. Alerts a previous run left are then kept for when it is set again (less those too old
 * to send), and the log says how many: removing the URL by mistake loses nothing.
 */
export async function openWebhook(
  config: { webhookUrl?: string },
  deps: { dataDir: string; tmpDir: string; receiverUrl: () => string; log: (line: string) => void; fs?: FsOps; now?: () => number },
): Promise<NewSignatureWebhook | null> {
  const outbox = new AlertOutbox(deps.dataDir, deps.tmpDir, deps.fs);
  if (!config.webhookUrl) {
    try {
      const kept = await outbox.load((deps.now ?? Date.now)(), WEBHOOK_MAX_AGE_MS, deps.log);
      if (kept.length) deps.log(`webhook: no --webhook-url, so ${describeAlerts(kept)} in ${outbox.dir} are kept, and sent if it is set again within ${formatAge(WEBHOOK_MAX_AGE_MS)} of when they happened`);
    } catch (err) {
      deps.log(`webhook: cannot read ${outbox.dir}: ${problemOf(err)}`);
    }
    return null;
  }
  const webhook = new NewSignatureWebhook({ url: config.webhookUrl, receiverUrl: deps.receiverUrl, log: deps.log, outbox, now: deps.now });
  await webhook.start();
  return webhook;
}

/**
 * The alert stats without --webhook-url: alerts a run with one left in the outbox wait there
 * unsent, and an operator must see them (to set the option again, or let them go).
 */
export function unsentAlertStats(dataDir: string, tmpDir: string): () => Promise<AlertStats> {
  const outbox = new AlertOutbox(dataDir, tmpDir);
  return async () => {
    const none = { webhook: false, delivered: 0, dropped: 0, left_out: 0 };
    try {
      return { ...none, waiting: await outbox.count() };
    } catch (err) {
      // The other stats still answer: this part says what is wrong instead.
      return { ...none, waiting: null, error: (err as Error).message };
    }
  };
}

/** ` in Shop 1.4.2 (production)` for an alert's text; parts the crash lacks are left out. */
function whereText(processed: ProcessedCrash): string {
  const environment = processed.environment ? `(${processed.environment})` : '';
  const app = processed.product ? `${processed.product}${processed.version ? ` ${processed.version}` : ''}` : '';
  return app || environment ? ` in ${[app, environment].filter(Boolean).join(' ')}` : '';
}
