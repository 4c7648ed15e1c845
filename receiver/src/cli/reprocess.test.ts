import { expect, it } from 'vitest';
import { reprocessCommand } from './reprocess.ts';

it('says a reprocess still queuing (202 from a receiver with many crashes) goes on, and where to see when it is done', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const asked: { url: string; body: unknown }[] = [];
  // The receiver's answer when reading a large store outlasts its answer wait (api-sourcemaps.ts).
  const fetchImpl = (async (url: string, init: RequestInit) => {
    asked.push({ url, body: JSON.parse(String(init.body)) });
    return new Response(JSON.stringify({ queuing: true, message: 'still reading and queuing' }), { status: 202, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  const code = await reprocessCommand(['--url', 'https://crashes.example.com', '--token', 'x'.repeat(16), '--all-apps'], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} }, fetchImpl);
  expect({ code, err }).toEqual({ code: 0, err: [] });
  expect(asked).toEqual([{ url: 'https://crashes.example.com/api/reprocess', body: { all: true } }]);
  expect(out).toEqual(['queuing the crashes of every app for processing; the receiver\'s log says how many when it is done (a line "reprocess: …: N crashes queued")']);
});
