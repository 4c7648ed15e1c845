import { appendFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCrashId } from '../../../shared/src/crash-id.ts';
import { tempDir } from '../../../test/helpers/receiver.ts';
import { FsWorkQueue } from './fs-queue.ts';
import { FsCrashStorage } from './fs-storage.ts';
import { type JournalFs, JournaledCrashStorage, nodeJournalFs } from './journal.ts';
import { keyOfHeader, SEGMENT_HEADER_BYTES } from './journal-appender.ts';
import { forgedRecords, legacyRecord, METADATA, submission } from '../../../test/collector/journal-frames.ts';
import { multipart } from '../../../test/collector/multipart.ts';
import { decodeSubmission, rawCrashFrom } from '../collector/parse.ts';
import { boundaryOf } from '../collector/multipart.ts';
import type { FsOps } from './durable.ts';
import type { RawCrash } from './types.ts';

const LIMITS = { maxBodyBytes: 1 << 20, maxDecompressedBytes: 1 << 20, maxAnnotationBytes: 1 << 20, maxAnnotations: 100, maxFiles: 5 };

async function openStorage(
  dataDir: string,
  log: (l: string) => void = () => undefined,
  segmentBytes?: number,
  fs?: JournalFs,
  folderFs?: FsOps,
  maxBacklogBytes?: number,
) {
  const folders = new FsCrashStorage(dataDir, folderFs);
  await folders.open();
  const queue = new FsWorkQueue(dataDir, folders.tmpDir);
  await queue.open();
  const stored: string[] = [];
  const storage = new JournaledCrashStorage({ dataDir, folders, queue, log, onStored: (id) => stored.push(id), segmentBytes, fs, maxBacklogBytes });
  return { storage, folders, stored, opened: await storage.open() };
}

/** Filesystem calls under which crash folders cannot be written: layout fails, crashes stay in the journal. */
const FULL_DISK = { ...nodeJournalFs, writeFile: async () => Promise.reject(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })) };

/** A crash's one file, as most tests here save it. */
const dump = (): Map<string, Uint8Array> => new Map([['upload_file_minidump', Buffer.from('abc')]]);

/** The journal's segment files. */
const segments = async (dataDir: string): Promise<string[]> => (await readdir(join(dataDir, 'journal'))).filter((n) => n.endsWith('.log')).sort();

const raw = (i: number): RawCrash => ({
  crash_id: createCrashId(),
  submitted_at: new Date().toISOString(),
  annotations: { ProductName: 'Shop', Seq: String(i) },
  files: [{ name: 'upload_file_minidump', filename: 'd', size: 3, contentType: 'application/octet-stream' }],
  metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
});

