/**
 * The same capture test in real headless Chromium with the same built extension loaded
 * unpacked: Chromium runs the hook in the page's MAIN world too, and its stacks have the
 * `    at fn (url:line:col)` form.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { type FixtureServer, RELEASE, buildTempExtension, crashesOf, newGuid, startFixtureServer, waitForCrashes } from './harness.ts';

let browser: Awaited<ReturnType<typeof launchChromium>>;
let receiver: TestReceiver;
let fixture: FixtureServer;
let cleanupBuild: () => Promise<void>;

beforeAll(async () => {
  const build = await buildTempExtension();
  cleanupBuild = build.cleanup;
  receiver = await startTestReceiver();
  fixture = await startFixtureServer(`${receiver.url}/submit`);
  browser = await launchChromium({ extensionDir: build.dir });
  await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'), { timeout: 20_000 });
  // The welcome page opens once the background has registered the hook: pages loaded from then on are hooked.
  await browser.waitForTarget((t) => t.type() === 'page' && t.url().startsWith('chrome-extension://'), { timeout: 20_000 });
});

afterAll(async () => {
  await browser?.close();
  await browser?.cleanupProfile();
  await fixture?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

const CHROME_FRAME = (fn: string, file: string): RegExp =>
  new RegExp(`\\n    at ${fn} \\(http://127\\.0\\.0\\.1:\\d+/${file.replace('.', '\\.')}:\\d+:\\d+\\)`);

const CASES = [
  { name: 'a timer', fixtureCase: 'timer', type: 'TypeError', mechanism: 'onerror', frame: ['timerCallback', 'app.js'] },
  { name: 'a classic script while it runs', fixtureCase: 'script', type: 'TypeError', mechanism: 'onerror', frame: ['loadCart', 'app.js'] },
  { name: 'an addEventListener handler', fixtureCase: 'event', type: 'RangeError', mechanism: 'onerror', frame: ['HTMLButtonElement.clickHandler', 'app.js'] },
  { name: 'an inline onclick handler', fixtureCase: 'inline', type: 'ReferenceError', mechanism: 'onerror', frame: ['HTMLButtonElement.onclick', 'index.html'] },
  { name: 'a module script', fixtureCase: 'module', type: 'TypeError', mechanism: 'onerror', frame: ['applyCoupon', 'module.js'] },
  { name: 'a promise rejected with an Error', fixtureCase: 'rejection-error', type: 'SyntaxError', mechanism: 'unhandledrejection', frame: ['fetchPrices', 'app.js'] },
] as const;

async function openCase(fixtureCase: string, guid = newGuid()): Promise<{ page: Page; guid: string }> {
  const page = await browser.newPage();
  await page.goto(`${fixture.url}/index.html?case=${fixtureCase}&guid=${guid}`);
  return { page, guid };
}

describe('capture in Chromium', () => {
  it.each(CASES)('reports an error from $name with a Chrome stack', async ({ fixtureCase, type, mechanism, frame }) => {
    const { page, guid } = await openCase(fixtureCase);
    const [crash] = await waitForCrashes(receiver, guid);
    const a = crash!.annotations;
    expect(a.WebAppGUID).toBe(guid);
    expect(a.ProductName).toBe('Fixture Shop');
    expect(a.Version).toBe(RELEASE);
    expect(a.Environment).toBe('staging');
    expect(a.JSErrorType).toBe(type);
    expect(a.JSMechanism).toBe(mechanism);
    expect(a.JSStack).toMatch(CHROME_FRAME(frame[0], frame[1]));
    expect(a.JSStack).not.toContain('?');
    expect(a.URL).toBe(`${fixture.url}/index.html`);
    expect(a.UserAgent).toMatch(/Chrome\/\d+/);
    await page.close();
  });

  it('reports a promise rejected with a value that is not an Error', async () => {
    const { page, guid } = await openCase('rejection-value');
    const [crash] = await waitForCrashes(receiver, guid);
    expect(crash!.annotations.JSErrorType).toBe('UnhandledRejection');
    expect(crash!.annotations.JSErrorMessage).toBe('Object captured as promise rejection with keys: code, reason');
    await page.close();
  });

  it('reports an error in a same-origin iframe under the embedding app', async () => {
    const { page, guid } = await openCase('iframe');
    const [crash] = await waitForCrashes(receiver, guid);
    expect(crash!.annotations.JSErrorType).toBe('EvalError');
    expect(crash!.annotations.URL).toBe(`${fixture.url}/frame.html`);
    expect(await crashesOf(receiver, guid)).toHaveLength(1);
    await page.close();
  });
});
