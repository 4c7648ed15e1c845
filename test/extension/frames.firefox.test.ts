/**
 * Frames and documents of a declaring app that have no web address of their own (script-made
 * about:blank frames, srcdoc frames, blob: frames) and documents a page rewrites with
 * document.open(), in real headless Firefox with the built extension, against a real receiver:
 * their errors reach the receiver under the embedding app, each once, and frames that are not
 * the app's (opaque or another origin) stay unreported.
 */
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { crashesOf, extensionStorage, newGuid, useFirefoxWithExtension, useInlinePages, waitFor, waitForCrashes } from './harness.ts';

const env = useFirefoxWithExtension();

// Pages written inline, each on a loopback host of its own: one site per test, so the
// extension's per-site limits never mix the tests, and 127.0.0.1 is another origin for the
// cross-origin cases.
const pages = useInlinePages();

/** A page of app `guid` (null: a page that declares nothing) running `script` after load. */
function servePage(path: string, guid: string | null, script: string): void {
  const declaration = guid
    ? `<meta name="socorrito:guid" content="${guid}">
<meta name="socorrito:submit-url" content="${env.receiver.url}/submit">
<meta name="socorrito:release" content="1.0">`
    : '';
  pages.serve(path, `<!doctype html><html><head><meta charset="utf-8">${declaration}</head><body>
<script>addEventListener('load', () => setTimeout(() => { ${script} }));</script></body></html>`);
}

/** `value` as a JavaScript literal that can sit in an inline script. */
function js(value: string): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

/** Opens a new app running `script` on a host of its own. */
async function openApp(script: string): Promise<{ page: Page; guid: string; url: string }> {
  const guid = newGuid();
  servePage(`/${guid}`, guid, script);
  const url = pages.nextUrl(`/${guid}`);
  const page = await env.browser.newPage();
  await page.goto(url);
  return { page, guid, url };
}

