import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableFolder, type FsOps, nodeFsOps } from '../storage/durable.ts';
import { isNotFound } from '../storage/fs-storage.ts';
import type { AlertEvent } from './webhook.ts';

/** An alert the webhook has not delivered yet, as it waits on disk. */
export interface WaitingAlert {
  /** `<ms since the epoch, 13 digits>-<8 hex digits>`: the file's name, and the order alerts go out in. */
  id: string;
  /** When it was made (ISO): alerts too old to be news are dropped, not sent (WEBHOOK_MAX_AGE_MS). */
  queued_at: string;
  event: AlertEvent;
}

const ALERT_FILE = /^(\d{13}-[0-9a-f]{8})\.json$/;

let lastMs = -1;
let sameMs = 0;

/**
 * A fresh alert ID for an alert made at `now`: IDs sort in the order alerts were made, those of
 * one millisecond too (a count, then random digits).
 */
export function newAlertId(now: number): string {
  const ms = Math.max(0, Math.floor(now));
  sameMs = ms === lastMs ? sameMs + 1 : 0;
  lastMs = ms;
  return `${String(ms).padStart(13, '0')}-${(sameMs & 0xffff).toString(16).padStart(4, '0')}${randomBytes(2).toString('hex')}`;
}

/**
 * The webhook's outbox: one small JSON file per alert, written durably (temp file, fsync,
 * rename, directory fsync) before the first call to the webhook, and removed once the webhook
 * took it, refused it, or it grew too old. The file is never rewritten: retries are counted in
 * memory, and a restart simply tries again at once.
 *
 *     <data-dir>/webhook-outbox/
 *       <alert id>.json              a WaitingAlert
 *       <alert id>.json.unreadable   a file that could not be read at start, set aside for a person
 */
export class AlertOutbox extends DurableFolder {
  constructor(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps) {
    super(dataDir, 'webhook-outbox', tmpDir, fs);
  }

  #name(id: string): string {
    if (!ALERT_FILE.test(`${id}.json`)) throw new TypeError(`Not an alert ID: ${id}`);
    return `${id}.json`;
  }

  async put(alert: WaitingAlert): Promise<void> {
    await this.write(this.#name(alert.id), JSON.stringify(alert));
  }

  async remove(id: string): Promise<void> {
    await this.delete(this.#name(id));
  }

  /**
   * How many alerts wait (one directory read: for the stats); none when the folder was never
   * made. Throws an Error naming the folder and what to do when it cannot be read.
   */
  async count(): Promise<number> {
    try {
      return (await readdir(this.dir)).filter((name) => ALERT_FILE.test(name)).length;
    } catch (err) {
      if (isNotFound(err)) return 0;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(
        `could not read the webhook outbox ${this.dir} (${code}): make it a folder the receiver's user can read and write; the alerts in it are counted once it can be read`,
        { cause: err },
      );
    }
  }

  /**
   * Every waiting alert, oldest first. A file that cannot be read is renamed `<name>.unreadable`
   * (so it is reported once, not at every start) and reported through `onBad`; a missing folder
   * holds no alerts.
   */
  async list(onBad: (name: string, err: Error) => void): Promise<WaitingAlert[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const alerts: WaitingAlert[] = [];
    for (const name of names.sort()) {
      const id = ALERT_FILE.exec(name)?.[1];
      if (!id) continue;
      try {
        alerts.push(checkAlert(JSON.parse(await readFile(join(this.dir, name), 'utf8')), id));
      } catch (err) {
        if (isNotFound(err)) continue;
        await rename(join(this.dir, name), join(this.dir, `${name}.unreadable`)).catch(() => undefined);
        onBad(name, err as Error);
      }
    }
    return alerts;
  }

  /**
   * The alerts left by a previous run, less those made more than `maxAgeMs` before `now`: those
   * are deleted with one log line, since sent now they would read as news. Files that cannot be
   * read are logged and set aside.
   */
  async load(now: number, maxAgeMs: number, log: (line: string) => void): Promise<WaitingAlert[]> {
    const alerts = await this.list((name, err) => log(`webhook: set aside unreadable alert ${join(this.dir, name)}.unreadable: ${err.message}`));
    const fresh: WaitingAlert[] = [];
    const old: WaitingAlert[] = [];
    for (const alert of alerts) (now - Date.parse(alert.queued_at) > maxAgeMs ? old : fresh).push(alert);
    for (const alert of old) await this.remove(alert.id);
    if (old.length) log(`webhook: dropped ${describeAlerts(old)} queued more than ${formatAge(maxAgeMs)} ago; sent now, they would read as new`);
    return fresh;
  }
}

/** Every kind of event the webhook sends (AlertEvent's `event`), each of which may wait in the outbox. */
const ALERT_KINDS: readonly string[] = ['new_signature', 'regression', 'spike'] satisfies AlertEvent['event'][];

/** `alert` as read from the file `<id>.json`, or an error saying what is wrong with it. */
function checkAlert(alert: unknown, id: string): WaitingAlert {
  const a = alert as Partial<WaitingAlert> | null;
  const problems: string[] = [];
  if (a?.id !== id) problems.push('its id does not match the file name');
  if (typeof a?.queued_at !== 'string' || Number.isNaN(Date.parse(a.queued_at))) problems.push('queued_at is not a date');
  const event = a?.event;
  if (!ALERT_KINDS.includes(event?.event as string)) problems.push(`event.event is none of ${ALERT_KINDS.join(', ')}`);
  if (typeof event?.text !== 'string' || typeof event?.signature_id !== 'string') problems.push('event.text or event.signature_id is missing');
  if (problems.length) throw new Error(`not an alert: ${problems.join('; ')}`);
  return a as WaitingAlert;
}

/** `3 alerts (new signature abc, regression of def, …)`, naming at most five. */
export function describeAlerts(alerts: WaitingAlert[]): string {
  const named = alerts.slice(0, 5).map((a) => alertName(a.event));
  if (alerts.length > named.length) named.push('…');
  return `${alerts.length} ${alerts.length === 1 ? 'alert' : 'alerts'} (${named.join(', ')})`;
}

/** `new signature <id>`, `regression of <id>` or `spike of <id>`, as logs name an event. */
export function alertName(event: WaitingAlert['event']): string {
  const what = { new_signature: 'new signature', regression: 'regression of', spike: 'spike of' }[event.event];
  return `${what} ${event.signature_id}`;
}

/** A duration as a person reads it: `300 ms`, `40 s`, `65 min`, `24 h`. */
export function formatAge(ms: number): string {
  if (ms < 2_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
