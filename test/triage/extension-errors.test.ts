import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook.ts';
import { BEARER, getJson, logIn, putStatus } from './session.ts';

const GUID = '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10';
/** The app's own error, and one thrown by an extension's content scripts with the same message. */
const APP = jsCrashFields({ JSErrorMessage: 'x is null', JSStack: 'render@https://shop.example/app.js:1:10\nmount@https://shop.example/app.js:1:99' });
const EXTENSION = jsCrashFields({
  JSErrorMessage: 'x is null',
  JSStack: 'inject@moz-extension://0f6c7a0e-1111-4e2b-9c3d-5a6b7c8d9e0f/content.js:4:2\n@moz-extension://0f6c7a0e-1111-4e2b-9c3d-5a6b7c8d9e0f/content.js:9:1',
  JSFilename: 'moz-extension://0f6c7a0e-1111-4e2b-9c3d-5a6b7c8d9e0f/content.js',
});

const APP_SIGNATURE = 'TypeError: render | mount';

interface Top {
  signatures: number;
  hidden: { signatures: number; count: number };
  rows: { signature: string; signature_id: string; status: string; count: number }[];
}

describe("errors thrown by browser extensions' scripts", () => {
  let hook: WebhookSink;
  let r: TestReceiver;
  const top = (query = '') => getJson<Top>(`${r.url}/api/apps/${GUID}/topcrashers?days=1${query}`);
  let extensionId = '';

  beforeAll(async () => {
    hook = await startWebhookSink();
    r = await startTestReceiver({ webhookUrl: hook.url });
    for (const fields of [EXTENSION, EXTENSION, APP]) expect((await submitCrash(`${r.url}/submit`, fields, [])).status).toBe(200);
    await waitFor("the app error's alert", () => hook.events.some((e) => e.signature === APP_SIGNATURE));
    // Several processors run at once, so the app's crash is not always the last one indexed.
    const extensionRow = await waitFor("both of the extension's crashes indexed", async () => {
      const found = (await top('&ignored=1')).rows.find((row) => row.signature.endsWith('| <browser extension>'));
      return found?.count === 2 ? found : undefined;
    });
    extensionId = extensionRow.signature_id;
  });
  afterAll(async () => {
    await r?.stop();
    hook?.close();
  });

  it('are ignored by default: left out of top crashers and counted as hidden, and they never alert', async () => {
    const shown = await top();
    expect(shown.rows.map((row) => row.signature)).toEqual([APP_SIGNATURE]);
    expect(shown.hidden).toEqual({ signatures: 1, count: 2 });
    const all = await top('&ignored=1');
    expect(all.rows.find((row) => row.signature_id === extensionId)).toMatchObject({ signature: 'TypeError: Cannot read properties of null | <browser extension>', status: 'ignored' });
    expect(hook.events.map((e) => e.signature)).toEqual([APP_SIGNATURE]);
    expect(await getJson(`${r.url}/api/signatures/${extensionId}`)).toMatchObject({
      status: 'ignored',
      triage: null,
      ignored_by_default: expect.stringContaining('browser extension'),
    });
  });

  it('say so on the signature page, which offers to reopen them', async () => {
    const { cookie } = await logIn(r);
    const html = await (await fetch(`${r.url}/signatures/${extensionId}`, { headers: { cookie } })).text();
    expect(html).toContain("Ignored by default: every script in its stacks is a browser extension&#39;s, not the app&#39;s");
    expect(html).toMatch(/<button[^>]*value="open"[^>]*>Reopen<\/button>/);
    expect(html).not.toMatch(/value="ignored"/);
  });

  it('once reopened, are listed like any signature, and stay reopened after a restart', async () => {
    const put = await putStatus(r, extensionId, { status: 'open' });
    expect(await put.json()).toMatchObject({ status: 'open', triage: { status: 'open' }, ignored_by_default: null });
    expect((await top()).rows.map((row) => row.signature_id)).toContain(extensionId);
    const { cookie } = await logIn(r);
    const html = await (await fetch(`${r.url}/signatures/${extensionId}`, { headers: { cookie } })).text();
    expect(html).toContain('<strong class="status">Open</strong>');
    await r.triage.flushed();
    const again = await startTestReceiver({ dataDir: r.dataDir });
    try {
      await again.indexRebuilt;
      const res = await fetch(`${again.url}/api/signatures/${extensionId}`, { headers: BEARER });
      expect(await res.json()).toMatchObject({ status: 'open', triage: { status: 'open' } });
    } finally {
      await again.close();
    }
    // Ignoring it again is the stored status, as for any signature.
    expect(await (await putStatus(r, extensionId, { status: 'ignored' })).json()).toMatchObject({ status: 'ignored', triage: { status: 'ignored' }, ignored_by_default: null });
  });
});
