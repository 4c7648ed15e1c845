// The extension's cost to a page that has no error: the same page, loaded and run in headless
// Firefox without the extension and with it installed, measured in this run.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
// @ts-expect-error: the build script is plain JavaScript (run by node, no types)
import { buildExtension } from '../extension/build.mjs';
import { launchFirefox } from '../test/helpers/browsers.ts';

/** A page that declares an app (so the extension is active on it) and does ordinary work. */
const PAGE = `<!doctype html><meta charset="utf-8">
<meta name="socorrito:guid" content="6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10">
<meta name="socorrito:submit-url" content="http://127.0.0.1:9/submit">
<meta name="socorrito:release" content="1.0">
<title>bench</title><body><ul id="list"></ul>
<script>
  window.work = () => {
    const t0 = performance.now();
    const list = document.getElementById('list');
    for (let round = 0; round < 20; round++) {
      list.replaceChildren();
      for (let i = 0; i < 2000; i++) {
        const li = document.createElement('li');
        li.textContent = 'item ' + i;
        li.addEventListener('click', () => li.classList.toggle('on'));
        list.append(li);
      }
      for (const li of list.children) li.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      JSON.parse(JSON.stringify({ round, items: [...list.children].map((li) => li.textContent) }));
    }
    return performance.now() - t0;
  };
</script>`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One load of the page and one run of its work, in a tab kept open for the whole bench. */
async function runOnce(page: Page, url: string, run: number): Promise<{ loadMs: number; workMs: number }> {
  await page.goto(`${url}?run=${run}`, { waitUntil: 'load' });
  const loadMs = await page.evaluate(() => performance.getEntriesByType('navigation')[0]!.duration);
  const workMs = await page.evaluate(() => (window as unknown as { work: () => number }).work());
  return { loadMs, workMs };
}

/** Page load time and a DOM-heavy workload, median of `runs`, without and with the extension. */
export async function benchHook(log: (line: string) => void, runs = 31): Promise<{ loadRatio: number; workRatio: number }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const out = await mkdtemp(join(tmpdir(), 'socorrito-bench-ext-'));
  let browser: Browser | null = null;
  let withExtension: Browser | null = null;
  try {
    const dist = await (buildExtension as (o: { outDir: string }) => Promise<string>)({ outDir: join(out, 'dist') });
    // Two browsers, one with the extension, taking turns run by run: Firefox gets faster at the
    // page as it runs it again, so measuring one after the other would favour the second.
    browser = await launchFirefox();
    withExtension = await launchFirefox();
    await withExtension.installExtension(dist);
    log(`hook: a page that declares an app and has no error, ${runs} runs each in headless Firefox (median), the two taking turns`);
    const pages = [await browser.newPage(), await withExtension.newPage()] as const;
    const samples = [[], []] as { loadMs: number; workMs: number }[][];
    for (let i = 0; i < 3; i++) for (const page of pages) await runOnce(page, url, i); // warm-up
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0]; // neither always goes first
      for (const k of order) samples[k]!.push(await runOnce(pages[k]!, url, i));
    }
    const summary = (xs: { loadMs: number; workMs: number }[]): { loadMs: number; workMs: number } => ({
      loadMs: median(xs.map((x) => x.loadMs)),
      workMs: median(xs.map((x) => x.workMs)),
    });
    const without = summary(samples[0]!);
    const withExt = summary(samples[1]!);
    const row = (name: string, r: { loadMs: number; workMs: number }): string =>
      `  ${name.padEnd(24)} load ${r.loadMs.toFixed(1).padStart(6)} ms   work ${r.workMs.toFixed(1).padStart(6)} ms`;
    log(row('without the extension', without));
    log(row('with the extension', withExt));
    const loadRatio = withExt.loadMs / without.loadMs;
    const workRatio = withExt.workMs / without.workMs;
    log(`  ratio with / without: load ${loadRatio.toFixed(2)}, work ${workRatio.toFixed(2)} (1.00 = no cost)`);
    return { loadRatio, workRatio };
  } finally {
    await browser?.close();
    await withExtension?.close();
    server.close();
    await rm(out, { recursive: true, force: true });
  }
}
