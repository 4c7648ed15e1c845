import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { isNotFound } from '../storage/fs-storage.ts';
import { DurableFolder, type FsOps, nodeFsOps } from '../storage/durable.ts';

/** A crash waiting to be forwarded, and how its retries have gone so far. */
export interface OutboxEntry {
  crash_id: string;
  /** `registry`: the app's registered URL, looked up again at each attempt; `url`: the crash's SubmitURL. */
  mode: 'registry' | 'url';
  /** `WebAppGUID` of the crash (registry mode: the registry key). */
  app_guid: string | null;
  /** URL mode only: where to send it. */
  url: string | null;
  /** `ForwardHops` the crash arrived with. */
  hops_in: number;
  queued_at: string;
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_error: string | null;
  /** Set when the crash is not to be sent (loop guard, URL-mode target refused): only its status is recorded. */
  refusal?: { code: string; reason: string };
}

/**
 * A crash whose forwarding failed (the receiver rejected it, or retries ran out), or that was
 * refused only because URL mode was turned off after it was queued: kept until it is retried or deleted.
 */
export interface FailedForward extends OutboxEntry {
  failed_at: string;
  /** Where it was sent. */
  target: string | null;
  /** As in its status: `gave_up`, `rejected`, `app_removed`, `url_mode_off`, … */
  reason_code: string;
  reason: string;
}

/**
 * The forwarding outbox: one small JSON file per crash still to be forwarded, written durably
 * (temp file, fsync, rename, directory fsync) before the collector answers, and again after
 * each failed attempt, so retries survive a restart:
 *
 *     <data-dir>/outbox/
 *       <crash id>.json     an OutboxEntry; removed once the crash is forwarded or given up on
 *
 * The same kind of folder, `forward-failed/`, lists the crashes whose forwarding failed, so an
 * operator can find them (and send them again) after an outage longer than the give-up time.
 */
export class FsOutbox<T extends OutboxEntry = OutboxEntry> extends DurableFolder {
  constructor(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps, folder = 'outbox') {
    super(dataDir, folder, tmpDir, fs);
  }

  #name(crashId: string): string {
    const bare = normalizeCrashId(crashId);
    if (!bare) throw new TypeError('Not a crash ID');
    return `${bare}.json`;
  }

  async put(entry: T): Promise<void> {
    await this.write(this.#name(entry.crash_id), JSON.stringify(entry));
  }

  async get(crashId: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(join(this.dir, this.#name(crashId)), 'utf8')) as T;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async remove(crashId: string): Promise<void> {
    await this.delete(this.#name(crashId));
  }

  /** Every entry; unreadable ones are reported through `onBad` and skipped. */
  async list(onBad: (name: string, err: Error) => void = () => undefined): Promise<T[]> {
    const entries: T[] = [];
    for (const name of await readdir(this.dir)) {
      const id = name.endsWith('.json') ? normalizeCrashId(name.slice(0, -5)) : null;
      if (!id) continue;
      try {
        const entry = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as T;
        if (entry.crash_id !== id) throw new Error('crash_id does not match the file name');
        entries.push(entry);
      } catch (err) {
        if (!isNotFound(err)) onBad(name, err as Error);
      }
    }
    return entries;
  }
}
