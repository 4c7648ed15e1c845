import { existsSync } from 'node:fs';
import { copyFile, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crashIdDate, normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { BUSY_WINDOW_MS, MAX_YIELD_MS } from '../collector/activity.ts';
import { writeFileDurably } from './durable.ts';
import { Fifo } from './fifo.ts';
import { formatBytes } from '../text.ts';
import { dayKey, type FsCrashStorage } from './fs-storage.ts';
import { decodeSubmission, rawCrashFrom, type SubmissionLimits } from '../collector/parse.ts';
import type { CrashStorage, ProcessedCrash, RawCrash, WireSubmission, WorkQueue } from './types.ts';
import {
  encodeRecord,
  errorCode,
  FrameFormat,
  JournalAppender,
  type JournalFs,
  keyOfHeader,
  LEGACY_FRAMES,
  LEGACY_MARKER,
  nodeJournalFs,
  type RecordPlace,
  SEGMENT_HEADER_BYTES,
  SEGMENT_KEY_BYTES,
  segmentPath,
} from './journal-appender.ts';

// Tests and the server hand in their own filesystem calls through these.
export { type JournalFs, nodeJournalFs } from './journal-appender.ts';

/** Crashes laid out as folders at the same time; low, so requests keep the CPU. */
export const MATERIALIZE_CONCURRENCY = 4;
/**
 * Bytes of journal records not laid out yet. They wait on disk (memory holds a few numbers per
 * crash), so this bounds how far layout may lag behind the collector: past it, new submissions
 * are refused (503, the client keeps them and retries) rather than held open, each with its body
 * in memory, for as long as layout is stuck (a folder it may not write).
 */
export const MAX_BACKLOG_BYTES = 1024 * 1024 * 1024;

/** What saveRaw's refusal and the heartbeat say while the backlog is over its cap. */
function backlogFullMessage(bytes: number): string {
  return `${formatBytes(bytes)} of accepted crashes wait to be laid out; new ones are refused until layout catches up`;
}

/** Refused by saveRaw while the crashes waiting to be laid out are over the backlog cap. */
export class BacklogFull extends Error {
  readonly code = 'BACKLOG_FULL';
  constructor(bytes: number) {
    super(backlogFullMessage(bytes));
    this.name = 'BacklogFull';
  }
}

/** Wait before retrying a crash whose folder could not be written (a full disk). */
export const MATERIALIZE_RETRY_MS = 5_000;
/** How long saving a processed crash waits for the crash's folder before it gives up. */
export const LAYOUT_WAIT_MS = 10_000;

/** Where a crash waiting to be laid out is: its record in a journal segment. */
interface Pending extends RecordPlace {
  deleted?: boolean;
}

export interface JournaledStorageOptions {
  dataDir: string;
  /** Where crashes end up, one folder each. */
  folders: FsCrashStorage;
  queue: WorkQueue;
  fs?: JournalFs;
  /** Told about each crash once its folder and queue entry are on disk. */
  onStored?: (crashId: string) => void;
  log?: (line: string) => void;
  segmentBytes?: number;
  /** True while the collector is taking a burst: laying out steps aside (the journal has it). */
  yieldTo?: () => boolean;
  /** The backlog cap (MAX_BACKLOG_BYTES unless a test sets a small one). */
  maxBacklogBytes?: number;
}

/**
 * Accepted crashes with group commit. `saveRaw` appends the crash to a journal and resolves
 * after an fdatasync that covers every crash appended since the last one, so under load one
 * disk flush answers many submissions. Behind that, each crash is laid out as its own folder
 * (FsCrashStorage: temp, fsync, rename, directory fsync) and queued for processing; a journal
 * segment is deleted once every crash in it is laid out. Until then a crash is only in the
 * journal: memory holds where its record is, not the crash, so a burst costs disk, not heap.
 * On start, segments left by a stopped or killed process are replayed, so a crash that was
 * answered is never lost.
 *
 *     <data-dir>/journal/
 *       000001.log    header: "SCJ2", the segment's random 8-byte key, u32 crc32 of both
 *                     records: the key, u32 payload length, u32 crc32, payload
 *                     payload: u32 header length, header JSON, then bytes:
 *                       v2  {v: 2, crash_id, submitted_at, metadata, boundary} + the multipart body
 *                       v1  {raw, files: [{name, size}]} + each file's bytes (callers without a body)
 *                     (segments from before keys have no header, and "SCJ1" in place of the key;
 *                     they are still read. Why the key: at FrameFormat in journal-appender.ts.)
 *       deleted/<id>  a crash deleted while its record is still in a segment: not replayed
 *
 * Reads see crashes still waiting to be laid out (read back from their record), so a crash can
 * be fetched as soon as it was answered.
 */
export class JournaledCrashStorage implements CrashStorage {
  readonly dir: string;
  readonly #folders: FsCrashStorage;
  readonly #queue: WorkQueue;
  readonly #fs: JournalFs;
  readonly #segmentBytes: number | undefined;
  #appender: JournalAppender | null = null;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<string, Pending>();
  readonly #outstanding = new Map<number, number>();
  /**
   * Crashes laid out from each segment still on disk: deleting one of them leaves a marker, or
   * the next start would find its record and lay it out again.
   */
  readonly #laidOut = new Map<number, Set<string>>();
  /** Deletion markers by the segment holding their crash's record; removed with the segment. */
  readonly #markers = new Map<number, string[]>();
  /** Read handles of segments with crashes still to lay out. */
  readonly #readers = new Map<number, Promise<FileHandle>>();
  /** How the records of each segment still on disk are framed (its key). */
  readonly #frames = new Map<number, FrameFormat>();
  readonly #toMaterialize = new Fifo<string>();
  /** Crashes held back until the retry timer after a layout failed. */
  #heldBack: string[] = [];
  #materializing = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #onStored: ((crashId: string) => void)[] = [];
  #backlogBytes = 0;
  readonly #yieldTo: (() => boolean) | undefined;
  #lastLayout = performance.now();
  readonly #maxBacklogBytes: number;
  #pumpTimer: NodeJS.Timeout | null = null;
  /** Layouts running now; a stop lets them finish. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Why the last layout failed, until one succeeds again. */
  #layoutProblem: string | null = null;

  constructor(options: JournaledStorageOptions) {
    this.dir = join(options.dataDir, 'journal');
    this.#folders = options.folders;
    this.#queue = options.queue;
    this.#fs = options.fs ?? nodeJournalFs;
    this.#log = options.log ?? (() => undefined);
    this.#segmentBytes = options.segmentBytes;
    if (options.onStored) this.#onStored.push(options.onStored);
    this.#yieldTo = options.yieldTo;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
  }

  /** Adds a listener told about each crash once its folder and queue entry are on disk. */
  onStored(listener: (crashId: string) => void): void {
    this.#onStored.push(listener);
  }

  /** Replays what a previous run left in the journal, then opens a new segment. */
  async open(): Promise<{ replayed: number }> {
    await this.#fs.mkdir(this.dir);
    const segments = (await readdir(this.dir)).filter((n) => /^\d{6,}\.log$/.test(n)).sort();
    await this.#fs.mkdir(this.#deletedDir);
    const deleted = new Set(await readdir(this.#deletedDir));
    /** Deletion markers still needed: their crash's record is in a segment that stays. */
    const stillNeeded = new Set<string>();
    let replayed = 0;
    let last = 0;
    for (const name of segments) {
      const segment = Number(name.slice(0, -4));
      last = Math.max(last, segment);
      const { records, unreadable, damagedBytes, frames } = await readSegment(join(this.dir, name), this.#log);
      const laidOut = new Set<string>();
      const marked: string[] = [];
      for (const { raw, offset, length } of records) {
        const state = recordState(raw.crash_id, deleted, this.#folders);
        if (state === 'deleted') marked.push(raw.crash_id);
        else if (state === 'laid out') laidOut.add(raw.crash_id);
        else {
          this.#track(raw.crash_id, { segment, offset, length });
          replayed++;
        }
      }
      if (this.#outstanding.get(segment)) {
        this.#frames.set(segment, frames!);
        this.#laidOut.set(segment, laidOut);
        this.#markers.set(segment, marked);
        for (const id of marked) stillNeeded.add(id);
      }
      if (unreadable || damagedBytes) {
        // Never lose what could not be read: a copy is set aside for a person (or a later version).
        await copyFile(join(this.dir, name), join(this.dir, `${name}.unreadable`));
        const what = [unreadable && `${unreadable} records in it could not be read back`, damagedBytes && `${damagedBytes} bytes in it are damaged`];
        this.#log(`storage: copied ${name} to ${name}.unreadable: ${what.filter(Boolean).join('; ')}`);
      }
      if (!this.#outstanding.get(segment)) await rm(join(this.dir, name), { force: true });
    }
    for (const id of deleted) if (!stillNeeded.has(id)) await rm(join(this.#deletedDir, id), { force: true });
    // A new segment each start: what earlier runs wrote is only read from now on.
    this.#appender = await new JournalAppender({
      dir: this.dir,
      fs: this.#fs,
      segmentBytes: this.#segmentBytes,
      onRotate: (segment, frames) => {
        this.#frames.set(segment, frames);
        // A segment rotated out before any record went to it is finished as it is.
        if (!this.#outstanding.has(segment - 1)) this.#outstanding.set(segment - 1, 0);
        this.#releaseFinishedSegments();
      },
    }).open(last + 1);
    this.#pump();
    return { replayed };
  }

  async saveRaw(raw: RawCrash, files: ReadonlyMap<string, Uint8Array>, wire?: WireSubmission): Promise<void> {
    if (this.#closed || !this.#appender) throw new Error('The crash journal is closed');
    if (this.#backlogBytes > this.#maxBacklogBytes) throw new BacklogFull(this.#backlogBytes);
    const place = await this.#appender.append(encodeRecord(raw, files, wire));
    this.#track(raw.crash_id, place);
    this.#pump();
  }

  #track(crashId: string, entry: Pending): void {
    this.#backlogBytes += entry.length;
    this.#pending.set(crashId, entry);
    this.#outstanding.set(entry.segment, (this.#outstanding.get(entry.segment) ?? 0) + 1);
    this.#toMaterialize.push(crashId);
  }

  #pump(): void {
    // During a burst, leave the event loop to the collector: the crashes are safe in the journal.
    // The size of the backlog bounds the wait, and so does time (MAX_YIELD_MS).
    if (this.#yieldTo?.() && this.#backlogBytes < this.#maxBacklogBytes / 2 && performance.now() - this.#lastLayout < MAX_YIELD_MS) {
      this.#pumpTimer ??= setTimeout(() => {
        this.#pumpTimer = null;
        this.#pump();
      }, BUSY_WINDOW_MS);
      return;
    }
    while (!this.#closed && this.#materializing < MATERIALIZE_CONCURRENCY && this.#toMaterialize.length) {
      const crashId = this.#toMaterialize.shift()!;
      this.#materializing++;
      const work: Promise<void> = this.#materialize(crashId).finally(() => {
        this.#materializing--;
        this.#inFlight.delete(work);
        this.#pump();
        if (this.#materializing === 0 && this.#toMaterialize.length === 0) for (const f of this.#idle.splice(0)) f();
      });
      this.#inFlight.add(work);
    }
  }

  async #materialize(crashId: string): Promise<void> {
    const entry = this.#pending.get(crashId);
    if (!entry) return;
    try {
      if (!entry.deleted) {
        const { raw, files } = await this.#readRecord(entry);
        // Queue first: an entry whose folder is missing is dropped by the processor, while a
        // folder without an entry would never be processed.
        await this.#queue.enqueue(crashId);
        await this.#folders.saveRaw(raw, files);
        // Deleted while its folder was being written: delete() found no folder to remove then.
        if (entry.deleted) {
          await this.#folders.delete(crashId);
          await this.#queue.done(crashId);
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
        // Laid out already (replay after a stop between rename and journal cleanup).
      } else {
        this.#log(`storage: could not lay out crash ${crashId} (${errorCode(err)}); it stays in the journal and is retried`);
        this.#layoutProblem = `cannot lay out accepted crashes: ${errorCode(err)}`;
        this.#retryLater(crashId);
        return;
      }
    }
    this.#pending.delete(crashId);
    if (!entry.deleted) this.#laidOutOf(entry.segment).add(crashId);
    this.#layoutProblem = null;
    this.#lastLayout = performance.now();
    this.#backlogBytes -= entry.length;
    const left = (this.#outstanding.get(entry.segment) ?? 1) - 1;
    this.#outstanding.set(entry.segment, left);
    this.#releaseFinishedSegments();
    if (!entry.deleted) for (const listener of this.#onStored) listener(crashId);
  }

  #retryLater(crashId: string): void {
    if (this.#closed) return; // it stays in the journal for the next start
    // A crash that fails while the backlog is held back waits with it (not in a busy loop).
    if (this.#retryTimer) return void this.#heldBack.push(crashId);
    // Hold the whole backlog back: whatever failed (the disk) is shared by all of it.
    this.#toMaterialize.push(crashId);
    this.#heldBack = this.#toMaterialize.takeAll();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#toMaterialize.putBack(this.#heldBack);
      this.#heldBack = [];
      this.#pump();
    }, MATERIALIZE_RETRY_MS);
    this.#retryTimer.unref();
  }

  /** Deletes closed segments whose crashes are all laid out. */
  #releaseFinishedSegments(): void {
    for (const [segment, left] of this.#outstanding) {
      const appender = this.#appender;
      // The segment being written, or one with records still on their way to saveRaw, is not finished.
      if (left > 0 || !appender || segment >= appender.segment || appender.holds(segment)) continue;
      this.#outstanding.delete(segment);
      this.#closeReader(segment);
      this.#frames.delete(segment);
      this.#laidOut.delete(segment);
      const markers = this.#markers.get(segment) ?? [];
      this.#markers.delete(segment);
      this.#removeSegment(segment, markers).catch((err: Error) =>
        this.#log(`storage: could not remove finished journal segment ${segment}: ${errorCode(err)}`),
      );
    }
  }

  /** Removes a finished segment, then the deletion markers of its records. */
  async #removeSegment(segment: number, markers: readonly string[]): Promise<void> {
    // The markers go after the segment: a stop in between leaves markers, never a record without one.
    await rm(this.#segmentPath(segment), { force: true });
    await Promise.all(markers.map((id) => rm(join(this.#deletedDir, id), { force: true })));
  }

  #segmentPath(segment: number): string {
    return segmentPath(this.dir, segment);
  }

  /** A crash back from its journal record. */
  async #readRecord(entry: Pending): Promise<{ raw: RawCrash; files: Map<string, Uint8Array> }> {
    let reader = this.#readers.get(entry.segment);
    if (!reader) {
      // After close() nothing would close a handle opened now (a late reader in a stopping server).
      if (this.#closed) throw new Error('The crash journal is closed');
      reader = open(this.#segmentPath(entry.segment), 'r');
      this.#readers.set(entry.segment, reader);
      reader.catch(() => this.#readers.delete(entry.segment));
    }
    const frames = this.#frames.get(entry.segment);
    const frame = Buffer.allocUnsafe(entry.length);
    const { bytesRead } = await (await reader).read(frame, 0, entry.length, entry.offset);
    if (!frames || bytesRead !== entry.length || frames.frameEnd(frame, 0) !== entry.length) {
      throw new Error(`The journal record at byte ${entry.offset} of segment ${entry.segment} does not read back whole`);
    }
    return decodeRecord(frame.subarray(frames.headerBytes));
  }

  #closeReader(segment: number): void {
    const reader = this.#readers.get(segment);
    this.#readers.delete(segment);
    void reader?.then((h) => h.close()).catch(() => undefined);
  }

  /** Resolves once every crash accepted so far is laid out as a folder and queued. */
  drained(): Promise<void> {
    if (this.#materializing === 0 && this.#toMaterialize.length === 0 && !this.#retryTimer) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops accepting, flushes the last batch, and lets the crashes being laid out right now
   * finish. A backlog still waiting stays in the journal and is laid out on the next start, so
   * a stop never waits for it.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#appender?.close();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#toMaterialize.clear();
    this.#heldBack = [];
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    await Promise.allSettled([...this.#inFlight]);
    for (const segment of [...this.#readers.keys()]) this.#closeReader(segment);
  }

  /** Why storage cannot do its work right now (a full disk), or null; for the heartbeat. */
  problem(): string | null {
    const full = this.#backlogBytes > this.#maxBacklogBytes ? `refusing crashes: ${backlogFullMessage(this.#backlogBytes)}` : null;
    // The layout problem (the cause) first, then the refusal it leads to.
    return this.#appender?.problem() ?? ([this.#layoutProblem, full].filter(Boolean).join('; ') || null);
  }

  awaitingLayout(crashId: string): boolean {
    const bare = normalizeCrashId(crashId);
    return bare !== null && this.#pending.has(bare);
  }

  /** Crashes still waiting to be laid out (deleted ones left out), by the day folder each goes to. */
  waitingByDay(): Map<string, string[]> {
    const days = new Map<string, string[]>();
    for (const [id, entry] of this.#pending) {
      if (entry.deleted) continue;
      const day = dayKey(crashIdDate(id));
      const ids = days.get(day);
      if (ids) ids.push(id);
      else days.set(day, [id]);
    }
    return days;
  }

  /** Resolves once the layouts under way now have finished (a crash forgotten meanwhile is not started). */
  async layoutsSettled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  /** How many crashes wait to be laid out. */
  get backlog(): number {
    return this.#pending.size;
  }

  async getRaw(crashId: string): Promise<RawCrash | null> {
    const fromJournal = await this.#readPending(crashId);
    return fromJournal ? fromJournal.raw : this.#folders.getRaw(crashId);
  }

  async getFile(crashId: string, name: string): Promise<Uint8Array | null> {
    const fromJournal = await this.#readPending(crashId);
    return fromJournal ? (fromJournal.files.get(name) ?? null) : this.#folders.getFile(crashId, name);
  }

  /** A crash not laid out yet, from the journal; null once it is (or if it never was here). */
  async #readPending(crashId: string): Promise<{ raw: RawCrash; files: Map<string, Uint8Array> } | null> {
    const bare = normalizeCrashId(crashId);
    const pending = bare ? this.#pending.get(bare) : undefined;
    if (!pending || pending.deleted) return null;
    try {
      return await this.#readRecord(pending);
    } catch (err) {
      // Laid out and its segment released while we read: the folder has it now.
      if (!this.#pending.has(bare!)) return null;
      throw err;
    }
  }

  async saveProcessed(processed: ProcessedCrash): Promise<void> {
    // The processor leaves crashes awaiting layout alone; this waits a little for another caller
    // (reprocessing a crash just accepted), but not forever: the folder may be stuck on a full disk.
    const deadline = performance.now() + LAYOUT_WAIT_MS;
    while (this.#pending.has(processed.crash_id)) {
      if (performance.now() > deadline) {
        throw new Error(`Crash ${processed.crash_id} is not laid out yet (${this.#layoutProblem ?? 'still in the journal'}); try again later`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.#folders.saveProcessed(processed);
  }

  getProcessed(crashId: string): Promise<ProcessedCrash | null> {
    return this.#folders.getProcessed(crashId);
  }

  /**
   * Deletes a crash for good (an erasure request): its folder, and its record's bytes with its
   * journal segment. The segment being written is closed for it, so it goes as soon as every
   * crash in it is laid out, instead of when it fills up.
   */
  async delete(crashId: string): Promise<void> {
    const segment = await this.forget(crashId);
    await this.#folders.delete(crashId);
    if (segment !== undefined && segment === this.#appender?.segment) {
      // The crash is gone already (its folder, and a marker against replay): a new segment that
      // cannot be begun now (a full disk) only keeps the record's bytes until a later rotation,
      // and must not fail the deletion, or its caller would leave the crash in the index.
      await this.#appender.rotate(segment).catch((err: unknown) => {
        this.#log(`storage: could not start a new journal segment after deleting crash ${crashId} (${errorCode(err)}); its record's bytes stay in segment ${segment} until the journal rotates`);
      });
    }
  }

  /**
   * For a crash about to be deleted (here or by someone removing its folder, as retention does):
   * its record may still be in the journal, and a marker keeps the next start from bringing it
   * back. Says which segment holds the record, if one still does.
   */
  async forget(crashId: string): Promise<number | undefined> {
    const bare = normalizeCrashId(crashId);
    if (!bare) return undefined;
    const pending = this.#pending.get(bare);
    if (pending) pending.deleted = true;
    const segment = pending?.segment ?? [...this.#laidOut].find(([, ids]) => ids.has(bare))?.[0];
    if (segment === undefined) return undefined;
    await writeFileDurably(join(this.#deletedDir, bare), '', this.#folders.tmpDir, this.#fs);
    if (!this.#outstanding.has(segment)) {
      // The segment was finished while the marker was written: it goes (if not gone yet), then the marker.
      await this.#removeSegment(segment, [bare]);
      return segment;
    }
    this.#markers.set(segment, [...(this.#markers.get(segment) ?? []), bare]);
    return segment;
  }

  /** Where deletion markers are: one empty file per deleted crash whose record may be in the journal. */
  get #deletedDir(): string {
    return join(this.dir, 'deleted');
  }

  #laidOutOf(segment: number): Set<string> {
    let ids = this.#laidOut.get(segment);
    if (!ids) this.#laidOut.set(segment, (ids = new Set()));
    return ids;
  }

  async *listCrashIds(): AsyncIterable<string> {
    // Taken first: a crash laid out while the folders are listed is then in one list or both.
    const pending = [...this.#pending].filter(([, p]) => !p.deleted).map(([id]) => id);
    const seen = new Set<string>();
    for await (const id of this.#folders.listCrashIds()) {
      seen.add(id);
      yield id;
    }
    for (const id of pending) if (!seen.has(id)) yield id;
  }
}

/** Limits for replaying a submission that was accepted already, under whatever limits applied then. */
const REPLAY_LIMITS: SubmissionLimits = {
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxDecompressedBytes: Number.MAX_SAFE_INTEGER,
  maxAnnotationBytes: Number.MAX_SAFE_INTEGER,
  maxAnnotations: Number.MAX_SAFE_INTEGER,
  maxFiles: Number.MAX_SAFE_INTEGER,
};

/** A record's payload back into the raw crash and its files. */
function decodeRecord(payload: Buffer): { raw: RawCrash; files: Map<string, Uint8Array> } {
  const headerLength = payload.readUInt32LE(0);
  const header = JSON.parse(payload.toString('utf8', 4, 4 + headerLength)) as
    | { v: 2; crash_id: string; submitted_at: string; metadata: RawCrash['metadata']; boundary: string }
    | { v?: undefined; raw: RawCrash; files: { name: string; size: number }[] };
  const rest = payload.subarray(4 + headerLength);
  if (header.v === 2) {
    const decoded = decodeSubmission(rest, header.boundary, REPLAY_LIMITS);
    const raw = rawCrashFrom(header.crash_id, header.submitted_at, header.metadata, decoded);
    return { raw, files: new Map([...decoded.files].map(([name, f]) => [name, f.data])) };
  }
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  for (const f of header.files) {
    files.set(f.name, rest.subarray(offset, offset + f.size));
    offset += f.size;
  }
  return { raw: header.raw, files };
}

/** What became of a journal record's crash: deleted since it was accepted, laid out before the stop (the folder appears whole), or waiting. */
function recordState(crashId: string, deleted: ReadonlySet<string>, folders: FsCrashStorage): 'deleted' | 'laid out' | 'waiting' {
  if (deleted.has(crashId)) return 'deleted';
  return existsSync(folders.crashDir(crashId)) ? 'laid out' : 'waiting';
}

/**
 * Crashes accepted but not laid out yet, counted without changing anything (for commands run
 * while the receiver is stopped): the receiver's next start takes them in.
 */
export async function crashesWaitingInJournal(dataDir: string, folders: FsCrashStorage): Promise<number> {
  const dir = join(dataDir, 'journal');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^\d{6,}\.log$/.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const deleted = new Set(await readdir(join(dir, 'deleted')).catch(() => [] as string[]));
  let waiting = 0;
  for (const name of names) {
    const { records } = await readSegment(join(dir, name), () => undefined);
    for (const { raw } of records) if (recordState(raw.crash_id, deleted, folders) === 'waiting') waiting++;
  }
  return waiting;
}

/**
 * Reads the records of one segment. A torn or corrupt tail (the process died mid-write, before
 * the flush that would have answered its clients) ends the segment and is cut off. Damage in the
 * middle (a bad disk block) does not end it: reading goes on at the next whole record behind the
 * segment's key, and the damaged bytes are counted so the caller keeps a copy of the segment.
 * `frames` says how its records are framed, null when none could be read.
 */
export async function readSegment(
  path: string,
  log: (line: string) => void,
): Promise<{ records: { raw: RawCrash; offset: number; length: number }[]; unreadable: number; damagedBytes: number; frames: FrameFormat | null }> {
  const data = await readFile(path);
  const records: { raw: RawCrash; offset: number; length: number }[] = [];
  let unreadable = 0;
  let damagedBytes = 0;
  const start = segmentStart(data);
  if (start === 'torn') {
    // Cut short while it was begun: the header is flushed with the first record, so none was answered.
    log(`storage: journal ${path} has ${data.length} bytes of an unfinished header and no record; cut off`);
    await truncate(path, 0);
    return { records, unreadable, damagedBytes, frames: null };
  }
  if (start === 'keyless') {
    // Without the key nothing here can be told from a frame a client hid in a body: replaying a
    // guess could bring in forged crashes, so none is replayed, and the caller keeps the copy.
    log(
      `storage: journal ${path}: its header and its first record are damaged, so its key is lost and no record in it can be ` +
        `told from bytes a client sent; none of it is replayed`,
    );
    return { records, unreadable, damagedBytes: data.length, frames: null };
  }
  const { frames } = start;
  let pos = start.at;
  if (start.damaged) {
    damagedBytes += start.at;
    log(`storage: journal ${path}: its header is damaged; its key was taken from its first record`);
  }
  while (pos + frames.headerBytes <= data.length) {
    let end = frames.frameEnd(data, pos);
    if (end < 0) {
      const next = frames.nextFrame(data, pos + 1);
      if (next < 0) break; // the tail
      log(`storage: journal ${path}: bytes ${pos} to ${next} are damaged; reading goes on after them`);
      damagedBytes += next - pos;
      pos = next;
      end = frames.frameEnd(data, pos);
    }
    try {
      records.push({ raw: decodeRecord(data.subarray(pos + frames.headerBytes, end)).raw, offset: pos, length: end - pos });
    } catch (err) {
      // Whole and checksummed, yet not understood (a newer or older receiver wrote it): keep it.
      unreadable++;
      log(`storage: journal ${path}: the record at byte ${pos} could not be read back: ${(err as Error).message}`);
    }
    pos = end;
  }
  if (pos < data.length) {
    log(`storage: journal ${path} has ${data.length - pos} bytes of an unfinished record at its end; cut off`);
    await truncate(path, pos);
  }
  return { records, unreadable, damagedBytes, frames };
}

/**
 * How a segment's records are framed and where the first one is, told from its first bytes:
 * 'torn' when it is no more than a header cut short, 'keyless' when its key is lost.
 */
function segmentStart(data: Buffer): { frames: FrameFormat; at: number; damaged: boolean } | 'torn' | 'keyless' {
  // Written before keys: no header, the first record begins with the old marker (or it is empty).
  if (data.length === 0 || data.subarray(0, LEGACY_MARKER.length).equals(LEGACY_MARKER)) return { frames: LEGACY_FRAMES, at: 0, damaged: false };
  const key = keyOfHeader(data);
  if (key) return { frames: new FrameFormat(key), at: SEGMENT_HEADER_BYTES, damaged: false };
  if (data.length <= SEGMENT_HEADER_BYTES) return 'torn';
  // The header is damaged. The first record's marker is the key, and unlike a marker found by
  // searching, this one is at a place only the appender writes (right after the header), not in
  // a body: taken if its frame checks out. A key read from a damaged header, or searched for
  // further on, could be one a client chose (damage often leaves zeros, a body can hold any
  // bytes), so neither is tried. A segment from before keys whose first bytes are damaged ends
  // up here too (it cannot be told apart safely); such segments exist only at the first start
  // after the upgrade, and it is kept as a copy.
  const frames = new FrameFormat(Buffer.from(data.subarray(SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES + SEGMENT_KEY_BYTES)));
  return frames.frameEnd(data, SEGMENT_HEADER_BYTES) >= 0 ? { frames, at: SEGMENT_HEADER_BYTES, damaged: true } : 'keyless';
}
