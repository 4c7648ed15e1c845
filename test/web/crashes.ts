import { createHash } from 'node:crypto';
import { createCrashId } from '../../shared/src/crash-id.ts';
import type { CrashIndex } from '../../receiver/src/index/crash-index.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import type { CrashStorage, ProcessedCrash, ProcessedFrame, RawCrash } from '../../receiver/src/storage/types.ts';

/** A stable URL-safe ID of a signature text, the way a processor makes one. */
export function signatureIdOf(signature: string): string {
  return createHash('sha256').update(signature).digest('base64url').slice(0, 16);
}

export interface CrashSpec {
  signature: string;
  at?: Date;
  app?: string | null;
  product?: string;
  version?: string;
  /** Sent as the Environment annotation and kept by the processor; none when absent. */
  environment?: string;
  browser?: { name: string; version: string } | null;
  os?: string;
  urlPath?: string;
  mechanism?: string;
  errorType?: string;
  errorMessage?: string;
  frames?: ProcessedFrame[];
  notes?: string[];
  annotations?: Record<string, string>;
  files?: Record<string, { filename: string; data: Uint8Array }>;
}

export const APP_GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';

/** A symbolicated frame pointing into the app's own source, with source context. */
export function appFrame(fn: string, file: string, line: number): ProcessedFrame {
  return {
    function: 'a',
    url: 'https://shop.example/static/app.3f9a1c.js',
    line: 1,
    column: 1042,
    category: 'app',
    original: {
      file,
      line,
      column: 5,
      function: fn,
      context: { pre: ['function total(cart) {'], line: '  return cart.total + shipping;', post: ['}'] },
    },
  };
}

/** The processed crash a processor would make for `spec` (raw crash included). */
export function makeCrash(spec: CrashSpec): { raw: RawCrash; processed: ProcessedCrash; files: Map<string, Uint8Array> } {
  const at = spec.at ?? new Date();
  const crashId = createCrashId(at);
  const files = new Map(Object.entries(spec.files ?? {}).map(([name, f]) => [name, f.data]));
  const raw: RawCrash = {
    crash_id: crashId,
    submitted_at: at.toISOString(),
    annotations: {
      ProductName: spec.product ?? 'Shop',
      Version: spec.version ?? '1.4.2',
      WebAppGUID: spec.app ?? APP_GUID,
      URL: `https://shop.example${spec.urlPath ?? '/cart'}`,
      JSErrorType: spec.errorType ?? 'TypeError',
      JSErrorMessage: spec.errorMessage ?? 'cart is undefined',
      JSStack: 'a@https://shop.example/static/app.3f9a1c.js:1:1042',
      JSMechanism: spec.mechanism ?? 'onerror',
      UserAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0',
      ...(spec.environment === undefined ? {} : { Environment: spec.environment }),
      ...spec.annotations,
    },
    files: Object.entries(spec.files ?? {}).map(([name, f]) => ({
      name,
      filename: f.filename,
      size: f.data.byteLength,
      contentType: 'application/octet-stream',
    })),
    metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
  };
  const processed: ProcessedCrash = {
    crash_id: crashId,
    submitted_at: at.toISOString(),
    processed_at: at.toISOString(),
    signature: spec.signature,
    signature_id: signatureIdOf(spec.signature),
    notes: spec.notes ?? [],
    frames: spec.frames ?? [],
    app_guid: spec.app === undefined ? APP_GUID : spec.app,
    product: spec.product ?? 'Shop',
    version: spec.version ?? '1.4.2',
    environment: spec.environment ?? null,
    error_type: spec.errorType ?? 'TypeError',
    error_message: spec.errorMessage ?? 'cart is undefined',
    mechanism: spec.mechanism ?? 'onerror',
    browser: spec.browser === undefined ? { name: 'Firefox', version: '153.0' } : spec.browser,
    os: spec.os ?? 'Linux',
    url_path: spec.urlPath ?? '/cart',
  };
  return { raw, processed, files };
}

/**
 * A running receiver's crash folders and index, written directly: crashes added this way skip
 * the work queue, so the receiver's own processor leaves our hand-made processed crashes alone.
 */
export function direct(r: { dataDir: string; index: CrashIndex }): { storage: CrashStorage; index: CrashIndex } {
  return { storage: new FsCrashStorage(r.dataDir), index: r.index };
}

/** Stores a crash raw and processed, and indexes it, as the processor's hook does. */
export async function addCrash(target: { storage: CrashStorage; index: CrashIndex }, spec: CrashSpec): Promise<ProcessedCrash> {
  const { raw, processed, files } = makeCrash(spec);
  await target.storage.saveRaw(raw, files);
  await target.storage.saveProcessed(processed);
  target.index.upsert(processed);
  return processed;
}

export const DAY = 86_400_000;

/** `n` days before now, at the same time of day. */
export function daysAgo(n: number, now = Date.now()): Date {
  return new Date(now - n * DAY);
}
