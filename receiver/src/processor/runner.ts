import type { CrashStorage, ProcessedCrash, RawCrash, WorkQueue } from '../storage/types.ts';
import type { Symbolicator } from '../symbols/symbolicate.ts';
import { errorName } from './pipeline.ts';
import { emptyProcessedCrash, processCrash } from './process-crash.ts';
import type { Tuning } from './tuning.ts';
import { CrashNotFound } from '../storage/fs-storage.ts';
import { isDiskFull } from '../storage/durable.ts';
import { yieldWhileBusy } from '../collector/activity.ts';

/** Times a crash whose processing threw is tried before it is saved with `processing_error`. */
export const MAX_PROCESSING_ATTEMPTS = 3;
/** Queue entries read per round. */
const BATCH = 50;
/**
 * Crashes processed at the same time. Processing one is mostly waiting for the disk (read the
 * raw crash, write and fsync the processed one, take it off the queue), so a few at once keep
 * the event loop and the disk busy instead of taking turns.
 */
export const PROCESSING_CONCURRENCY = 4;
/** Without a wake-up, the queue is looked at this often anyway (entries written by another process). */
export const IDLE_POLL_MS = 5_000;
/** Wait before retrying a crash that threw. */
const RETRY_DELAY_MS = 200;
/** Wait between tries while the disk is full: each try processes the crash again. */
const DISK_FULL_RETRY_MS = 5_000;
/**
 * After a wake-up finds the queue empty, look again this often for this long: the collector may
 * tell us of a crash a moment before its queue entry is written (journaled storage).
 */
const WAKE_RECHECK_MS = 20;
const WAKE_WINDOW_MS = 1_000;

export interface ProcessorOptions {
  storage: CrashStorage;
  queue: WorkQueue;
  symbolicator: Symbolicator | null;
  tuning: Tuning;
  /**
   * Told of each processed crash once it is saved (the index adds it). Errors are logged, not
   * retried, except a full disk: then the crash stays queued and is processed again later.
   */
  onProcessed?: (processed: ProcessedCrash, raw: RawCrash) => void | Promise<void>;
  log?: (line: string) => void;
  now?: () => Date;
  idlePollMs?: number;
  /** Wait between tries while the disk is full (tests shorten it). */
  diskFullRetryMs?: number;
  /** True while the collector is taking a burst of submissions: processing steps aside. */
  yieldTo?: () => boolean;
}

export interface ProcessorStats {
  /** Crashes processed since start (a failure recorded in the crash counts too). */
  processed: number;
  failed: number;
  retried: number;
  /** Queue entries in the round being worked on (at most one round of 50). */
  pending: number;
}

/**
 * Drains the durable work queue in the background, PROCESSING_CONCURRENCY crashes at a time:
 * never on the request path of `POST /submit`. Woken by the collector for each accepted crash, it also reads the
 * queue on start (crashes accepted before a restart) and every `idlePollMs`.
 */
export class BackgroundProcessor {
  readonly stats: ProcessorStats = { processed: 0, failed: 0, retried: 0, pending: 0 };
  readonly #attempts = new Map<string, number>();
  /** Results cannot be written (a full disk), from the first failure to the next success. */
  #diskFull = false;
  readonly #log: (line: string) => void;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  #wokenAt = 0;
  #idleWaiters: (() => void)[] = [];
  #lastProgress = performance.now();

  constructor(private readonly options: ProcessorOptions) {
    this.#log = options.log ?? (() => undefined);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Something was queued: look now rather than at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wokenAt = Date.now();
    this.#wake?.();
  }

