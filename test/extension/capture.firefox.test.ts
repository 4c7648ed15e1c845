/**
 * End to end in real headless Firefox ESR with the built extension installed as a temporary
 * add-on, against a real receiver: each way a web app can fail is captured in the page's world,
 * packaged with the fields of DESIGN.md and stored by the receiver with a real Firefox stack.
 */
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import {
  type FixtureServer,
  RELEASE,
  buildTempExtension,
  crashesOf,
  extensionStorage,
  findExtensionPage,
  newGuid,
  startFixtureServer,
  waitFor,
  waitForCrashes,
} from './harness.ts';

let browser: Browser;
let receiver: TestReceiver;
let fixture: FixtureServer;
let extensionPage: Page;
let cleanupBuild: () => Promise<void>;

beforeAll(async () => {
  const build = await buildTempExtension();
  cleanupBuild = build.cleanup;
  receiver = await startTestReceiver();
  fixture = await startFixtureServer(`${receiver.url}/submit`);
  browser = await launchFirefox();
  await browser.installExtension(build.dir);
  extensionPage = await findExtensionPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
  await receiver?.stop();
  await cleanupBuild?.();
});

/** Opens the fixture app as a new app (its own GUID) running `fixtureCase`. */
async function openCase(fixtureCase: string, guid = newGuid(), file = 'index.html'): Promise<{ page: Page; guid: string }> {
  const page = await browser.newPage();
  await page.goto(`${fixture.url}/${file}?case=${fixtureCase}&guid=${guid}`);
  return { page, guid };
}

const FIREFOX_FRAME = (fn: string, file: string): RegExp => new RegExp(`(^|\\n)${fn}@http://127\\.0\\.0\\.1:\\d+/${file.replace('.', '\\.')}:\\d+:\\d+`);

describe('capture in Firefox', () => {
  it('reports an uncaught TypeError thrown in a timer with every field and a real Firefox stack', async () => {
    const { page, guid } = await openCase('timer');
    const [crash] = await waitForCrashes(receiver, guid);
    const a = crash!.annotations;
    expect(a.WebAppGUID).toBe(guid);
    expect(a.ProductName).toBe('Fixture Shop');
    expect(a.Version).toBe(RELEASE);
    expect(a.SubmitURL).toBe(`${receiver.url}/submit`);
    expect(a.JSErrorType).toBe('TypeError');
    expect(a.JSErrorMessage).toMatch(/order is null|null/);
    expect(a.JSMechanism).toBe('onerror');
    expect(a.JSStack).toMatch(FIREFOX_FRAME('timerCallback', 'app.js'));
    expect(a.JSFilename).toBe(`${fixture.url}/app.js`);
    expect(Number(a.JSLine)).toBeGreaterThan(0);
    expect(Number(a.JSColumn)).toBeGreaterThan(0);
    expect(a.JSRepeatCount).toBe('1');
    expect(Math.abs(Number(a.CrashTime) - Date.now() / 1000)).toBeLessThan(120);
    expect(a.UserAgent).toMatch(/Firefox\/\d+/);
    // Query strings and fragments are stripped by default, from the page URL and every stack URL.
    expect(a.URL).toBe(`${fixture.url}/index.html`);
    expect(a.JSStack).not.toContain('?');
    expect(a.JSStack).not.toContain('s3cret');
    await page.close();
  });
});
