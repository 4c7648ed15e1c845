import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertEvent } from '../../receiver/src/notify/webhook.ts';

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