  /** Finishes the crash in hand and stops. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    this.#loop = null;
  }

  /** Resolves when the queue is empty (for tests and the reprocess command). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.wake();
    });
  }

  /** Processes one crash now and saves it (also used by reprocessing). */
  async processOne(crashId: string): Promise<ProcessedCrash | null> {
    const raw = await this.options.storage.getRaw(crashId);
    if (!raw) return null;
    const processed = await processCrash(raw, { symbolicator: this.options.symbolicator, tuning: this.options.tuning, now: this.options.now });
    try {
      await this.options.storage.saveProcessed(processed);
    } catch (err) {
      // Deleted while it was processed (a forwarding master that keeps no copy): nothing to do.
      if (err instanceof CrashNotFound) return null;
      throw err;
    }
    await this.#tell(processed, raw);
    return processed;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#woken = false;
      let ids: string[] = [];
      try {
        ids = await this.options.queue.pending(BATCH);
      } catch (err) {
        this.#log(`processor: cannot read the queue: ${errorName(err)}: ${(err as Error).message}`);
      }
      this.stats.pending = ids.length;
      if (ids.length === 0) {
        for (const resolve of this.#idleWaiters.splice(0)) resolve();
        const recentlyWoken = Date.now() - this.#wokenAt < WAKE_WINDOW_MS;
        if (!this.#woken) await this.#sleep(recentlyWoken ? WAKE_RECHECK_MS : (this.options.idlePollMs ?? IDLE_POLL_MS));
        continue;
      }
      let progressed = false;
      let next = 0;
      const lane = async (): Promise<void> => {
        while (this.#running && next < ids.length) {
          const id = ids[next++]!;
          await yieldWhileBusy(this.options.yieldTo, this.#lastProgress);
          progressed = (await this.#attempt(id)) || progressed;
          this.#lastProgress = performance.now();
          // Let the event loop serve requests between crashes.
          await new Promise((r) => setImmediate(r));
        }
      };
      await Promise.all(Array.from({ length: PROCESSING_CONCURRENCY }, lane));
      if (!progressed && this.#running) await this.#sleep(this.#diskFull ? (this.options.diskFullRetryMs ?? DISK_FULL_RETRY_MS) : RETRY_DELAY_MS);
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Returns whether the crash left the queue. */
  async #attempt(id: string): Promise<boolean> {
    // Accepted but not in its folder yet (a full disk holds it in the journal): it is processed
    // once it is laid out, and must not hold up the crashes after it.
    if (this.options.storage.awaitingLayout?.(id)) return false;
    try {
      // From here, a reprocess asked for keeps the entry: this processing may have read the old maps.
      this.options.queue.started(id);
      const processed = await this.processOne(id);
      // Gone from storage: deleted on purpose (a master that keeps no copy of a forwarded crash,
      // or the API), which takes it out of the queue too, after this batch was read or while it
      // was processed (see WorkQueue.deleting); else said.
      if (!processed && this.options.queue.has?.(id) !== false) this.#log(`processor: ${id} is queued but not stored; dropping it from the queue`);
      await this.options.queue.finished(id);
      this.#attempts.delete(id);
      if (processed) this.stats.processed++;
      if (this.#diskFull) {
        this.#log('processor: results can be written again; carrying on');
        this.#diskFull = false;
      }
      return true;
    } catch (err) {
      // A full disk is no fault of the crash: it stays queued, without using up its attempts.
      if (isDiskFull(err)) {
        if (!this.#diskFull) this.#log(`processor: cannot write results (${(err as { code: string }).code}); crashes wait in the queue until there is space`);
        this.#diskFull = true;
        return false;
      }
      const attempts = (this.#attempts.get(id) ?? 0) + 1;
      this.#attempts.set(id, attempts);
      this.#log(`processor: ${id} failed (attempt ${attempts} of ${MAX_PROCESSING_ATTEMPTS}): ${(err as Error).stack ?? String(err)}`);
      if (attempts < MAX_PROCESSING_ATTEMPTS) {
        this.stats.retried++;
        return false;
      }
      await this.#giveUp(id, err);
      return true;
    }
  }

  /**
   * Records why in the crash, so it is visible and not retried forever, and drops it from the
   * queue; a crash whose failure cannot be recorded stays queued for later.
   */
  async #giveUp(id: string, err: unknown): Promise<void> {
    this.stats.failed++;
    this.#attempts.delete(id);
    try {
      const raw = await this.options.storage.getRaw(id);
      if (raw) {
        const processed = emptyProcessedCrash(raw, (this.options.now ?? (() => new Date()))());
        processed.processing_error = errorName(err);
        processed.notes.push(`processing failed ${MAX_PROCESSING_ATTEMPTS} times: ${errorName(err)}`);
        await this.options.storage.saveProcessed(processed);
        await this.#tell(processed, raw);
      }
    } catch (saveErr) {
      this.#log(`processor: could not record the failure of ${id}: ${errorName(saveErr)}; it stays queued`);
      return;
    }
    await this.options.queue.finished(id).catch(() => undefined);
  }

  async #tell(processed: ProcessedCrash, raw: RawCrash): Promise<void> {
    if (!this.options.onProcessed) return;
    try {
      await this.options.onProcessed(processed, raw);
    } catch (err) {
      // The index could not take it for want of space: the crash is processed again later.
      if (isDiskFull(err)) throw err;
      this.#log(`processor: onProcessed failed for ${processed.crash_id}: ${(err as Error).stack ?? String(err)}`);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}