describe('JournaledCrashStorage', () => {
  it('answers reads at once, lays crashes out as folders, queues them and frees the journal', async () => {
    const dir = await tempDir();
    const { storage, folders, stored } = await openStorage(dir.path);
    const crashes = Array.from({ length: 50 }, (_, i) => raw(i));
    await Promise.all(crashes.map((c) => storage.saveRaw(c, new Map([['upload_file_minidump', Buffer.from([1, 2, 3])]]))));
    expect((await storage.getRaw(crashes[7]!.crash_id))!.annotations.Seq).toBe('7');
    await storage.drained();
    expect(stored.sort()).toEqual(crashes.map((c) => c.crash_id).sort());
    expect(Buffer.from((await folders.getFile(crashes[3]!.crash_id, 'upload_file_minidump'))!)).toEqual(Buffer.from([1, 2, 3]));
    expect((await readdir(join(dir.path, 'queue'))).length).toBe(50);
    await storage.close();
    await dir.cleanup();
  });

  it('refuses new crashes at once while the backlog waiting for layout is over its cap, and keeps the ones it took', async () => {
    const dir = await tempDir();
    // Crash folders cannot be written, so nothing leaves the backlog; the cap is one record.
    const { storage } = await openStorage(dir.path, undefined, undefined, undefined, FULL_DISK, 1);
    const kept = raw(1);
    await storage.saveRaw(kept, dump());
    await expect(storage.saveRaw(raw(2), dump())).rejects.toMatchObject({ code: 'BACKLOG_FULL' });
    expect(storage.problem()).toMatch(/^refusing crashes: \d+ B of accepted crashes wait to be laid out; new ones are refused until layout catches up$/);
    // The heartbeat names the cause too once layout has failed.
    for (let i = 0; i < 100 && !storage.problem()!.startsWith('cannot lay out'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(storage.problem()).toMatch(/^cannot lay out accepted crashes: ENOSPC; refusing crashes: /);
    expect((await storage.getRaw(kept.crash_id))!.annotations.Seq).toBe('1');
    await storage.close();
    await dir.cleanup();
  });

  it('after close, refuses to read a crash still in the journal instead of opening a file nobody would close', async () => {
    const dir = await tempDir();
    // Crash folders cannot be written (a full disk), so the crash stays in the journal.
    const { storage } = await openStorage(dir.path, undefined, undefined, undefined, FULL_DISK);
    const crash = raw(1);
    await storage.saveRaw(crash, dump());
    expect(storage.awaitingLayout(crash.crash_id)).toBe(true);
    await storage.close();
    await expect(storage.getRaw(crash.crash_id)).rejects.toThrow(/journal is closed/);
    // Still in the journal for the next start.
    const next = await openStorage(dir.path);
    expect(next.opened.replayed).toBe(1);
    await next.storage.drained();
    expect((await next.folders.getRaw(crash.crash_id))?.annotations.Seq).toBe('1');
    await next.storage.close();
    await dir.cleanup();
  });

  it('starts new segments while earlier batches still wait for their flush, and loses none', async () => {
    const dir = await tempDir();
    // The real disk, with flushes slowed down so they overlap rotations, and a file that refuses
    // to be flushed after it was closed.
    const slowFlushes: JournalFs = {
      ...nodeJournalFs,
      async openAppend(path) {
        const file = await nodeJournalFs.openAppend(path);
        let closed = false;
        return {
          ...file,
          datasync: async () => {
            await new Promise((r) => setTimeout(r, 3));
            if (closed) throw Object.assign(new Error(`datasync of closed ${path}`), { code: 'EBADF' });
            await file.datasync();
          },
          close: async () => {
            closed = true;
            await new Promise((r) => setTimeout(r, 3));
            await file.close();
          },
        };
      },
    };
    const { storage, folders } = await openStorage(dir.path, undefined, 20_000, slowFlushes);
    const crashes = Array.from({ length: 300 }, (_, i) => raw(i));
    // Waves a few event-loop turns apart: batches land in many segments, flushes overlap rotations.
    const saved: Promise<void>[] = [];
    for (let i = 0; i < crashes.length; i += 10) {
      saved.push(...crashes.slice(i, i + 10).map((c) => storage.saveRaw(c, new Map([['upload_file_minidump', Buffer.alloc(300, i)]]))));
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.allSettled(saved);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Read back from the journal before layout, then from the folders after it.
    expect((await storage.getRaw(crashes[123]!.crash_id))!.annotations.Seq).toBe('123');
    await storage.drained();
    for (const c of crashes) expect((await folders.getRaw(c.crash_id))?.annotations.Seq).toBe(c.annotations.Seq);
    expect(Buffer.from((await storage.getFile(crashes[299]!.crash_id, 'upload_file_minidump'))!)).toEqual(Buffer.alloc(300, 290));
    await storage.close();
    // Every segment but the last one written is gone once its crashes are laid out.
    expect(await segments(dir.path)).toHaveLength(1);
    await dir.cleanup();
  });

  it('holds crashes that fail to lay out while the backlog waits for its retry, instead of trying them in a loop', async () => {
    const dir = await tempDir();
    let writes = 0;
    const fullDisk = { ...nodeJournalFs, writeFile: async () => (writes++, FULL_DISK.writeFile()) };
    const { storage } = await openStorage(dir.path, undefined, undefined, undefined, fullDisk);
    for (let i = 0; i < 3; i++) {
      await storage.saveRaw(raw(i), dump());
      await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => setTimeout(r, 200));
    // One try each until the retry in MATERIALIZE_RETRY_MS, not thousands.
    expect(writes).toBeLessThanOrEqual(3);
    await storage.close();
    await dir.cleanup();
  });

  it('reads back and lays out the crashes of a new segment whose folder sync failed when it was begun', async () => {
    const dir = await tempDir();
    let failJournalSync = false;
    const fs: JournalFs = {
      ...nodeJournalFs,
      async fsync(path) {
        if (failJournalSync && path.endsWith('journal')) {
          failJournalSync = false;
          throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
        }
        return nodeJournalFs.fsync(path);
      },
    };
    const { storage, folders } = await openStorage(dir.path, undefined, 1000, fs);
    const big = new Map([['upload_file_minidump', Buffer.alloc(1200, 1)]]);
    await storage.saveRaw(raw(0), big);
    await storage.drained();
    // The next batch begins segment 2, and the sync of the journal folder after its header fails: that batch is refused.
    failJournalSync = true;
    await expect(storage.saveRaw(raw(1), dump())).rejects.toThrow(/EIO/);
    // The crashes after it go to segment 2, and are answered: they must read back and be laid out.
    const after = raw(2);
    await storage.saveRaw(after, dump());
    expect((await storage.getRaw(after.crash_id))?.annotations.Seq).toBe('2');
    await storage.drained();
    expect((await folders.getRaw(after.crash_id))?.annotations.Seq).toBe('2');
    await storage.close();
    await dir.cleanup();
  });

  it('keeps a segment whose last crash still waits for its flush when the next batch starts a new segment', async () => {
    const dir = await tempDir();
    let gated = false;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const heldFlushes: JournalFs = {
      ...nodeJournalFs,
      async openAppend(path) {
        const file = await nodeJournalFs.openAppend(path);
        return { ...file, datasync: async () => (gated && (await gate), file.datasync()) };
      },
    };
    const { storage, folders } = await openStorage(dir.path, undefined, 1000, heldFlushes);
    const file = new Map([['upload_file_minidump', Buffer.alloc(300, 1)]]);
    const [first, a, b] = [raw(0), raw(1), raw(2)];
    // Segment 1 holds a crash already laid out, so nothing in it is waiting.
    await storage.saveRaw(first, file);
    await storage.drained();
    gated = true;
    // A goes into segment 1 (taking it past its size) and waits for its flush; B then starts segment 2.
    const savedA = storage.saveRaw(a, file);
    await new Promise((r) => setTimeout(r, 20));
    const savedB = storage.saveRaw(b, file);
    await new Promise((r) => setTimeout(r, 50));
    expect(await segments(dir.path)).toEqual(['000001.log', '000002.log']);
    openGate();
    await Promise.all([savedA, savedB]);
    expect((await storage.getRaw(a.crash_id))?.annotations.Seq).toBe('1');
    await storage.drained();
    expect((await folders.getRaw(a.crash_id))?.annotations.Seq).toBe('1');
    await storage.close();
    await dir.cleanup();
  });

  it('replays every whole record around damage in the middle of a segment, and keeps a copy of it', async () => {
    const dir = await tempDir();
    // Folders cannot be written in the first run, so all 20 crashes wait in the journal.
    const first = await openStorage(dir.path, undefined, undefined, undefined, FULL_DISK);
    const crashes = Array.from({ length: 20 }, (_, i) => raw(i));
    for (const c of crashes) await first.storage.saveRaw(c, dump());
    await first.storage.close();
    const [name] = await segments(dir.path);
    const path = join(dir.path, 'journal', name!);
    const bytes = await readFile(path);
    // A bad block: ten bytes in the middle of the fifth record (each record begins with the segment's key).
    const key = keyOfHeader(bytes)!;
    let at = bytes.indexOf(key, SEGMENT_HEADER_BYTES);
    for (let i = 0; i < 4; i++) at = bytes.indexOf(key, at + 1);
    bytes.fill(0, at + 20, at + 30);
    await writeFile(path, bytes);

    const logs: string[] = [];
    const second = await openStorage(dir.path, (l) => logs.push(l));
    expect(second.opened.replayed).toBe(19);
    expect(logs.join('\n')).toMatch(/are damaged; reading goes on after them/);
    expect(logs.join('\n')).toMatch(/copied 000001\.log to 000001\.log\.unreadable: \d+ bytes in it are damaged/);
    expect(await readFile(`${path}.unreadable`)).toEqual(bytes);
    await second.storage.drained();
    expect(second.stored.sort()).toEqual(crashes.filter((_, i) => i !== 4).map((c) => c.crash_id).sort());
    await second.storage.close();
    await dir.cleanup();
  });

  it('does not bring back a deleted crash whose record is still in the journal, laid out or not', async () => {
    const dir = await tempDir();
    const first = await openStorage(dir.path);
    const [laidOut, kept] = [raw(1), raw(2)];
    for (const c of [laidOut, kept]) await first.storage.saveRaw(c, dump());
    await first.storage.drained();
    await first.storage.delete(laidOut.crash_id);
    await first.storage.close();
    // One more, deleted before it could be laid out (its folder cannot be written).
    const second = await openStorage(dir.path, undefined, undefined, undefined, FULL_DISK);
    const waiting = raw(3);
    await second.storage.saveRaw(waiting, dump());
    await second.storage.delete(waiting.crash_id);
    await second.storage.close();

    const third = await openStorage(dir.path);
    expect(third.opened.replayed).toBe(0);
    await third.storage.drained();
    expect(await third.folders.getRaw(laidOut.crash_id)).toBeNull();
    expect(await third.folders.getRaw(waiting.crash_id)).toBeNull();
    expect((await third.folders.getRaw(kept.crash_id))?.annotations.Seq).toBe('2');
    // The segments were all laid out, so they and the markers are gone.
    expect(await readdir(join(dir.path, 'journal', 'deleted'))).toEqual([]);
    await third.storage.close();
    await dir.cleanup();
  });

  it('does not leave a folder behind for a crash deleted while its folder was being written', async () => {
    const dir = await tempDir();
    // The crash folder's rename waits until the crash has been deleted.
    let renaming!: () => void;
    const renamingNow = new Promise<void>((resolve) => (renaming = resolve));
    let deleted!: () => void;
    const deletedNow = new Promise<void>((resolve) => (deleted = resolve));
    const slowFolders: FsOps = {
      ...nodeJournalFs,
      async rename(from, to) {
        if (/crashes/.test(to)) {
          renaming();
          await deletedNow;
        }
        return nodeJournalFs.rename(from, to);
      },
    };
    const { storage, folders, stored } = await openStorage(dir.path, undefined, undefined, undefined, slowFolders);
    const crash = raw(1);
    await storage.saveRaw(crash, dump());
    await renamingNow;
    await storage.delete(crash.crash_id);
    deleted();
    await storage.drained();
    expect(await folders.getRaw(crash.crash_id)).toBeNull();
    expect(await storage.getRaw(crash.crash_id)).toBeNull();
    expect(stored).toEqual([]);
    expect(await readdir(join(dir.path, 'queue'))).toEqual([]);
    await storage.close();
    await dir.cleanup();
  });

  it('takes a deleted crash\'s bytes out of the journal once its segment is laid out, without waiting for the segment to fill', async () => {
    const dir = await tempDir();
    const { storage, folders } = await openStorage(dir.path);
    const secret = { ...raw(1), annotations: { ProductName: 'Shop', Message: 'jane@example.com' } };
    const kept = raw(2);
    for (const c of [secret, kept]) await storage.saveRaw(c, dump());
    await storage.drained();
    const journalText = async () => (await Promise.all((await segments(dir.path)).map((n) => readFile(join(dir.path, 'journal', n), 'latin1')))).join('');
    expect(await journalText()).toContain('jane@example.com');
    await storage.delete(secret.crash_id);
    // The segment goes as soon as nothing in it waits for layout (a moment later, not at 64 MiB).
    const deadline = Date.now() + 5_000;
    while ((await journalText()).includes('jane@example.com')) {
      if (Date.now() > deadline) throw new Error('the deleted crash is still in the journal after 5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await folders.getRaw(kept.crash_id)).not.toBeNull();
    // Crashes after it go to the new segment, and all is still there after a restart.
    const after = raw(3);
    await storage.saveRaw(after, dump());
    await storage.close();
    const again = await openStorage(dir.path);
    await again.storage.drained();
    expect(await again.folders.getRaw(after.crash_id)).not.toBeNull();
    expect(await again.folders.getRaw(secret.crash_id)).toBeNull();
    await again.storage.close();
    await dir.cleanup();
  });

  it('does not bring back a crash whose folder someone else removed after being told to forget it (retention)', async () => {
    const dir = await tempDir();
    const first = await openStorage(dir.path);
    const crash = raw(1);
    await first.storage.saveRaw(crash, dump());
    await first.storage.drained();
    await first.storage.forget(crash.crash_id);
    await first.folders.delete(crash.crash_id); // as retention removes a whole day
    await first.storage.close();
    const second = await openStorage(dir.path);
    expect(second.opened.replayed).toBe(0);
    expect(await second.folders.getRaw(crash.crash_id)).toBeNull();
    await second.storage.close();
    await dir.cleanup();
  });

  it('replays crashes a killed process left in the journal and cuts off a torn last record', async () => {
    const dir = await tempDir();
    const first = await openStorage(dir.path);
    const crash = raw(1);
    await first.storage.saveRaw(crash, dump());
    // Simulate a kill before the crash was laid out: remove its folder and queue entry, keep the
    // journal, and add half a record as a write cut short would.
    await first.storage.drained();
    await first.folders.delete(crash.crash_id);
    const segment = join(dir.path, 'journal', (await segments(dir.path))[0]!);
    const size = (await stat(segment)).size;
    await appendFile(segment, Buffer.from('SCJ1\xff\xff\x00\x00garbage', 'latin1'));

    const logs: string[] = [];
    const second = await openStorage(dir.path, (l) => logs.push(l));
    expect(second.opened.replayed).toBe(1);
    expect(logs.join('\n')).toMatch(/unfinished record at its end; cut off/);
    await second.storage.drained();
    expect(second.stored).toEqual([crash.crash_id]);
    expect((await second.folders.getRaw(crash.crash_id))!.annotations).toEqual(crash.annotations);
    expect(await readFile(join(dir.path, 'crashes', `20${crash.crash_id.slice(-6)}`, crash.crash_id, 'files', 'upload_file_minidump'), 'utf8')).toBe('abc');
    // The old segment was fully laid out, so it is gone; a torn tail never reaches a new one.
    expect(await readdir(join(dir.path, 'journal'))).not.toContain(segment.split('/').pop());
    expect(size).toBeGreaterThan(0);
    await second.storage.close();
    await dir.cleanup();
  });

  it('replays a crash journaled in its wire form exactly as the collector decoded it', async () => {
    const dir = await tempDir();
    const first = await openStorage(dir.path);
    const { body, contentType } = multipart([
      { name: 'ProductName', value: 'Shop' },
      { name: 'JSStack', value: 'a@x.js:1:2\r\nb@x.js:3:4' },
      { name: 'upload_file_minidump', value: Buffer.from([0, 1, 2, 255]), filename: 'crash.dmp', contentType: 'application/x-dmp' },
    ]);
    const boundary = boundaryOf(contentType)!;
    const decoded = decodeSubmission(body, boundary, LIMITS);
    const raw = rawCrashFrom(createCrashId(), new Date().toISOString(), { throttle_rule: 'accept_everything', content_encoding: 'identity' }, decoded);
    const files = new Map([...decoded.files].map(([name, f]) => [name, f.data]));
    await first.storage.saveRaw(raw, files, { body, boundary });
    await first.storage.drained();
    await first.folders.delete(raw.crash_id); // as if killed before it was laid out

    const second = await openStorage(dir.path);
    expect(second.opened.replayed).toBe(1);
    await second.storage.drained();
    const replayed = await second.folders.getRaw(raw.crash_id);
    expect(replayed).toEqual(raw);
    expect(replayed!.annotations.JSStack).toBe('a@x.js:1:2\nb@x.js:3:4');
    expect(Buffer.from((await second.folders.getFile(raw.crash_id, 'upload_file_minidump'))!)).toEqual(Buffer.from([0, 1, 2, 255]));
    await second.storage.close();
    await first.storage.close();
    await dir.cleanup();
  });

  it('keeps a copy of a segment with a record it cannot read back, and replays the rest', async () => {
    const dir = await tempDir();
    const first = await openStorage(dir.path);
    const good = raw(1);
    await first.storage.saveRaw(good, dump());
    // Whole and checksummed, but its body is not the multipart it claims to be.
    const bad = raw(2);
    await first.storage.saveRaw(bad, new Map(), { body: Buffer.from('not multipart at all'), boundary: 'zzz' });
    await first.storage.drained();
    await first.folders.delete(good.crash_id);
    await first.folders.delete(bad.crash_id);

    const logs: string[] = [];
    const second = await openStorage(dir.path, (l) => logs.push(l));
    expect(second.opened.replayed).toBe(1);
    expect(logs.join('\n')).toMatch(/could not be read back/);
    expect((await readdir(join(dir.path, 'journal'))).some((n) => n.endsWith('.log.unreadable'))).toBe(true);
    await second.storage.drained();
    expect(await second.folders.getRaw(good.crash_id)).not.toBeNull();
    await second.storage.close();
    await first.storage.close();
    await dir.cleanup();
  });

  it('replays a segment written before segments had keys, resynchronising after damage in it as before', async () => {
    const dir = await tempDir();
    await openStorage(dir.path).then(({ storage }) => storage.close()); // the journal folders
    await rm(join(dir.path, 'journal', '000001.log'));
    // Four records as the release before keys wrote them: wire form (v2) and raw crash with files (v1).
    const wire = [1, 4].map((i) => submission(createCrashId(), { ProductName: 'Shop', Seq: String(i), JSStack: 'a@x.js:1:2\r\nb@x.js:3:4' }));
    const v1 = [2, 3].map((i) => raw(i));
    const records = [
      legacyRecord({ v: 2, crash_id: wire[0]!.raw.crash_id, submitted_at: wire[0]!.raw.submitted_at, metadata: METADATA, boundary: wire[0]!.boundary }, [wire[0]!.body]),
      ...v1.map((r) => legacyRecord({ raw: r, files: [{ name: 'upload_file_minidump', size: 3 }] }, [Buffer.from(`ab${r.annotations.Seq}`)])),
      legacyRecord({ v: 2, crash_id: wire[1]!.raw.crash_id, submitted_at: wire[1]!.raw.submitted_at, metadata: METADATA, boundary: wire[1]!.boundary }, [wire[1]!.body]),
    ];
    // The third is damaged in the middle.
    records[2]!.fill(0, 30, 40);
    const old = Buffer.concat(records);
    await writeFile(join(dir.path, 'journal', '000001.log'), old);

    const logs: string[] = [];
    const { storage, folders, opened } = await openStorage(dir.path, (l) => logs.push(l));
    expect(opened.replayed).toBe(3);
    expect(logs.join('\n')).toMatch(/000001\.log: bytes \d+ to \d+ are damaged; reading goes on after them/);
    expect(await readFile(join(dir.path, 'journal', '000001.log.unreadable'))).toEqual(old);
    await storage.drained();
    expect(await folders.getRaw(wire[0]!.raw.crash_id)).toEqual(wire[0]!.raw);
    expect(await folders.getRaw(wire[1]!.raw.crash_id)).toEqual(wire[1]!.raw);
    expect(await folders.getRaw(v1[0]!.crash_id)).toEqual(v1[0]);
    expect(Buffer.from((await folders.getFile(v1[0]!.crash_id, 'upload_file_minidump'))!).toString()).toBe('ab2');
    expect(await folders.getRaw(v1[1]!.crash_id)).toBeNull();
    // What this start writes goes to a keyed segment.
    const after = raw(5);
    await storage.saveRaw(after, dump());
    expect(keyOfHeader(await readFile(join(dir.path, 'journal', '000002.log')))).not.toBeNull();
    await storage.close();
    await dir.cleanup();
  });

  /** A segment of crashes that wait in the journal (their folders cannot be written), its path and bytes. */
  async function journalOf(dataDir: string, crashes: RawCrash[], hostile?: RawCrash): Promise<{ path: string; bytes: Buffer }> {
    const { storage } = await openStorage(dataDir, undefined, undefined, undefined, FULL_DISK);
    for (const c of crashes) await storage.saveRaw(c, dump());
    if (hostile) {
      // A client's crash whose dump holds records naming crashes it made up.
      const { body, boundary } = submission(hostile.crash_id, { ProductName: 'Shop' });
      const forged = forgedRecords(hostile.annotations.ForgedA!, hostile.annotations.ForgedB!);
      const withDump = Buffer.concat([body.subarray(0, body.lastIndexOf(`--${boundary}--`)), Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="d"\r\n\r\n`), forged, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      await storage.saveRaw(hostile, new Map(), { body: withDump, boundary });
    }
    await storage.close();
    const [name] = await segments(dataDir);
    const path = join(dataDir, 'journal', name!);
    return { path, bytes: await readFile(path) };
  }

  it('takes a segment\'s key from its first record when its header is damaged', async () => {
    const dir = await tempDir();
    const crashes = [raw(1), raw(2), raw(3)];
    const { path, bytes } = await journalOf(dir.path, crashes);
    bytes.fill(0, 0, SEGMENT_HEADER_BYTES);
    await writeFile(path, bytes);

    const logs: string[] = [];
    const { storage, stored, opened } = await openStorage(dir.path, (l) => logs.push(l));
    expect(opened.replayed).toBe(3);
    expect(logs.join('\n')).toMatch(/its header is damaged; its key was taken from its first record/);
    expect(logs.join('\n')).toMatch(/copied 000001\.log to 000001\.log\.unreadable: 16 bytes in it are damaged/);
    await storage.drained();
    expect(stored.sort()).toEqual(crashes.map((c) => c.crash_id).sort());
    await storage.close();
    await dir.cleanup();
  });

  it('replays nothing from a segment whose header and first record are damaged, not even records hidden in a body, and keeps it', async () => {
    const dir = await tempDir();
    const [forgedA, forgedB] = [createCrashId(), createCrashId()];
    const hostile = { ...raw(9), annotations: { ProductName: 'Shop', ForgedA: forgedA, ForgedB: forgedB } };
    const crashes = [raw(1), raw(2)];
    const { path, bytes } = await journalOf(dir.path, crashes, hostile);
    // Zeros over the header and the start of the first record: its key is gone.
    bytes.fill(0, 0, SEGMENT_HEADER_BYTES + 12);
    await writeFile(path, bytes);

    const logs: string[] = [];
    const { storage, folders, opened } = await openStorage(dir.path, (l) => logs.push(l));
    expect(opened.replayed).toBe(0);
    expect(logs.join('\n')).toMatch(/its header and its first record are damaged, so its key is lost .* none of it is replayed/);
    expect(await readFile(`${path}.unreadable`)).toEqual(bytes);
    await storage.drained();
    for (const id of [forgedA, forgedB, hostile.crash_id, ...crashes.map((c) => c.crash_id)]) expect(await folders.getRaw(id)).toBeNull();
    await storage.close();
    await dir.cleanup();
  });

  it('cuts off a segment that is only a header cut short (nothing in it was answered)', async () => {
    const dir = await tempDir();
    await openStorage(dir.path).then(({ storage }) => storage.close());
    await writeFile(join(dir.path, 'journal', '000001.log'), Buffer.from('SCJ2\x01\x02', 'latin1'));
    const logs: string[] = [];
    const { storage, opened } = await openStorage(dir.path, (l) => logs.push(l));
    expect(opened.replayed).toBe(0);
    expect(logs.join('\n')).toMatch(/000001\.log has 6 bytes of an unfinished header and no record; cut off/);
    expect(await readdir(join(dir.path, 'journal'))).not.toContain('000001.log.unreadable');
    expect(await segments(dir.path)).toEqual(['000002.log']);
    await storage.close();
    await dir.cleanup();
  });
});
