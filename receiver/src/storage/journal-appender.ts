import { writevSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DirSyncer, type FsOps, nodeFsOps, SharedFlush } from './durable.ts';
import type { RawCrash, WireSubmission } from './types.ts';

/**
 * The writing end of the crash journal: appends records to numbered segment files with group
 * commit. The file format is described at JournaledCrashStorage, which reads the journal back
 * and lays its crashes out.
 */

/** A journal segment is closed and a new one started past this size. */
const JOURNAL_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How long a failed append is reported (the heartbeat) when no append has succeeded since. */
const PROBLEM_SHOWN_MS = 60_000;
/** Most buffers handed to one writev call (the kernel's IOV_MAX is 1024). */
const MAX_IOVECS = 512;

export const RECORD_MAGIC = Buffer.from('SCJ1');
export const FRAME_HEADER_BYTES = 12; // magic, payload length, crc32

/** An append-only file as the journal needs it; passed in so tests can fill the disk. */
export interface AppendFile {
  writev(buffers: Buffer[]): Promise<void>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface JournalFs extends FsOps {
  openAppend(path: string): Promise<AppendFile>;
}

export const nodeJournalFs: JournalFs = {
  ...nodeFsOps,
  async openAppend(path) {
    const handle: FileHandle = await open(path, 'a', 0o640);
    return {
      // Appending a batch to the page cache takes microseconds; doing it synchronously saves
      // each batch a trip through the thread pool and a turn of the event loop. Only the
      // fdatasync, which waits for the disk, goes to the pool.
      writev: async (buffers) => {
        for (let i = 0; i < buffers.length; i += MAX_IOVECS) writeAllSync(handle.fd, buffers.slice(i, i + MAX_IOVECS));
      },
      datasync: () => handle.datasync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },
};

/** Writes every byte of `buffers`, going on after a short write. */
function writeAllSync(fd: number, buffers: Buffer[]): void {
  let left = buffers;
  for (;;) {
    let n = writevSync(fd, left);
    let i = 0;
    while (i < left.length && n >= left[i]!.length) n -= left[i++]!.length;
    if (i === left.length) return;
    left = [left[i]!.subarray(n), ...left.slice(i + 1)];
  }
}

/** A record as written: its buffers (the frame header, then the payload's pieces) and length. */
export interface EncodedRecord {
  buffers: Buffer[];
  length: number;
}

/** Where a record is: its segment, and its frame's first byte and length there. */
export interface RecordPlace {
  segment: number;
  offset: number;
  length: number;
}

/** The journal file name of a segment. */
export function segmentPath(dir: string, segment: number): string {
  return join(dir, `${String(segment).padStart(6, '0')}.log`);
}

export interface JournalAppenderOptions {
  /** The journal folder (it exists). */
  dir: string;
  fs?: JournalFs;
  segmentBytes?: number;
  /** Told when a new segment is started (the old one is then complete). */
  onRotate?: (segment: number) => void;
}

/**
 * Appends records with group commit: the records handed in during one turn of the event loop
 * are written in one writev, then wait for an fdatasync that one flush shares with every batch
 * written while it waits. Batches land in order; the next batch is written while this one's
 * flush still runs, and one flush then covers both.
 */
export class JournalAppender {
  readonly #dir: string;
  readonly #fs: JournalFs;
  readonly #dirs: DirSyncer;
  readonly #segmentBytes: number;
  readonly #onRotate: ((segment: number) => void) | undefined;
  #segment = 0;
  #segmentSize = 0;
  #file: AppendFile | null = null;
  #batch: { record: EncodedRecord; resolve: (place: RecordPlace) => void; reject: (err: unknown) => void }[] = [];
  /** Segments rotated out whose last writes still wait for a flush; closed after it. */
  #retiring: AppendFile[] = [];
  /** The chain of batch writes, so they land in order. */
  #writes: Promise<unknown> = Promise.resolve();
  readonly #flush = new SharedFlush(async () => {
    const retiring = this.#retiring.splice(0);
    await Promise.all([this.#file!.datasync(), ...retiring.map((f) => f.datasync())]);
    await Promise.all(retiring.map((f) => f.close()));
  });
  #problem: string | null = null;
  #problemAt = 0;
  #closed = false;
  /**
   * Records written to each segment and not yet settled: from their write until the turn after
   * their promises settled, so a caller that records where a crash is (on resolution) has done
   * so before the segment may be taken for finished.
   */
  readonly #unsettled = new Map<number, number>();

  constructor(options: JournalAppenderOptions) {
    this.#dir = options.dir;
    this.#fs = options.fs ?? nodeJournalFs;
    this.#dirs = new DirSyncer(this.#fs);
    this.#segmentBytes = options.segmentBytes ?? JOURNAL_SEGMENT_BYTES;
    this.#onRotate = options.onRotate;
  }

  /** Opens segment `first` (numbers below it belong to earlier runs). */
  async open(first: number): Promise<this> {
    this.#segment = first - 1;
    await this.#startSegment();
    return this;
  }

  /** The segment being written now; older ones may be deleted once their crashes are laid out. */
  get segment(): number {
    return this.#segment;
  }

  /**
   * Why the last append failed, until one succeeds again or PROBLEM_SHOWN_MS have passed without
   * appends (a full disk that was freed says nothing until the next crash comes); null when fine.
   */
  problem(): string | null {
    return this.#problem && performance.now() - this.#problemAt < PROBLEM_SHOWN_MS ? this.#problem : null;
  }

  /** Whether records written to `segment` are still on their way to their callers. */
  holds(segment: number): boolean {
    return (this.#unsettled.get(segment) ?? 0) > 0;
  }

  /** Resolves once the record is durable (written and flushed), with where it went. */
  append(record: EncodedRecord): Promise<RecordPlace> {
    if (this.#closed) return Promise.reject(new Error('The crash journal is closed'));
    return new Promise<RecordPlace>((resolve, reject) => {
      this.#batch.push({ record, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => void this.#commit());
    });
  }

  async #commit(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    const write = this.#writes.then(() => this.#writeBatch(batch.map((b) => b.record)));
    this.#writes = write.catch(() => undefined); // a failed batch must not stop the ones after it
    let at: { segment: number; offsets: number[] } | undefined;
    try {
      at = await write;
      await this.#flush.flush();
    } catch (err) {
      this.#problem = `cannot write the journal: ${errorCode(err)}`;
      this.#problemAt = performance.now();
      for (const b of batch) b.reject(err);
      return;
    } finally {
      if (at) this.#settleLater(at.segment, batch.length);
    }
    this.#problem = null;
    batch.forEach((b, i) => b.resolve({ segment: at.segment, offset: at.offsets[i]!, length: b.record.length }));
  }

  /** Counts records as settled once the callbacks of their promises (which run first) are done. */
  #settleLater(segment: number, count: number): void {
    setImmediate(() => {
      const left = (this.#unsettled.get(segment) ?? count) - count;
      if (left > 0) this.#unsettled.set(segment, left);
      else this.#unsettled.delete(segment);
    });
  }

  /** Appends records to the current segment (rotating first when it is full); says where each went. */
  async #writeBatch(records: EncodedRecord[]): Promise<{ segment: number; offsets: number[] }> {
    if (this.#closed && !this.#file) throw new Error('The crash journal is closed');
    if (this.#segmentSize > this.#segmentBytes) await this.#startSegment();
    const before = this.#segmentSize;
    const offsets: number[] = [];
    let end = before;
    for (const r of records) {
      offsets.push(end);
      end += r.length;
    }
    try {
      await this.#file!.writev(records.flatMap((r) => r.buffers));
    } catch (err) {
      // A partial write (a full disk) must not leave a torn record before the next batch.
      await this.#file?.truncate(before).catch(() => undefined);
      throw err;
    }
    this.#unsettled.set(this.#segment, (this.#unsettled.get(this.#segment) ?? 0) + records.length);
    this.#segmentSize = end;
    return { segment: this.#segment, offsets };
  }

  async #startSegment(): Promise<void> {
    const segment = this.#segment + 1;
    const path = segmentPath(this.#dir, segment);
    const file = await this.#fs.openAppend(path);
    // Batches written to the old segment may still wait for their flush: the next flush covers
    // the old file too, and closes it after.
    if (this.#file) this.#retiring.push(this.#file);
    this.#file = file;
    this.#segment = segment;
    this.#segmentSize = (await stat(path)).size;
    await this.#dirs.sync(this.#dir);
    this.#onRotate?.(segment);
  }

  /**
   * Starts a new segment now, after the batches already on their way, and closes the current
   * one once flushed: it can then be deleted as soon as its crashes are laid out. Given `from`,
   * only if that segment is still the one being written.
   */
  async rotate(from?: number): Promise<void> {
    if (this.#closed) return;
    // Rotating out of `from` when several ask at once (deletions) starts one new segment, not one each.
    const rotated = this.#writes.then(() => (from === undefined || from === this.#segment ? this.#startSegment() : undefined));
    this.#writes = rotated.catch(() => undefined);
    await rotated;
    await this.#flush.flush();
  }

  /** Flushes what was appended and closes the segment; appends after it are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writes;
    if (this.#file) await this.#flush.flush().catch(() => undefined);
    await this.#file?.close();
    this.#file = null;
  }
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).name;
}

/**
 * One journal record, as buffers to append: this runs for every submission. With the wire form
 * at hand the record is that body plus a small header (version 2), which spares encoding every
 * annotation as JSON again and copying the body; otherwise it is the raw crash as JSON and its
 * files (version 1).
 */
export function encodeRecord(raw: RawCrash, files: ReadonlyMap<string, Uint8Array>, wire?: WireSubmission): EncodedRecord {
  const header = wire
    ? JSON.stringify({ v: 2, crash_id: raw.crash_id, submitted_at: raw.submitted_at, metadata: raw.metadata, boundary: wire.boundary })
    : JSON.stringify({ raw, files: [...files].map(([name, data]) => ({ name, size: data.length })) });
  return frame(header, (wire ? [wire.body] : [...files.values()]).map(asBuffer));
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** "SCJ1", payload length, crc32, then the payload: header length, header JSON, blobs. */
function frame(header: string, blobs: Buffer[]): EncodedRecord {
  const headerBytes = Buffer.byteLength(header);
  let blobBytes = 0;
  for (const data of blobs) blobBytes += data.byteLength;
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4 + headerBytes);
  RECORD_MAGIC.copy(head, 0);
  head.writeUInt32LE(4 + headerBytes + blobBytes, 4);
  head.writeUInt32LE(headerBytes, FRAME_HEADER_BYTES);
  head.write(header, FRAME_HEADER_BYTES + 4, 'utf8');
  let crc = crc32(head.subarray(FRAME_HEADER_BYTES));
  for (const data of blobs) crc = crc32(data, crc);
  head.writeUInt32LE(crc, 8);
  return { buffers: [head, ...blobs], length: head.length + blobBytes };
}
