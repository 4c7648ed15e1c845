/**
 * End to end in real headless Firefox ESR with the built extension installed as a temporary
 * add-on, against a real receiver: each way a web app can fail is captured in the page's world,
 * packaged with the fields of DESIGN.md and stored by the receiver with a real Firefox stack.
 */
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import {
  RELEASE,
  countRelays,
  crashesOf,
  storedCrashes,
  extensionStorage,
  newGuid,
  waitFor,
  waitForCrashes,
  waitForRelay,
  useFirefoxWithExtension,
  showExtensionPage,
} from './harness.ts';

const env = useFirefoxWithExtension();

/** Opens the fixture app as a new app (its own GUID) running `fixtureCase`. */
async function openCase(fixtureCase: string, guid = newGuid(), file = 'index.html'): Promise<{ page: Page; guid: string }> {
  const page = await env.browser.newPage();
  await page.goto(`${env.fixture.url}/${file}?case=${fixtureCase}&guid=${guid}`);
  return { page, guid };
}

const FIREFOX_FRAME = (fn: string, file: string): RegExp => new RegExp(`(^|\\n)${fn}@http://127\\.0\\.0\\.1:\\d+/${file.replace('.', '\\.')}:\\d+:\\d+`);

describe('capture in Firefox', () => {
  it('reports an uncaught TypeError thrown in a timer with every field and a real Firefox stack', async () => {
    const { page, guid } = await openCase('timer');
    const [crash] = await waitForCrashes(env.receiver, guid);
    const a = crash!.annotations;
    expect(a.WebAppGUID).toBe(guid);
    expect(a.ProductName).toBe('Fixture Shop');
    expect(a.Version).toBe(RELEASE);
    expect(a.Environment).toBe('staging');
    expect(a.SubmitURL).toBe(`${env.receiver.url}/submit`);
    expect(a.JSErrorType).toBe('TypeError');
    expect(a.JSErrorMessage).toMatch(/order is null|null/);
    expect(a.JSMechanism).toBe('onerror');
    expect(a.JSStack).toMatch(FIREFOX_FRAME('timerCallback', 'app.js'));
    expect(a.JSFilename).toBe(`${env.fixture.url}/app.js`);
    expect(Number(a.JSLine)).toBeGreaterThan(0);
    expect(Number(a.JSColumn)).toBeGreaterThan(0);
    expect(a.JSRepeatCount).toBe('1');
    expect(Math.abs(Number(a.CrashTime) - Date.now() / 1000)).toBeLessThan(120);
    expect(a.UserAgent).toMatch(/Firefox\/\d+/);
    // Query strings and fragments are stripped by default, from the page URL and every stack URL.
    expect(a.URL).toBe(`${env.fixture.url}/index.html`);
    expect(a.JSStack).not.toContain('?');
    expect(a.JSStack).not.toContain('s3cret');
    // The same crash through the receiver's JSON API.
    const response = await fetch(`${env.receiver.url}/api/crashes/bp-${crash!.crash_id}`, { headers: { authorization: 'Bearer test-admin-token' } });
    expect(response.status).toBe(200);
    const { raw } = (await response.json()) as { raw: { annotations: Record<string, string> } };
    expect(raw.annotations).toEqual(a);
    await page.close();
  });

  // Each way a web app can fail, as DESIGN.md's JSMechanism and a real Firefox stack show it.
  const CASES = [
    { name: 'a classic script while it runs', fixtureCase: 'script', type: 'TypeError', mechanism: 'onerror', frame: ['loadCart', 'app.js'] },
    { name: 'an addEventListener handler', fixtureCase: 'event', type: 'RangeError', mechanism: 'onerror', frame: ['clickHandler', 'app.js'], message: 'quantity out of range' },
    { name: 'an inline onclick handler', fixtureCase: 'inline', type: 'ReferenceError', mechanism: 'onerror', frame: ['onclick', 'index.html'], message: 'checkoutInline is not defined' },
    { name: 'a module script', fixtureCase: 'module', type: 'TypeError', mechanism: 'onerror', frame: ['applyCoupon', 'module.js'] },
    { name: 'a promise rejected with an Error', fixtureCase: 'rejection-error', type: 'SyntaxError', mechanism: 'unhandledrejection', frame: ['fetchPrices', 'app.js'], message: 'bad price list' },
  ] as const;

  it.each(CASES)('reports an error from $name', async ({ fixtureCase, type, mechanism, frame, ...rest }) => {
    const { page, guid } = await openCase(fixtureCase);
    const [crash] = await waitForCrashes(env.receiver, guid);
    const a = crash!.annotations;
    expect(a.JSErrorType).toBe(type);
    expect(a.JSMechanism).toBe(mechanism);
    if ('message' in rest) expect(a.JSErrorMessage).toBe(rest.message);
    expect(a.JSStack).toMatch(FIREFOX_FRAME(frame[0], frame[1]));
    expect(a.JSStack).not.toContain('?');
    expect(a.URL).toBe(`${env.fixture.url}/index.html`);
    expect(a.JSFilename).toMatch(new RegExp(`^${env.fixture.url}/(app\\.js|module\\.js|index\\.html)$`));
    expect(Number(a.JSLine)).toBeGreaterThan(0);
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('reports a promise rejected with a value that is not an Error', async () => {
    const { page, guid } = await openCase('rejection-value');
    const [crash] = await waitForCrashes(env.receiver, guid);
    const a = crash!.annotations;
    expect(a.JSErrorType).toBe('UnhandledRejection');
    expect(a.JSMechanism).toBe('unhandledrejection');
    expect(a.JSErrorMessage).toBe('Object captured as promise rejection with keys: code, reason');
    expect(a.JSStack).toBe('');
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('sends only the constructor and key names of a non-Error object a page rejects or throws, never its values', async () => {
    const { page, guid } = await openCase('none');
    // Plain page script (a string: it runs as the page wrote it).
    await page.evaluate(`
      void Promise.reject({ password: 'hunter2', code: 42 });
      setTimeout(() => { throw { code: 7, password: 'hunter2' }; });
      class CheckoutFailure { constructor() { this.step = 'pay'; this.card = '4111 1111 1111 1111'; } }
      void Promise.reject(new CheckoutFailure());
      void Promise.reject(['hunter2', 42]);
      void Promise.reject('short reason ' + 'x'.repeat(5000));
      void Promise.reject(function login() { return 'hunter2'; });
    `);
    const crashes = await waitForCrashes(env.receiver, guid, 6);
    const messages = crashes.map((c) => `${c.annotations.JSMechanism} ${c.annotations.JSErrorType}: ${c.annotations.JSErrorMessage}`).sort();
    expect(messages.map((m) => m.slice(0, 200))).toEqual([
      'onerror Error: Object captured as exception with keys: code, password',
      'unhandledrejection UnhandledRejection: Array captured as promise rejection with 2 items',
      'unhandledrejection UnhandledRejection: CheckoutFailure captured as promise rejection with keys: card, step',
      'unhandledrejection UnhandledRejection: Function captured as promise rejection with no keys',
      `unhandledrejection UnhandledRejection: Non-Error promise rejection captured with value: short reason ${'x'.repeat(5000)}`,
      'unhandledrejection UnhandledRejection: Object captured as promise rejection with keys: code, password',
    ].map((m) => m.slice(0, 200)));
    for (const crash of crashes) {
      expect(crash.annotations.JSErrorMessage!.length).toBeLessThanOrEqual(2_000);
      expect(JSON.stringify(crash.annotations)).not.toMatch(/hunter2|4111 1111/);
    }
    await expectOnlyReports(guid, 6);
    await page.close();
  });

  it('reports an error in a same-origin iframe under the embedding app', async () => {
    const { page, guid } = await openCase('iframe');
    const [crash] = await waitForCrashes(env.receiver, guid);
    const a = crash!.annotations;
    expect(a.WebAppGUID).toBe(guid);
    expect(a.JSErrorType).toBe('EvalError');
    expect(a.JSErrorMessage).toBe('widget broke in a frame');
    expect(a.URL).toBe(`${env.fixture.url}/frame.html`);
    expect(a.JSStack).toMatch(FIREFOX_FRAME('frameWidget', 'frame.js'));
    await page.close();
  });

  it('names an app that declares no name by its host, never by the page title (page content)', async () => {
    const { page, guid } = await openCase('timer', newGuid(), 'titled.html');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.ProductName).toBe(new URL(env.fixture.url).host);
    expect(JSON.stringify(crash!.annotations)).not.toContain('jane.doe');
    await page.close();
  });

  it('reads the identity from the web app manifest when there are no meta tags', async () => {
    const { page, guid } = await openCase('none', newGuid(), 'manifest-app.html');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.ProductName).toBe('PWA');
    expect(crash!.annotations.Version).toBe(RELEASE);
    expect(crash!.annotations.Environment).toBe('production');
    expect(crash!.annotations.JSStack).toMatch(FIREFOX_FRAME('pwaTimer', 'manifest-app.html'));
    await page.close();
  });

  it('reports an error of an app declared in its manifest that is left right after it', async () => {
    const { page, guid } = await openCase('none', newGuid(), 'manifest-leave.html');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('manifest app, thrown on the way out');
    expect(crash!.annotations.ProductName).toBe('PWA');
    expect(page.url()).toMatch(/plain\.html$/);
    await page.close();
  });

  it('still sees errors when the page replaces window.onerror and stops propagation, and the page handler still runs', async () => {
    const { page, guid } = await openCase('fight');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('thrown past a hostile onerror');
    expect(await page.evaluate(() => (window as unknown as { __pageOnErrorRan?: number }).__pageOnErrorRan)).toBe(1);
    await page.close();
  });

  it('still sees errors when a page listener calls stopImmediatePropagation', async () => {
    const { page, guid } = await openCase('stop');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('thrown past stopImmediatePropagation');
    await page.close();
  });

  it('keeps working in a page that breaks JSON, setTimeout, dispatchEvent and ErrorEvent after load, and adds no errors', async () => {
    const { page, guid } = await openCase('sabotage');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorType).toBe('TypeError');
    expect(crash!.annotations.JSErrorMessage).toBe('thrown in a sabotaged page');
    expect(crash!.annotations.JSStack).toMatch(FIREFOX_FRAME('afterSabotage', 'app.js'));
    // The page saw its one error and nothing from the hook.
    expect(await page.evaluate(() => (window as unknown as { __errorsSeenByPage: number }).__errorsSeenByPage)).toBe(1);
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('reports from a page with a strict Content-Security-Policy', async () => {
    const guid = newGuid();
    const page = await env.browser.newPage();
    await page.goto(`${env.fixture.url}/index.html?case=timer&guid=${guid}&csp=strict`);
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSStack).toMatch(FIREFOX_FRAME('timerCallback', 'app.js'));
    await page.close();
  });

  it('ignores forged relay events from the page and keeps working', async () => {
    const { page, guid } = await openCase('forge');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('after forgery');
    await expectOnlyReports(guid, 1);
    await page.close();
  });

  it('folds 10,000 identical errors in a loop into one report with a repeat count', async () => {
    const { page, guid } = await openCase('flood');
    // 'flood done' is thrown by the timer after all 10,000: once it is stored, the loop is over.
    await waitFor('the flood-done report', async () => (await crashesOf(env.receiver, guid)).find((c) => c.annotations.JSErrorMessage === 'flood done'));
    const floods = (await crashesOf(env.receiver, guid)).filter((c) => c.annotations.JSErrorMessage === 'flood tick');
    expect(floods).toHaveLength(1);
    expect(Number(floods[0]!.annotations.JSRepeatCount)).toBeGreaterThanOrEqual(1);
    const entry = await waitFor('the flood entry to count all 10,000', async () => {
      const { reports } = await extensionStorage<{ reports: { annotations: Record<string, string>; repeatCount: number }[] }>(env.extensionPage, ['reports']);
      const found = reports.find((r) => r.annotations.WebAppGUID === guid && r.annotations.JSErrorMessage === 'flood tick');
      return found?.repeatCount === 10_000 ? found : undefined;
    });
    expect(entry.repeatCount).toBe(10_000);
    await expectOnlyReports(guid, 2);
    await page.close();
  });

  it('sends repeats that come after a report went out as one follow-up report when its minute is over', async () => {
    const { page, guid } = await openCase('again');
    const first = await waitFor('the first report', async () => (await crashesOf(env.receiver, guid))[0]);
    expect(first.annotations.JSErrorMessage).toBe('again and again');
    expect(first.annotations.JSRepeatCount ?? '1').toBe('1');
    // The two later repeats wait for the end of the first report's minute, then go as one; the
    // popup says so meanwhile.
    await waitFor('the repeats to be queued', async () => {
      const { reports } = await extensionStorage<{ reports: { status: string; annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
      return reports.some((r) => r.annotations.WebAppGUID === guid && r.status === 'queued' && r.annotations.JSRepeatCount === '2');
    });
    await showExtensionPage(env.extensionPage, 'popup.html');
    expect(await env.extensionPage.evaluate(() => document.querySelector('tr[data-status="queued"] .status')?.textContent)).toMatch(
      /^queued; repeats of a report sent this minute go together at /,
    );
    const followUp = await waitFor(
      'the follow-up report',
      async () => (await crashesOf(env.receiver, guid)).find((c) => c.crash_id !== first.crash_id),
      80_000,
    );
    expect(followUp.annotations.JSErrorMessage).toBe('again and again');
    expect(followUp.annotations.JSRepeatCount).toBe('2');
    expect(Date.parse(followUp.submitted_at) - Date.parse(first.submitted_at)).toBeGreaterThanOrEqual(55_000);
    await expectOnlyReports(guid, 2);
    await page.close();
  }, 120_000);

  it("reports a worker's uncaught error with its type, though the page sees only its message", async () => {
    const { page, guid } = await openCase('worker');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorType).toBe('TypeError');
    expect(crash!.annotations.JSErrorMessage).toMatch(/^[^:]*null/); // "job is null", no "TypeError: " prefix
    expect(crash!.annotations.JSFilename).toBe(`${env.fixture.url}/worker.js`);
    await page.close();
  });

  it('reports an error thrown just before the page is left', async () => {
    const { page, guid } = await openCase('leave');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('thrown on the way out');
    expect(page.url()).toMatch(/plain\.html$/);
    await page.close();
  });

  it('leaves a page that declares nothing alone', async () => {
    const page = await env.browser.newPage();
    await countRelays(page);
    await page.goto(`${env.fixture.url}/plain.html`);
    await waitForRelay(page);
    // The hook leaves no trace in the page's globals.
    expect(await page.evaluate(() => Object.getOwnPropertyNames(window).filter((n) => /socorrito/i.test(n)))).toEqual([]);
    // Then a declared app in the same tab: the background takes batches in order, so once its
    // report is stored, the plain page's batch has been seen and left alone.
    const guid = newGuid();
    await page.goto(`${env.fixture.url}/index.html?case=timer&guid=${guid}`);
    await waitForCrashes(env.receiver, guid);
    const all = await storedCrashes(env.receiver);
    expect(all.filter((c) => /undeclared/.test(c.annotations.JSErrorMessage ?? ''))).toEqual([]);
    const { reports } = await extensionStorage<{ reports: { annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
    expect(reports.filter((r) => r.annotations.URL?.includes('plain.html'))).toEqual([]);
    await page.close();
  });
});

/** Waits until the extension has nothing queued for the app, then checks how many reports the receiver has. */
async function expectOnlyReports(guid: string, count: number): Promise<void> {
  await waitFor(`no queued report for ${guid}`, async () => {
    const { reports } = await extensionStorage<{ reports: { status: string; annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
    return !reports.some((r) => r.annotations.WebAppGUID === guid && (r.status === 'queued' || r.status === 'sending'));
  });
  expect(await crashesOf(env.receiver, guid)).toHaveLength(count);
}
