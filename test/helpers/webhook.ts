import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AlertEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver, tempDir, type TestReceiver } from './receiver.ts';
import { submitCrash } from './submit.ts';
import { waitFor } from './wait.ts';

/** A chat's incoming webhook stand-in: takes every event with 204 and keeps it. */
export interface WebhookSink {
  url: string;
  events: AlertEvent[];
  close(): void;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const events: AlertEvent[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      events.push(JSON.parse(body) as AlertEvent);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events, close: () => server.close() };
}

/** A receiver on `dataDir` takes one crash, announces its new signature to `hook`, and stops. */
export async function alertedOnce(dataDir: string, hook: WebhookSink, fields: Record<string, string>): Promise<void> {
  const first = await startTestReceiver({ dataDir, webhookUrl: hook.url });
  try {
    expect((await submitCrash(`${first.url}/submit`, fields, [])).status).toBe(200);
    await waitFor('the first alert', () => hook.events.length === 1);
  } finally {
    await first.close();
  }
}

/** Removes the index, as restoring a backup does (README): the next start builds it again. */
export async function removeIndex(dataDir: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, `index.sqlite${suffix}`), { force: true });
}

/** Resolves once the receiver's alerts have gone out, and a moment more, so one on its way is not missed. */
export async function alertsSettled(receiver: { webhook: { stats(): { waiting: number } } | null }): Promise<void> {
  await waitFor('alerts sent', () => receiver.webhook!.stats().waiting === 0);
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * Runs `body` with a data dir whose receiver already announced `fields`' signature once (see
 * alertedOnce) and the hook that got it; both are cleaned up after.
 */
export async function afterOneAlert(fields: Record<string, string>, body: (dataDir: string, hook: WebhookSink) => Promise<void>): Promise<void> {
  const hook = await startWebhookSink();
  const dir = await tempDir();
  try {
    await alertedOnce(dir.path, hook, fields);
    await body(dir.path, hook);
  } finally {
    hook.close();
    await dir.cleanup();
  }
}

/** Starts a receiver on `dataDir` alerting `hook`, has it take and process one crash of `fields`, runs `check`, and stops it. */
export async function submitAfterRestart(
  dataDir: string,
  hook: WebhookSink,
  fields: Record<string, string>,
  check: (receiver: TestReceiver) => Promise<void>,
  processedWithinMs?: number,
): Promise<void> {
  const receiver = await startTestReceiver({ dataDir, webhookUrl: hook.url });
  try {
    expect((await submitCrash(`${receiver.url}/submit`, fields, [])).status).toBe(200);
    await waitFor('the crash processed', () => receiver.processing.processor.stats.processed === 1, processedWithinMs);
    await check(receiver);
  } finally {
    await receiver.close();
  }
}
