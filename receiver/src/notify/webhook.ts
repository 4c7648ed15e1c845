import { urlForLog } from '../config.ts';
import type { ProcessedCrash } from '../storage/types.ts';

/** How long one webhook call may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Waits between tries of a failed call; after the last, the failure is logged and dropped. */
export const WEBHOOK_RETRY_MS = [1_000, 10_000, 60_000];
/**
 * Events sent in any minute. Anyone can submit, and each made-up error is a new signature: past
 * this, events are not sent but counted, and the next one sent says how many were left out.
 */
export const WEBHOOK_EVENTS_PER_MINUTE = 20;

export interface WebhookOptions {
  url: string;
  /** Where the receiver's pages are, for links in the message. */
  receiverUrl: () => string;
  log: (line: string) => void;
  fetch?: typeof fetch;
  retryMs?: number[];
  now?: () => number;
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
  error_type: string | null;
  crash_id: string;
  signature_url: string;
  report_url: string;
  submitted_at: string;
  /** Events not sent before this one, over WEBHOOK_EVENTS_PER_MINUTE. */
  left_out?: number;
}

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
 * which both make links).
 *
 * @example chatText('@all [Reset](https://evil.example)') // '@\u200ball [Reset]\u200b(https:\u200b//evil.example)'
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
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`);
}

/**
 * Tells a chat or an alerting system when a crash signature is seen for the first time, the way
 * Sentry alerts on a new issue. Best effort: a few retries, then a log line; it never holds up
 * processing.
 */
export class NewSignatureWebhook {
  /** When the events of the last minute were sent. */
  #sentAt: number[] = [];
  /** Events left out since the last one sent. */
  #leftOut = 0;

  constructor(private readonly options: WebhookOptions) {}

  notify(processed: ProcessedCrash): void {
    const facts = this.#facts(processed);
    void this.#send({
      event: 'new_signature',
      text: `New crash signature${chatText(facts.where)}: ${chatText(processed.signature)} — ${facts.signature_url}`,
      ...facts.fields,
    });
  }

  /** A resolved signature regressed: `Regression: <signature> in <product> <version> — <link>`. */
  regression(processed: ProcessedCrash, resolvedAt: string | null): void {
    const facts = this.#facts(processed);
    void this.#send({
      event: 'regression',
      text: `Regression: ${chatText(processed.signature)}${chatText(facts.where)} — ${facts.signature_url}`,
      ...facts.fields,
      resolved_at: resolvedAt,
    });
  }

  /** What both events say about the crash, and ` in <product> <version>` for their text. */
  #facts(processed: ProcessedCrash): { where: string; signature_url: string; fields: Omit<NewSignatureEvent, 'event' | 'text'> } {
    const base = this.options.receiverUrl().replace(/\/$/, '');
    const signatureUrl = `${base}/signatures/${processed.signature_id}`;
    return {
      where: processed.product ? ` in ${processed.product}${processed.version ? ` ${processed.version}` : ''}` : '',
      signature_url: signatureUrl,
      fields: {
        signature: processed.signature,
        signature_id: processed.signature_id,
        app: processed.app_guid,
        product: processed.product,
        version: processed.version,
        error_type: processed.error_type,
        crash_id: `bp-${processed.crash_id}`,
        signature_url: signatureUrl,
        report_url: `${base}/report/bp-${processed.crash_id}`,
        submitted_at: processed.submitted_at,
      },
    };
  }

  /** Whether an event may go now (WEBHOOK_EVENTS_PER_MINUTE); one that may not is counted. */
  #allowed(): boolean {
    const now = (this.options.now ?? Date.now)();
    this.#sentAt = this.#sentAt.filter((at) => now - at < 60_000);
    if (this.#sentAt.length >= WEBHOOK_EVENTS_PER_MINUTE) {
      if (this.#leftOut++ === 0) this.options.log(`webhook: more than ${WEBHOOK_EVENTS_PER_MINUTE} events in a minute; the next ones are counted, not sent, until the minute is over`);
      return false;
    }
    this.#sentAt.push(now);
    return true;
  }

  async #send(event: NewSignatureEvent | RegressionEvent): Promise<void> {
    if (!this.#allowed()) return;
    if (this.#leftOut) {
      event.text += ` (and ${this.#leftOut} more ${this.#leftOut === 1 ? 'event' : 'events'} not sent: over ${WEBHOOK_EVENTS_PER_MINUTE} a minute)`;
      event.left_out = this.#leftOut;
      this.#leftOut = 0;
    }
    const waits = this.options.retryMs ?? WEBHOOK_RETRY_MS;
    let problem = '';
    for (let attempt = 0; attempt <= waits.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, waits[attempt - 1]).unref());
      try {
        const response = await (this.options.fetch ?? fetch)(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          redirect: 'manual',
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return;
        problem = `answered ${response.status}`;
        if (response.status < 500 && response.status !== 429) break; // the hook refuses it: retrying will not help
      } catch (err) {
        problem = String((err as Error).cause ?? (err as Error).message);
      }
    }
    this.options.log(`webhook: could not tell ${urlForLog(this.options.url)} about ${event.event === 'regression' ? 'the regression of' : 'new'} signature ${event.signature_id}: ${problem}`);
  }
}
