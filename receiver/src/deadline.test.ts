import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { deadline, eitherSignal } from './deadline.ts';

it('ends a call to a server that never answers, garbage collections or not', async () => {
  const server = createServer((req) => req.resume()); // takes the request, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Garbage made meanwhile: on Node 20 a collection can take AbortSignal.any's timeout and the call waits for ever.
  const churn = setInterval(() => Array.from({ length: 200_000 }, (_, i) => ({ i })), 20);
  const stop = new AbortController();
  try {
    for (let round = 0; round < 3; round++) {
      const call = deadline(300, stop.signal);
      const started = performance.now();
      const err = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: '{}', signal: call.signal }).then(
        () => null,
        (e: Error) => e,
      );
      call.clear();
      expect(err?.name).toBe('TimeoutError');
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  } finally {
    clearInterval(churn);
    server.closeAllConnections();
    server.close();
  }
});

it('aborts with the reason of whichever signal aborts first, and lets go of them when cleared', () => {
  const a = new AbortController();
  const b = new AbortController();
  const either = eitherSignal([a.signal, b.signal]);
  b.abort(new Error('stopping'));
  expect(either.signal.aborted).toBe(true);
  expect((either.signal.reason as Error).message).toBe('stopping');
  const cleared = eitherSignal([a.signal]);
  cleared.clear();
  a.abort();
  expect(cleared.signal.aborted).toBe(false);
  const stopped = new AbortController();
  stopped.abort(new Error('already'));
  expect(deadline(10_000, stopped.signal).signal.aborted).toBe(true);
});
