/**
 * The whole loop a new user sees, in real headless Firefox ESR: the receiver with the demo app
 * (built minified with hashed names, its maps uploaded on start), the extension installed as a
 * temporary add-on, each bug button clicked, and then the report pages, in the same Firefox,
 * showing each bug as its own signature with the original file, line and source line.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GUID } from '../../receiver/src/demo/build.ts';
import type { ProcessedCrash } from '../../receiver/src/storage/types.ts';
import { launchFirefox } from '../helpers/browsers.ts';
import { REPO_ROOT, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { buildTempExtension, findExtensionPage, waitFor } from '../extension/harness.ts';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'demo');

/** The line (1-based) of `text` in a demo source file. */
function lineOf(file: string, text: string): number {
  const lines = readFileSync(join(REPO_ROOT, 'demo', 'src', file), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} is not in demo/src/${file}`);
  return index + 1;
}

/** Each bug button, and where its error must be traced back to. */
const BUGS = [
  { button: '#bug-checkout', type: 'TypeError', file: 'cart.js', source: 'return findProduct(line.productId).price.amount * line.quantity;' },
  { button: '#bug-inventory', type: 'SyntaxError', file: 'inventory.js', source: 'const stock = JSON.parse(text);' },
  { button: '#bug-autosave', type: 'TypeError', file: 'todos.js', source: "return JSON.stringify({ items: this.items });" },
  { button: '#bug-payment', type: 'PaymentDeclinedError', file: 'errors.js', source: 'super(`Payment of ${amount} declined: ${reason}`);' },
];

describe('the demo journey in Firefox', () => {
  let receiver: TestReceiver;
  let browser: Browser;
  let cleanupBuild: () => Promise<void>;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${receiver.adminToken}` });

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const build = await buildTempExtension();
    cleanupBuild = build.cleanup;
    receiver = await startTestReceiver({ demo: true });
    browser = await launchFirefox();
    await browser.installExtension(build.dir);
    // The welcome page opens once the hook is registered: the demo loaded after it is hooked.
    await findExtensionPage(browser);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.stop();
    await cleanupBuild?.();
  });

  async function processedCrashes(): Promise<ProcessedCrash[]> {
    const found: ProcessedCrash[] = [];
    for await (const id of receiver.storage.listCrashIds()) {
      const raw = await receiver.storage.getRaw(id);
      const processed = await receiver.storage.getProcessed(id);
      if (raw?.annotations.WebAppGUID === DEMO_GUID && processed) found.push(processed);
    }
    return found;
  }

  it('reports every bug button, symbolicated to the demo source, one signature per bug', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${receiver.url}/demo/`);
    // It shares the report pages' origin: it runs only its own scripts, and the hook still works.
    expect(response!.headers()['content-security-policy']).toMatch(/script-src 'self'; /);
    await page.waitForSelector('#cart li');
    for (const bug of BUGS) await page.click(bug.button);

    const crashes = await waitFor(
      `the ${BUGS.length} demo bugs processed on the receiver`,
      async () => {
        const all = await processedCrashes();
        return BUGS.every((b) => all.some((c) => c.error_type === b.type && c.frames.some((f) => f.original?.file.endsWith(b.file))))
          ? all
          : undefined;
      },
      45_000,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-app.png'), fullPage: true });

    const signatures = new Set<string>();
    for (const bug of BUGS) {
      const crash = crashes.find((c) => c.error_type === bug.type && c.frames.some((f) => f.original?.file.endsWith(bug.file)))!;
      const frame = crash.frames.find((f) => f.original?.file === `demo/src/${bug.file}`);
      expect(frame, `${bug.button}: a frame in demo/src/${bug.file}`).toBeDefined();
      expect(frame!.original!.line).toBe(lineOf(bug.file, bug.source));
      expect(frame!.original!.context?.line).toContain(bug.source);
      expect(frame!.url).toMatch(/\/demo\/assets\/(main|todos)-[A-Z0-9]+\.js$/);
      signatures.add(crash.signature);
    }
    expect(signatures.size).toBe(BUGS.length);

    const top = (await (await fetch(`${receiver.url}/api/apps/${DEMO_GUID}/topcrashers?days=1`, { headers: auth() })).json()) as {
      rows: { signature: string; count: number }[];
    };
    expect(top.rows.map((r) => r.signature).sort()).toEqual([...signatures].sort());
    expect(top.rows.map((r) => r.count)).toEqual(BUGS.map(() => 1));
  });

  it('shows them on the report pages in the same Firefox: top crashers, signature, report with source', async () => {
    const page: Page = await browser.newPage();
    await page.goto(`${receiver.url}/`);
    await page.waitForSelector('input[name=token]');
    await page.type('input[name=token]', receiver.adminToken);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await page.goto(`${receiver.url}/apps/${DEMO_GUID}`);
    const table = await page.$eval('table.topcrashers', (t) => (t as HTMLElement).innerText);
    for (const bug of BUGS) expect(table).toContain(bug.type);
    await page.screenshot({ path: join(ARTIFACTS, 'top-crashers.png'), fullPage: true });

    const links = await page.$$eval('table.topcrashers th.sig a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links).toHaveLength(BUGS.length);
    const seen = new Set<string>();
    for (const link of links) {
      await page.goto(link);
      await Promise.all([page.waitForNavigation(), page.click('table.reports tbody a')]);
      expect(page.url()).toMatch(new RegExp(`/report/bp-[0-9a-f-]{36}$`));
      const frames = await page.$eval('.frames', (el) => (el as HTMLElement).textContent ?? '');
      const bug = BUGS.find((b) => frames.includes(`demo/src/${b.file}:${lineOf(b.file, b.source)}`));
      expect(bug, `report ${page.url()} names a demo source line:\n${frames.slice(0, 600)}`).toBeDefined();
      expect(frames).toContain(bug!.source);
      seen.add(bug!.button);
      await page.screenshot({ path: join(ARTIFACTS, `report-${bug!.file.replace('.js', '')}.png`), fullPage: true });
    }
    expect(seen.size).toBe(BUGS.length);
  });
});
