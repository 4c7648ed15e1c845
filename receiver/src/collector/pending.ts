import { SubmissionRejected } from './errors.ts';

/** Seconds a client refused for lack of memory is asked to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 10;
/** No one client may hold more than 1/CLIENT_SHARE of the budget. */
export const CLIENT_SHARE = 4;

/**
 * The bytes of submission bodies held in memory across all submissions in progress (as received,
 * or inflated for gzip), against one budget: without it, a client sending gzip bombs that it
 * never finishes pins up to the inflated limit per connection, and a few hundred connections
 * exhaust the machine's memory. One client may hold at most a quarter of the budget, so one
 * address cannot refuse everyone else.
 */
export class PendingBytes {
  #total = 0;
  readonly #byClient = new Map<string, number>();

  constructor(readonly budget: number) {}

  /** A holding for one submission from `client`; release it when the submission is answered. */
  hold(client: string): PendingHolding {
    return new PendingHolding(this, client);
  }

  /** @internal */
  take(client: string, n: number): void {
    const mine = this.#byClient.get(client) ?? 0;
    if (this.#total + n > this.budget || (mine + n) * CLIENT_SHARE > this.budget) {
      throw new SubmissionRejected(503, 'busy', 'the receiver holds too many submissions in memory right now; keep the crash and retry later', {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    this.#total += n;
    this.#byClient.set(client, mine + n);
  }

  /** @internal */
  give(client: string, n: number): void {
    this.#total -= n;
    const left = (this.#byClient.get(client) ?? 0) - n;
    if (left > 0) this.#byClient.set(client, left);
    else this.#byClient.delete(client);
  }
}

/** The bytes one submission holds; `take` throws the 503 refusal when the budget is spent. */
export class PendingHolding {
  #held = 0;

  constructor(
    private readonly pending: PendingBytes,
    private readonly client: string,
  ) {}

  take(n: number): void {
    this.pending.take(this.client, n);
    this.#held += n;
  }

  release(): void {
    this.pending.give(this.client, this.#held);
    this.#held = 0;
  }
}