/** Waits until the extension has nothing queued for the app, then checks how many reports the receiver has. */
async function expectOnlyReports(guid: string, count: number): Promise<void> {
  await waitFor(`no queued report for ${guid}`, async () => {
    const { reports } = await extensionStorage<{ reports: { status: string; annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
    return !reports.some((r) => r.annotations.WebAppGUID === guid && (r.status === 'queued' || r.status === 'sending'));
  });
  expect(await crashesOf(env.receiver, guid)).toHaveLength(count);
}

describe('frames without an address of their own', () => {
  it('reports an error thrown in a script-made about:blank frame under the embedding app, once', async () => {
    const { page, guid } = await openApp(`
      const f = document.createElement('iframe');
      document.body.append(f);
      f.contentWindow.eval("setTimeout(function blankTimer() { throw new TypeError('thrown in an about:blank frame'); })");
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    const a = crash!.annotations;
    expect(a.WebAppGUID).toBe(guid);
    expect(a.JSErrorType).toBe('TypeError');
    expect(a.JSErrorMessage).toBe('thrown in an about:blank frame');
    expect(a.JSStack).toMatch(/^blankTimer@/);
    // The frame's own address, as Firefox gives it; its site is the app's (the frame inherits it).
    expect(a.URL).toBe('about:blank');
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it("reports an error of an about:blank frame's function the app calls once, where it surfaces (the app's page)", async () => {
    const { page, guid, url } = await openApp(`
      const f = document.createElement('iframe');
      document.body.append(f);
      f.contentWindow.eval("function explode() { throw new RangeError('thrown by a frame function the app called'); }");
      setTimeout(() => f.contentWindow.explode());
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorType).toBe('RangeError');
    expect(crash!.annotations.JSErrorMessage).toBe('thrown by a frame function the app called');
    // The exception goes up into the app's timer, uncaught there: the page's error, not the frame's.
    expect(crash!.annotations.URL).toBe(url);
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('reports an error thrown in a srcdoc frame under the embedding app', async () => {
    const { page, guid } = await openApp(`
      const f = document.createElement('iframe');
      f.srcdoc = '<script>setTimeout(function srcdocTimer() { throw new SyntaxError("thrown in a srcdoc frame"); })<\\/script>';
      document.body.append(f);
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.WebAppGUID).toBe(guid);
    expect(crash!.annotations.JSErrorType).toBe('SyntaxError');
    expect(crash!.annotations.JSErrorMessage).toBe('thrown in a srcdoc frame');
    expect(crash!.annotations.URL).toBe('about:srcdoc');
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('reports an error thrown in a blob: frame the app made under the app', async () => {
    const { page, guid, url } = await openApp(`
      const html = '<script>setTimeout(function blobTimer() { throw new EvalError("thrown in a blob frame"); })<\\/script>';
      const f = document.createElement('iframe');
      f.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      document.body.append(f);
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.WebAppGUID).toBe(guid);
    expect(crash!.annotations.JSErrorType).toBe('EvalError');
    expect(crash!.annotations.JSErrorMessage).toBe('thrown in a blob frame');
    expect(crash!.annotations.URL).toMatch(new RegExp(`^blob:${new URL(url).origin.replaceAll('.', '\\.')}/[0-9a-f-]{36}$`));
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it("never reports a data: frame, a sandboxed srcdoc frame or an about:blank frame of another origin's frame under the app", async () => {
    // Each of them tells the app when its error has been handed on (the relay event is visible
    // to the page); the app then throws its own, and when that one has arrived, the frames' would
    // have arrived before it.
    const other = newGuid();
    servePage(`/${other}`, null, `
      const f = document.createElement('iframe');
      document.body.append(f);
      f.contentDocument.addEventListener('socorrito:errors', () => top.postMessage('relayed', '*'));
      f.contentWindow.eval("setTimeout(() => { throw new Error('thrown in a frame of another origin'); })");
    `);
    const frameHtml = (message: string): string =>
      `<script>document.addEventListener('socorrito:errors', () => parent.postMessage('relayed', '*'));
       setTimeout(() => { throw new Error('${message}'); });</script>`;
    const { page, guid } = await openApp(`
      let relayed = 0;
      addEventListener('message', (e) => {
        if (e.data === 'relayed' && ++relayed === 3) setTimeout(() => { throw new Error('the app, last'); });
      });
      const data = document.createElement('iframe');
      data.src = ${js(`data:text/html,${encodeURIComponent(frameHtml('thrown in a data frame'))}`)};
      const sandboxed = document.createElement('iframe');
      sandboxed.sandbox = 'allow-scripts';
      sandboxed.srcdoc = ${js(frameHtml('thrown in a sandboxed frame'))};
      const cross = document.createElement('iframe');
      cross.src = 'http://127.0.0.1:${pages.port()}/${other}';
      document.body.append(data, sandboxed, cross);
    `);
    const crashes = await waitForCrashes(env.receiver, guid);
    expect(crashes.map((c) => c.annotations.JSErrorMessage)).toEqual(['the app, last']);
    await expectOnlyReports(guid, 1);
    const { reports } = await extensionStorage<{ reports: { annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
    expect(reports.filter((r) => /thrown in a (data|sandboxed) frame|another origin/.test(r.annotations.JSErrorMessage ?? ''))).toEqual([]);
    await page.close();
  });
});

describe('documents rewritten with document.open()', () => {
  const CASES = [
    { name: 'document.open(), write() and close()', rewrite: "document.open(); document.write('<p>rewritten</p>'); document.close();" },
    { name: 'a document.write() after load (an implied document.open())', rewrite: "document.write('<p>rewritten</p>'); document.close();" },
  ];

  it.each(CASES)('reports errors after $name', async ({ rewrite }) => {
    const { page, guid } = await openApp(`
      ${rewrite}
      setTimeout(function afterRewrite() { throw new TypeError('thrown after the page rewrote itself'); });
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('thrown after the page rewrote itself');
    expect(crash!.annotations.JSStack).toMatch(/^afterRewrite@/);
    expect(await page.evaluate(() => document.body.textContent)).toBe('rewritten');
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('reports errors in an about:blank frame the app writes a document into', async () => {
    const { page, guid, url } = await openApp(`
      const f = document.createElement('iframe');
      document.body.append(f);
      const d = f.contentDocument;
      d.open();
      d.write('<p>widget</p><script>setTimeout(function writtenTimer() { throw new Error("thrown in a written frame"); })<\\/script>');
      d.close();
    `);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.WebAppGUID).toBe(guid);
    expect(crash!.annotations.JSErrorMessage).toBe('thrown in a written frame');
    // document.open() gives the frame the address of the document that called it: the app's page.
    expect(crash!.annotations.URL).toBe(url);
    await expectOnlyReports(guid, 1);
    await page.close();
  });
});
