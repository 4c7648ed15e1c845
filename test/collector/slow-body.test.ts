// A client that trickles a submission body holds memory from the budget all submissions share:
// it is cut off when --submit-timeout has passed, and what it held is given back.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

it('answers 408 to a body that does not arrive in time, closes the connection, and frees what it held', async () => {
  // A budget one slow client fills: without the cut-off, everyone else would be refused as busy.
  const r = await startTestReceiver({ submitTimeoutMs: 400, maxPendingBytes: 64 * 1024, maxBodyBytes: 16 * 1024, maxDecompressedBytes: 16 * 1024 });
  try {
    const { port } = new URL(r.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (answer += d));
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    const part = `--B\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\n${'x'.repeat(12_000)}`;
    socket.write(`POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 15000\r\n\r\n${part}`);
    // The rest never comes; meanwhile the slow client holds 12 kB of a 64 kB budget (a quarter is its share).
    const started = Date.now();
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('Discarded=too_slow: the body did not arrive within 400 ms; send it again');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(Date.now() - started).toBeLessThan(5_000);
    // Its bytes are back in the budget: others are taken.
    const ok = await submitCrash(`${r.url}/submit`, jsCrashFields(), []);
    expect(ok.status).toBe(200);
  } finally {
    await r.stop();
  }
});
