import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { Config } from '../../receiver/src/config.ts';
import type { ForwardingStatus } from '../../receiver/src/forwarder/status.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';

export { freePort } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';

export const TOKEN = 'test-admin-token';

/** Retry timing small enough that a test waits milliseconds, not minutes. */
export const FAST_RETRY: Partial<Config> = {
  forwardRetryInitialMs: 40,
  forwardRetryMaxMs: 200,
  forwardTimeoutMs: 5_000,
};

export const FAST_RETRY_ARGS = ['--forward-retry-initial', '40ms', '--forward-retry-max', '200ms'];

export async function api(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

/** Registers `guid` on `master` through the API. */
export async function registerApp(
  master: { url: string },
  guid: string,
  submitUrl: string,
  options: { trust_files?: boolean; keep_copy?: boolean } = {},
): Promise<void> {
  const res = await api(master.url, `/api/forwarding/apps/${encodeURIComponent(guid)}`, {
    method: 'PUT',
    body: JSON.stringify({ submit_url: submitUrl, ...options }),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function forwardingOf(base: string, crashId: string): Promise<ForwardingStatus | null> {
  const res = await api(base, `/api/crashes/${crashId}/forwarding`);
  if (res.status !== 200) throw new Error(`forwarding status: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.forwarding as ForwardingStatus | null;
}

/** Waits until the crash's forwarding reaches a final state (not `queued`) and returns it. */
export function settled(base: string, crashId: string, timeoutMs?: number): Promise<ForwardingStatus> {
  return waitFor(
    `forwarding of ${crashId} to settle`,
    async () => {
      const s = await forwardingOf(base, crashId);
      return s && s.state !== 'queued' ? s : undefined;
    },
    timeoutMs,
  );
}

export async function submitTo(
  receiver: { url: string },
  overrides: Record<string, string> = {},
  files: { name: string; filename: string; data: Uint8Array; contentType?: string }[] = [],
): Promise<string> {
  const result = await submitCrash(`${receiver.url}/submit`, jsCrashFields(overrides), files);
  if (!result.crashId) throw new Error(`submit failed: ${result.status} ${result.body}`);
  return result.crashId.replace(/^bp-/, '');
}

/** Every crash a receiver holds, with its raw annotations. */
export async function crashesOn(receiver: TestReceiver): Promise<{ id: string; annotations: Record<string, string>; files: string[] }[]> {
  const out = [];
  for await (const id of receiver.storage.listCrashIds()) {
    const raw = await receiver.storage.getRaw(id);
    if (raw) out.push({ id, annotations: raw.annotations, files: raw.files.map((f) => f.name) });
  }
  return out;
}

/** A receiver started with fast forwarding retries. */
export function startReceiver(overrides: Partial<Config> = {}): Promise<TestReceiver> {
  return startTestReceiver({ ...FAST_RETRY, ...overrides });
}

/**
 * Receivers (and anything else) one test starts, stopped after it, the last started first.
 * Call once at the top of a test file: it registers its own afterEach.
 */
export function perTest(): { receiver: (overrides?: Partial<Config>) => Promise<TestReceiver>; cleanups: (() => Promise<unknown>)[] } {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  return {
    cleanups,
    receiver: async (overrides = {}) => {
      const r = await startReceiver(overrides);
      cleanups.push(() => r.stop());
      return r;
    },
  };
}

/** A plain HTTP server on loopback answering with `handler`; records each request's arrival time. */
export async function fakeServer(
  handler: (req: IncomingMessage, res: ServerResponse, n: number, body: Buffer) => void,
): Promise<{ url: string; hits: number[]; close: () => Promise<void> }> {
  const hits: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push(Date.now());
      handler(req, res, hits.length, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
