import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound } from '../storage/fs-storage.ts';
import { DirSyncer, type FsOps, nodeFsOps, writeFileDurably } from '../storage/durable.ts';
import type { OutboxEntry } from './outbox.ts';
import type { Withheld } from './policy.ts';

/** The file beside `raw_crash.json` that records how forwarding went. */
export const STATUS_FILE = 'forwarding.json';

/** How long a write waits for storage to lay out a just-accepted crash's folder. */
const FOLDER_WAIT_MS = 60_000;
const FOLDER_POLL_MS = 10;

/**
 * - `queued`: in the outbox, not yet sent (or sent and retrying: see `attempts`, `last_error`)
 * - `forwarded`: the private receiver accepted it; `remote_crash_id` is its crash ID
 * - `failed`: the private receiver rejected it, or retries ran out (`reason_code` `gave_up`)
 * - `refused`: never sent: loop guard (`hop_limit`) or a URL-mode target that is not allowed
 */
export type ForwardingState = 'queued' | 'forwarded' | 'failed' | 'refused';

/** How forwarding went for one crash: `forwarding.json`, and the API's `forwarding` field. */
export interface ForwardingStatus {
  crash_id: string;
  state: ForwardingState;
  mode: 'registry' | 'url';
  app_guid: string | null;
  /** Where it was (or is to be) sent. */
  target: string | null;
  /** `ForwardHops` on arrival; what was sent carries one more. */
  hops_in: number;
  /** What the master left out of the forwarded copy; null until a copy was built. */
  withheld: Withheld | null;
  /** Per app: whether the master keeps its own copy after a successful forward. */
  keep_copy: boolean;
  attempts: number;
  queued_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
  forwarded_at: string | null;
  /** The private receiver's crash ID, `bp-…`. */
  remote_crash_id: string | null;
  /** Why it failed or was refused: `gave_up`, `rejected`, `discarded`, `redirect`, `not_a_receiver`, `app_removed`, `hop_limit`, `not_https`, `private_address`, … */
  reason_code: string | null;
  reason: string | null;
  updated_at: string;
}

/** The status of a crash that is only in the outbox so far. */
export function statusFromOutbox(entry: OutboxEntry, keepCopy: boolean, target: string | null): ForwardingStatus {
  return {
    crash_id: entry.crash_id,
    state: 'queued',
    mode: entry.mode,
    app_guid: entry.app_guid,
    target,
    hops_in: entry.hops_in,
    withheld: null,
    keep_copy: keepCopy,
    attempts: entry.attempts,
    queued_at: entry.queued_at,
    last_attempt_at: entry.last_attempt_at,
    next_attempt_at: entry.next_attempt_at,
    last_error: entry.last_error,
    forwarded_at: null,
    remote_crash_id: null,
    reason_code: null,
    reason: null,
    updated_at: entry.last_attempt_at ?? entry.queued_at,
  };
}

/**
 * `forwarding.json` in each crash's folder, written durably; its own file so it never races
 * the processor's `processed_crash.json`:
 *
 *     <data-dir>/crashes/<day>/<crash id>/forwarding.json    a ForwardingStatus
 */
export class ForwardingStatusStore {
  readonly #dirs: DirSyncer;

  constructor(
    private readonly crashDir: (crashId: string) => string,
    private readonly tmpDir: string,
    private readonly fs: FsOps = nodeFsOps,
  ) {
    this.#dirs = new DirSyncer(fs);
  }

  /**
   * Resolves once the crash's folder exists. Storage may lay a crash out in the background after
   * accepting it (the journal), and forwarding can be faster than that.
   */
  async waitForFolder(crashId: string, signal?: AbortSignal): Promise<void> {
    const dir = this.crashDir(crashId);
    const deadline = Date.now() + FOLDER_WAIT_MS;
    for (;;) {
      try {
        await stat(join(dir, 'raw_crash.json'));
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (Date.now() > deadline) throw new Error(`The folder of crash ${crashId} did not appear within ${FOLDER_WAIT_MS} ms`);
        signal?.throwIfAborted();
        await new Promise((r) => setTimeout(r, FOLDER_POLL_MS));
      }
    }
  }

  async write(status: ForwardingStatus, signal?: AbortSignal): Promise<void> {
    await this.waitForFolder(status.crash_id, signal);
    await writeFileDurably(join(this.crashDir(status.crash_id), STATUS_FILE), JSON.stringify(status), this.tmpDir, this.fs, this.#dirs);
  }

  async read(crashId: string): Promise<ForwardingStatus | null> {
    try {
      return JSON.parse(await readFile(join(this.crashDir(crashId), STATUS_FILE), 'utf8')) as ForwardingStatus;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw new Error(`Could not read the forwarding status of ${crashId}: ${(err as Error).message}`, { cause: err });
    }
  }
}
