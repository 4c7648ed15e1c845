import { randomBytes } from 'node:crypto';
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

/*
 * Framing. Every record is "marker, u32 payload length, u32 crc32 of the payload, payload", and
 * when damage breaks one, the reader resynchronises on the next marker whose frame checks out.
 * A crash's body is the client's to choose and goes into the payload as it came, so a body can
 * hold a whole frame: if the marker were known (segments before keys used "SCJ1" for every
 * record), damage before such a body would have the reader take the hidden frame for a record,
 * a crash of the client's choosing. So each segment draws a random key, writes it in its header,
 * and uses it as the marker of every record in it. A client never sees a key (it is in no
 * answer, and a segment is never written again once closed), so a frame it hides can begin with
 * the key only by a 1 in 2^64 guess, and the reader accepts no other marker in that segment.
 *
 * Weighed and left: mixing the key into the crc32 instead gives 32 bits, which a client can
 * cover with tens of thousands of guessed frames in one body; and escaping the marker out of
 * payloads would copy or scan every body on the append path, which writes them untouched. The
 * key costs 4 more bytes per record than the old magic and no pass over the body: a record is
 * encoded before the segment it lands in is known, so the appender writes the key in front of
 * it as one more buffer of the writev.
 */

/** The marker of every record in a segment written before segments had keys. */
export const LEGACY_MARKER = Buffer.from('SCJ1');
/** How a keyed segment begins: this, its key, and the crc32 of both. */
export const SEGMENT_MAGIC = Buffer.from('SCJ2');
/** Bytes of a segment's key: too many to guess. */
export const SEGMENT_KEY_BYTES = 8;
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length + SEGMENT_KEY_BYTES + 4;

/** How the records of one segment are framed: behind which marker. */
export class FrameFormat {
  /** Bytes of a frame before its payload: marker, payload length, crc32. */
  readonly headerBytes: number;

  constructor(readonly marker: Buffer) {
    this.headerBytes = marker.length + 8;
  }

  /** Where the whole, checksummed frame at `pos` ends, or -1 when there is none. */
  frameEnd(data: Buffer, pos: number): number {
    const m = this.marker.length;
    if (pos + this.headerBytes > data.length || data.compare(this.marker, 0, m, pos, pos + m) !== 0) return -1;
    const end = pos + this.headerBytes + data.readUInt32LE(pos + m);
    if (end > data.length) return -1;
    return crc32(data.subarray(pos + this.headerBytes, end)) === data.readUInt32LE(pos + m + 4) ? end : -1;
  }

  /** The first whole frame at or after `from`, or -1. */
  nextFrame(data: Buffer, from: number): number {
    for (let at = data.indexOf(this.marker, from); at >= 0; at = data.indexOf(this.marker, at + 1)) {
      if (this.frameEnd(data, at) >= 0) return at;
    }
    return -1;
  }
}

/** Segments from before keys: anyone can write their marker, so damage in them can still be resynchronised wrongly. */
export const LEGACY_FRAMES = new FrameFormat(LEGACY_MARKER);

/** A keyed segment's header. */
export function segmentHeader(key: Buffer): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  key.copy(header, SEGMENT_MAGIC.length);
  header.writeUInt32LE(crc32(header.subarray(0, SEGMENT_HEADER_BYTES - 4)), SEGMENT_HEADER_BYTES - 4);
  return header;
}

/** The key a segment header holds, or null when the header is not whole. */
export function keyOfHeader(data: Buffer): Buffer | null {
  if (data.length < SEGMENT_HEADER_BYTES || !data.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) return null;
  if (crc32(data.subarray(0, SEGMENT_HEADER_BYTES - 4)) !== data.readUInt32LE(SEGMENT_HEADER_BYTES - 4)) return null;
  return Buffer.from(data.subarray(SEGMENT_MAGIC.length, SEGMENT_MAGIC.length + SEGMENT_KEY_BYTES));
}

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

/**
 * A record to append: its frame after the marker (payload length, crc32, the payload's pieces),
 * and the length of that. The appender puts the segment's key in front.
 */
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
  /** Told when a new segment is started (the old one is then complete), with how its records are framed. */
  onRotate?: (segment: number, frames: FrameFormat) => void;
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
  readonly #onRotate: ((segment: number, frames: FrameFormat) => void) | undefined;
  #segment = 0;
  /** The key of the segment being written: the marker of each record in it. */
  #key = Buffer.alloc(0);
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
    batch.forEach((b, i) => b.resolve({ segment: at.segment, offset: at.offsets[i]!, length: SEGMENT_KEY_BYTES + b.record.length }));
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
      end += SEGMENT_KEY_BYTES + r.length;
    }
    try {
      await this.#file!.writev(records.flatMap((r) => [this.#key, ...r.buffers]));
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
    // Records after the header rely on it: a segment already begun holds another key.
    if ((await stat(path)).size !== 0) {
      await file.close();
      throw new Error(`The journal segment ${path} exists already`);
    }
    // A new key per segment, and a new segment per start: a key is never used again once its
    // segment is closed, even if someone later gets to read the file.
    const key = randomBytes(SEGMENT_KEY_BYTES);
    try {
      // Flushed with the first batch, which the same fdatasync of this file covers.
      await file.writev([segmentHeader(key)]);
    } catch (err) {
      // Half a header (a full disk) would make the next try find the segment begun.
      await file.truncate(0).catch(() => undefined);
      await file.close().catch(() => undefined);
      throw err;
    }
    // Batches written to the old segment may still wait for their flush: the next flush covers
    // the old file too, and closes it after.
    if (this.#file) this.#retiring.push(this.#file);
    this.#file = file;
    this.#segment = segment;
    this.#key = key;
    this.#segmentSize = SEGMENT_HEADER_BYTES;
    // Told before the folder's sync, which can fail: the next batches go to this segment all the
    // same, and their crashes must read back (with its key) to be laid out.
    this.#onRotate?.(segment, new FrameFormat(key));
    await this.#dirs.sync(this.#dir);
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

/** Payload length, crc32, then the payload: header length, header JSON, blobs (the marker goes in front when written). */
function frame(header: string, blobs: Buffer[]): EncodedRecord {
  const headerBytes = Buffer.byteLength(header);
  let blobBytes = 0;
  for (const data of blobs) blobBytes += data.byteLength;
  const head = Buffer.allocUnsafe(8 + 4 + headerBytes);
  head.writeUInt32LE(4 + headerBytes + blobBytes, 0);
  head.writeUInt32LE(headerBytes, 8);
  head.write(header, 12, 'utf8');
  let crc = crc32(head.subarray(8));
  for (const data of blobs) crc = crc32(data, crc);
  head.writeUInt32LE(crc, 4);
  return { buffers: [head, ...blobs], length: head.length + blobBytes };
}
