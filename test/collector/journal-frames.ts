import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { boundaryOf } from '../../receiver/src/collector/multipart.ts';
import { decodeSubmission, rawCrashFrom } from '../../receiver/src/collector/parse.ts';
import { encodeRecord } from '../../receiver/src/storage/journal-appender.ts';
import type { RawCrash } from '../../receiver/src/storage/types.ts';
import { multipart } from './multipart.ts';

/** Journal records built by hand or by the real encoder, for tests of replay after damage. */

const LIMITS = { maxBodyBytes: 1 << 20, maxDecompressedBytes: 1 << 20, maxAnnotationBytes: 1 << 20, maxAnnotations: 100, maxFiles: 5 };
export const METADATA: RawCrash['metadata'] = { throttle_rule: 'accept_everything', content_encoding: 'identity' };

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/**
 * A record as releases before segment keys wrote it, built by hand from the format (not by our
 * encoder): "SCJ1", u32 payload length, u32 crc32, then the payload: u32 header length, header
 * JSON, the blobs.
 */
export function legacyRecord(header: object, blobs: Buffer[]): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const payload = Buffer.concat([u32(json.length), json, ...blobs]);
  return Buffer.concat([Buffer.from('SCJ1', 'latin1'), u32(payload.length), u32(crc32(payload)), payload]);
}

/** A submission (its multipart body and the crash the collector makes of it) for a crash ID and app of the sender's choosing. */
export function submission(crashId: string, fields: Record<string, string>): { body: Buffer; boundary: string; raw: RawCrash } {
  const { body, contentType } = multipart(Object.entries(fields).map(([name, value]) => ({ name, value })));
  const boundary = boundaryOf(contentType)!;
  const raw = rawCrashFrom(crashId, new Date().toISOString(), METADATA, decodeSubmission(body, boundary, LIMITS));
  return { body, boundary, raw };
}

const FORGED = { ProductName: 'Forged', WebAppGUID: '00000000-0000-4000-8000-000000000000', JSErrorMessage: 'not a crash anyone had' };

/**
 * What a client can hide in a crash body to pass for journal records naming the crashes it
 * chose: a record in the format from before keys (anyone can build one), and one by the real
 * encoder behind a guessed segment key.
 */
export function forgedRecords(legacyId: string, guessedKeyId: string): Buffer {
  const old = submission(legacyId, FORGED);
  const keyed = submission(guessedKeyId, FORGED);
  return Buffer.concat([
    legacyRecord({ v: 2, crash_id: legacyId, submitted_at: old.raw.submitted_at, metadata: METADATA, boundary: old.boundary }, [old.body]),
    randomBytes(8),
    ...encodeRecord(keyed.raw, new Map(), { body: keyed.body, boundary: keyed.boundary }).buffers,
  ]);
}
