import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import type { NewSignatureEvent } from '../../receiver/src/notify/webhook.ts';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';

it('tells the webhook once per new signature, with links to it', async () => {
  const events: NewSignatureEvent[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      events.push(JSON.parse(body) as NewSignatureEvent);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const r = await startTestReceiver({ webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` });
  try {
    const cart = jsCrashFields({ JSStack: 'total@https://shop.example/app.js:1:10\ncheckout@https://shop.example/app.js:1:99' });
    // Crash data cannot ping a chat channel or plant a link: <, > and & reach the chat escaped.
    const other = jsCrashFields({ ProductName: 'Shop <!here>', JSErrorType: 'RangeError', JSErrorMessage: 'bad length', JSStack: '<!channel>&more@https://shop.example/app.js:1:500' });
    for (const fields of [cart, cart, other, cart]) expect((await submitCrash(`${r.url}/submit`, fields, [])).status).toBe(200);
    const deadline = Date.now() + 15_000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 500)); // and no third one
    expect(events.map((e) => e.error_type).sort()).toEqual(['RangeError', 'TypeError']);
    const typeError = events.find((e) => e.error_type === 'TypeError')!;
    expect(typeError).toMatchObject({ event: 'new_signature', product: 'Shop', version: '1.4.2', app: cart.WebAppGUID });
    expect(typeError.text).toBe(`New crash signature in Shop 1.4.2: ${typeError.signature} — ${r.url}/signatures/${typeError.signature_id}`);
    expect(typeError.report_url).toMatch(new RegExp(`^${r.url}/report/bp-[0-9a-f-]{36}$`));
    const rangeError = events.find((e) => e.error_type === 'RangeError')!;
    expect(rangeError.text).not.toMatch(/[<>]/);
    expect(rangeError.text).toContain('Shop &lt;!here&gt;');
    expect(rangeError.text).toContain('RangeError: &lt;!channel&gt;&amp;more');
    expect(rangeError.product).toBe('Shop <!here>'); // the fields stay as they are
    const page = await fetch(typeError.signature_url, { headers: { authorization: `Bearer ${r.adminToken}` } });
    expect(page.status).toBe(200);
  } finally {
    await r.stop();
    hook.close();
  }
});
