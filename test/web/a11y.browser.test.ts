import type { Browser, CDPSession, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessedFrame } from '../../receiver/src/storage/types.ts';
import { launchChromium } from '../helpers/browsers.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, appFrame, daysAgo, direct, makeCrash, signatureIdOf } from './crashes.ts';

/**
 * The report pages as people read them every day (WCAG 2.2 AA): on a phone (375 px) and at
 * 400 % zoom (320 px), with the keyboard, in dark mode and on paper.
 */
const SIGNATURE = 'TypeError: handleCheckoutConfirmationButtonClickWithRetryAndTelemetry';
const LONG_MESSAGE = `Cannot read properties of undefined at https://shop.example/assets/${'x'.repeat(160)}`;
const LONG_LINE = `  return cart.lines.map((line) => line.product.priceWithTaxAndShippingForTheSelectedRegion * line.quantity).reduce((a, b) => a + b, 0);`;
const VIEWER_TOKEN = 'test-viewer-token-0123456789';

function noiseFrame(fn: string): ProcessedFrame {
  return { function: fn, url: '[native code]', line: null, column: null, category: 'noise', notes: ['not symbolicated: browser, extension or built-in code'] };
}

describe('report pages for keyboard, small screens, dark mode and print (Chromium)', () => {
  let r: TestReceiver;
  let browser: Browser & { cleanupProfile(): Promise<void> };
  let page: Page;
  let crashId: string;
  let pages: Record<string, string>;

  const login = async (p: Page, token: string) => {
    await p.goto(`${r.url}/login`);
    await p.type('input[name=token]', token);
    await Promise.all([p.waitForNavigation(), p.click('button[type=submit]')]);
  };
  let cdp: CDPSession;
  /** Emulated media for the page (puppeteer's emulateMediaFeatures refuses forced-colors; the session must stay open, or the emulation ends). */
  const media = (features: { name: string; value: string }[], type = '') => cdp.send('Emulation.setEmulatedMedia', { media: type, features });

  beforeAll(async () => {
    r = await startTestReceiver({ viewerToken: VIEWER_TOKEN });
    await r.indexRebuilt;
    const frame = appFrame('total', 'src/cart.ts', 12);
    frame.original!.context!.line = LONG_LINE;
    crashId = (
      await addCrash(direct(r), {
        signature: SIGNATURE,
        errorMessage: LONG_MESSAGE,
        urlPath: `/checkout/${'step-without-spaces-'.repeat(8)}`,
        frames: [frame, noiseFrame('map'), noiseFrame('forEach'), appFrame('checkout', 'src/checkout.ts', 40)],
        notes: [`signature: frames: "TypeError" -> "${SIGNATURE}"`],
        annotations: { JSErrorMessage: LONG_MESSAGE },
        files: { extra_log: { filename: `console-${'log-'.repeat(20)}.txt`, data: new Uint8Array(3) } },
      })
    ).crash_id;
    for (let i = 1; i < 4; i++) await addCrash(direct(r), { signature: SIGNATURE, at: daysAgo(i), errorMessage: LONG_MESSAGE });
    // A signature in each triage state, for its badge in top crashers.
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    for (const [signature, status] of [['Error: resolved | a', 'resolved'], ['Error: regressed | b', 'resolved'], ['Error: ignored | c', 'ignored']]) {
      await addCrash(direct(r), { signature, at: daysAgo(1) });
      await fetch(`${r.url}/api/signatures/${signatureIdOf(signature!)}/status`, { method: 'PUT', headers: admin, body: JSON.stringify({ status }) });
    }
    r.triage.crashProcessed(await addCrash(direct(r), { signature: 'Error: regressed | b', at: new Date(Date.now() + 1000) }));
    const unprocessed = makeCrash({ signature: SIGNATURE }).raw;
    await direct(r).storage.saveRaw(unprocessed, new Map());
    pages = {
      report: `/report/bp-${crashId}`,
      'report not processed yet': `/report/bp-${unprocessed.crash_id}`,
      'no such crash': `/report/bp-${crashId.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`,
      signature: `/signatures/${signatureIdOf(SIGNATURE)}?days=7`,
      'top crashers': `/apps/${APP_GUID}?days=7&ignored=1`,
      search: `/search?q=${encodeURIComponent('Cannot read')}`,
      'search problem': '/search?from=yesterday',
      apps: '/',
    };
    browser = await launchChromium();
    page = await browser.newPage();
    cdp = await page.createCDPSession();
    await login(page, 'test-admin-token');
  });
  afterAll(async () => {
    await browser?.close();
    await browser?.cleanupProfile();
    await r?.stop();
  });

  /**
   * The text in main that runs past the right edge of the screen, outside the regions made to
   * scroll sideways (`scrollers`: wide tables, source context), and whether the page itself
   * scrolls sideways.
   */
  const sideways = (scrollers: string | null = '.table-scroll, .context') =>
    page.evaluate((scrollers) => {
      const width = document.documentElement.clientWidth;
      const out: string[] = [];
      const walker = document.createTreeWalker(document.querySelector('main')!, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement!;
        // Text in a 1 px box is for screen readers only, clipped.
        if (!n.textContent!.trim() || (scrollers && el.closest(scrollers)) || el.getBoundingClientRect().width <= 1) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        if (range.getBoundingClientRect().right > width + 1) out.push(`${el.tagName.toLowerCase()}: ${n.textContent!.trim().slice(0, 40)}`);
      }
      const main = document.querySelector('main')!;
      return { out, pageScrolls: document.documentElement.scrollWidth > width, mainScrolls: main.scrollWidth > main.clientWidth };
    }, scrollers);

  /**
   * The text on the page below WCAG's contrast (4.5:1, or 3:1 when large), with the opacity of
   * its element and the backgrounds behind it taken into account, SVG text by its fill; and the
   * chart marks and form field edges below 3:1 against what is around them.
   */
  const lowContrast = (p = page) =>
    p.evaluate(() => {
      const rgba = (s: string) => {
        const [r = 0, g = 0, b = 0, a = 1] = s.match(/[\d.]+/g)!.map(Number);
        return [r, g, b, a] as const;
      };
      const over = (top: readonly number[], under: number[], alpha: number) => [0, 1, 2].map((i) => top[i]! * alpha + under[i]! * (1 - alpha));
      const luminance = (c: number[]) => {
        const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(c[0]!) + 0.7152 * f(c[1]!) + 0.0722 * f(c[2]!);
      };
      const low: string[] = [];
      /** What is drawn behind `el`: the backgrounds of its ancestors, each over the one below. */
      const behind = (el: Element) => {
        let bg = [255, 255, 255];
        const layers: (readonly number[])[] = [];
        for (let e: Element | null = el; e; e = e.parentElement) layers.unshift(rgba(getComputedStyle(e).backgroundColor));
        for (const layer of layers) bg = over(layer, bg, layer[3]!);
        return bg;
      };
      const ratio = (a: number[], b: number[]) => {
        const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
        return (hi! + 0.05) / (lo! + 0.05);
      };
      for (const mark of document.querySelectorAll('svg.chart rect, svg.spark polyline')) {
        const paint = rgba(mark.tagName === 'rect' ? getComputedStyle(mark).fill : getComputedStyle(mark).stroke);
        const around = behind(mark.closest('svg')!);
        const r = ratio(over(paint, around, paint[3]!), around);
        if (r < 3) low.push(`${mark.tagName} in svg.${mark.closest('svg')!.getAttribute('class')} ${r.toFixed(2)}`);
      }
      for (const field of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
        if (!field.checkVisibility()) continue;
        const edge = rgba(getComputedStyle(field).borderTopColor);
        const around = behind(field.parentElement!);
        const r = ratio(over(edge, around, edge[3]!), around);
        if (r < 3) low.push(`edge of ${field.tagName.toLowerCase()}[name=${field.getAttribute('name')}] ${r.toFixed(2)}`);
      }
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement!;
        const box = el.getBoundingClientRect();
        if (!n.textContent!.trim() || !el.checkVisibility() || el.closest('option, title') || box.width <= 1 || box.right < 0) continue;
        let opacity = 1;
        for (let e: Element | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
        const bg = behind(el);
        const style = getComputedStyle(el);
        const fg = rgba(el instanceof SVGElement ? style.fill : style.color);
        const r = ratio(over(fg, bg, fg[3]! * opacity), bg);
        const size = parseFloat(style.fontSize);
        const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
        if (r < (large ? 3 : 4.5)) low.push(`${el.tagName.toLowerCase()}.${el.className} "${n.textContent!.trim().slice(0, 30)}" ${r.toFixed(2)}`);
      }
      return [...new Set(low)];
    });

  it('keeps all text at 4.5:1 (3:1 when large), noise frames and badges too, and form field edges at 3:1 (1.4.3, 1.4.11)', async () => {
    await page.setViewport({ width: 1280, height: 800 });
    for (const [name, path] of Object.entries(pages)) {
      await page.goto(`${r.url}${path}`);
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
      expect({ name, low: await lowContrast() }).toEqual({ name, low: [] });
    }
    // Noise frames were faded with opacity: .55 (their badge was 1.5:1); the checks above reached them.
    expect(await page.goto(`${r.url}${pages.report}`).then(() => page.$$eval('li.frame.noise .badge', (b) => b.length))).toBe(2);
    await page.goto(`${r.url}${pages['top crashers']}`);
    expect(await page.$$eval('.badge', (bs) => [...new Set(bs.map((b) => b.textContent))].sort())).toEqual(['ignored', 'new', 'regressed', 'resolved']);
  });

  it('follows dark mode: dark pages, fields and charts, all text at 4.5:1 and field edges and chart marks at 3:1', async () => {
    await page.setViewport({ width: 1280, height: 800 });
    const dark = [{ name: 'prefers-color-scheme', value: 'dark' }];
    /** Relative luminance of a computed `rgb(…)` colour: 0 is black, 1 white. */
    const luminance = (css: string) => {
      const [r, g, b] = css.match(/[\d.]+/g)!.map((v) => Number(v) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const look = (p: Page) =>
      p.evaluate(() => ({
        page: getComputedStyle(document.body).backgroundColor,
        fields: [...document.querySelectorAll('input:not([type=hidden]), select')].map((f) => getComputedStyle(f).backgroundColor),
      }));
    await media(dark);
    try {
      for (const [name, path] of Object.entries(pages)) {
        await page.goto(`${r.url}${path}`);
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
        const seen = await look(page);
        expect({ name, dark: luminance(seen.page) < 0.02, lightFields: seen.fields.filter((f) => luminance(f) > 0.1) }).toEqual({ name, dark: true, lightFields: [] });
        expect({ name, low: await lowContrast() }).toEqual({ name, low: [] });
      }
    } finally {
      await media([]);
    }
    const context = await browser.createBrowserContext();
    try {
      const loggedOut = await context.newPage();
      await (await loggedOut.createCDPSession()).send('Emulation.setEmulatedMedia', { media: '', features: dark });
      await loggedOut.goto(`${r.url}/login`);
      expect(luminance((await look(loggedOut)).page)).toBeLessThan(0.02);
      expect(await lowContrast(loggedOut)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps each badge in its box, the crash line framed and the charts in the text colour in forced colours, where backgrounds are not drawn', async () => {
    await media([{ name: 'forced-colors', value: 'active' }]);
    try {
      await page.goto(`${r.url}${pages['top crashers']}`);
      const borders = await page.$$eval('.badge', (bs) => bs.map((b) => getComputedStyle(b)).map((s) => `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`));
      expect(borders.length).toBeGreaterThan(0);
      for (const border of borders) expect(border).toMatch(/^1px solid rgb\(/);
      await page.goto(`${r.url}${pages.report}`);
      expect(await page.$eval('.context .hit', (hit) => getComputedStyle(hit).outlineStyle)).toBe('solid');
      // The charts take the theme's text colour (the page's blue could be anything against its background).
      await page.goto(`${r.url}${pages.signature}`);
      const paint = await page.evaluate(() => ({
        text: getComputedStyle(document.body).color,
        marks: [...document.querySelectorAll('svg.chart rect, .facet rect')].map((m) => getComputedStyle(m).fill),
      }));
      expect(new Set(paint.marks)).toEqual(new Set([paint.text]));
      await page.goto(`${r.url}${pages['top crashers']}`);
      const spark = await page.evaluate(() => [getComputedStyle(document.body).color, getComputedStyle(document.querySelector('svg.spark polyline')!).stroke]);
      expect(spark[1]).toBe(spark[0]);
    } finally {
      await media([]);
    }
  });

  it('reflows every page at 320 px, a report with a long message and URL too: only wide tables and source scroll sideways (1.4.10)', async () => {
    await page.setViewport({ width: 320, height: 800 });
    for (const [name, path] of Object.entries(pages)) {
      await page.goto(`${r.url}${path}`);
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
      expect({ name, ...(await sideways()) }).toEqual({ name, out: [], pageScrolls: false, mainScrolls: false });
    }
  });

  it('shows a top crasher\'s count and a crash\'s message on a phone without scrolling sideways', async () => {
    await page.setViewport({ width: 375, height: 800 });
    const right = (selector: string) => page.$eval(selector, (el) => Math.round(el.getBoundingClientRect().right));
    await page.goto(`${r.url}${pages['top crashers']}`);
    expect(await page.$eval('table.topcrashers', (t) => t.closest('[role=region]')?.getAttribute('aria-label'))).toBe('Top crashers');
    expect(await right('table.topcrashers thead th:nth-child(3)')).toBeLessThanOrEqual(375);
    await page.goto(`${r.url}${pages.signature}`);
    // The message, not squeezed to a few letters a line, starts on screen; the version may be scrolled to.
    const message = await page.$eval('table.reports tbody td.sig', (td) => td.getBoundingClientRect().toJSON() as DOMRect);
    expect(message.width).toBeGreaterThanOrEqual(150);
    expect(message.left + 150).toBeLessThanOrEqual(375);
  });

  it('draws each row\'s header (signature, app, crash, value, day, file) as the data it is, not as a column header', async () => {
    await page.setViewport({ width: 1280, height: 800 });
    let headers = 0;
    for (const [name, path] of Object.entries(pages)) {
      await page.goto(`${r.url}${path}`);
      const looks = await page.$$eval('tbody th[scope="row"]', (ths) =>
        ths
          // An annotation's name is bold on purpose, as it was before it was a row header.
          .filter((th) => !th.closest('table.annotations'))
          .map((th) => {
            const s = getComputedStyle(th);
            const data = getComputedStyle(th.closest('main')!);
            return { weight: s.fontWeight, transform: s.textTransform, spacing: s.letterSpacing, size: s.fontSize === data.fontSize || s.fontSize === '12.5px' };
          }),
      );
      for (const look of looks) expect({ name, ...look }).toEqual({ name, weight: '400', transform: 'none', spacing: 'normal', size: true });
      headers += looks.length;
    }
    expect(headers).toBeGreaterThan(20);
  });

  it('says on the signature page what each bug\'s Remove button removes, and what "Resolve in next release" means', async () => {
    await fetch(`${r.url}/api/signatures/${signatureIdOf(SIGNATURE)}/bugs`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ bugs: ['https://github.com/shop/web/issues/12', 'https://bugzilla.mozilla.org/show_bug.cgi?id=7'] }),
    });
    try {
      await page.goto(`${r.url}${pages.signature}`);
      const names = await page.$$eval('button[name=remove]', (bs) => bs.map((b) => b.getAttribute('aria-label')));
      expect(names).toEqual(['Remove #12', 'Remove bug 7']);
      // Shown on the page, not in a title that touch and keyboard users never see.
      const hint = await page.$eval('button[value=resolved_next_release]', (b) => {
        const described = document.getElementById(b.getAttribute('aria-describedby')!)!;
        return { title: b.getAttribute('title'), text: described.textContent, shown: described.checkVisibility() };
      });
      expect(hint).toEqual({ title: null, text: 'Resolve in next release: only crashes from a version not seen so far reopen it.', shown: true });
    } finally {
      await fetch(`${r.url}/api/signatures/${signatureIdOf(SIGNATURE)}/bugs`, {
        method: 'PUT',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ bugs: [] }),
      });
    }
  });

  it('keeps a keyboard user\'s place after a triage form: the page comes back at its status section, focused (2.4.3)', async () => {
    await page.setViewport({ width: 375, height: 800 });
    await page.goto(`${r.url}${pages.signature}`);
    await page.focus('input[name=note]');
    await page.keyboard.type('looking into it');
    try {
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      const after = await page.evaluate(() => ({
        address: location.pathname + location.search + location.hash,
        focused: document.activeElement?.id,
        atTopOfWindow: Math.round(document.activeElement!.getBoundingClientRect().top) === 0 && scrollY > 0,
        note: document.querySelector('#triage .muted')?.textContent,
      }));
      expect(after).toEqual({ address: `${pages.signature}#triage`, focused: 'triage', atTopOfWindow: true, note: ' — looking into it' });
      // The next Tab is in the section's form again, not in the top bar.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('note');
    } finally {
      await fetch(`${r.url}/api/signatures/${signatureIdOf(SIGNATURE)}/status`, {
        method: 'PUT',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'open' }),
      });
    }
  });

  it('breaks a time between its day and its clock, never inside the day', async () => {
    // Top crashers' first and last seen broke as "2026-11- / 30 05:48 / UTC".
    for (const [width, path] of [[1280, pages['top crashers']], [375, pages.signature], [320, pages.report]] as const) {
      await page.setViewport({ width, height: 800 });
      await page.goto(`${r.url}${path}`);
      // Each day, clock and "3 h ago" (a relative time's exact time may break between its day and clock).
      const parts = await page.$$eval('time span:not(:has(span))', (spans) => spans.map((s) => ({ text: s.textContent, lines: s.getClientRects().length })));
      expect(parts.length).toBeGreaterThan(1);
      for (const part of parts) expect(part).toEqual({ text: part.text, lines: 1 });
    }
  });

  it('scrolls a frame\'s source context as one block, which the keyboard passes in one named stop (2.1.1, 2.4.3, 4.1.2)', async () => {
    await page.setViewport({ width: 375, height: 800 });
    await page.goto(`${r.url}/report/bp-${crashId}`);
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const stops: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const at = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        if (el.classList.contains('context')) return `context: ${el.getAttribute('aria-label')}`;
        return el.closest('.context') ? 'source line' : el.tagName.toLowerCase();
      });
      if (at === null) break;
      stops.push(at);
    }
    // Chromium made each overflowing line (`.context div { overflow-x: auto }`) its own nameless tab stop.
    expect(stops.filter((s) => s.startsWith('context') || s === 'source line')).toEqual([
      'context: source of src/cart.ts around line 12',
      'context: source of src/checkout.ts around line 40',
    ]);
    const scroll = await page.$eval('.context', (c) => ({
      block: c.scrollWidth > c.clientWidth,
      lines: [...c.children].filter((line) => line.scrollWidth > line.clientWidth).length,
      widths: new Set([...c.children].map((line) => line.getBoundingClientRect().width)).size,
    }));
    expect(scroll).toEqual({ block: true, lines: 0, widths: 1 });
  });

  it('draws the signature chart\'s labels at a readable size on a phone (1.4.4)', async () => {
    for (const width of [320, 375]) {
      await page.setViewport({ width, height: 800 });
      await page.goto(`${r.url}${pages.signature}`);
      // The labels were SVG text in the 720-wide viewBox, squeezed with it to 5 px on a phone.
      const labels = await page.$$eval('.daily-chart :not(title)', (els) =>
        els
          .filter((el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim()))
          .map((el) => ({ text: el.textContent, size: parseFloat(getComputedStyle(el).fontSize) * (el instanceof SVGGraphicsElement ? el.getScreenCTM()!.a : 1), box: el.getBoundingClientRect() }))
          .map(({ text, size, box }) => ({ text, readable: size >= 12, onScreen: box.left >= 0 && box.right <= document.documentElement.clientWidth })),
      );
      expect(labels.map((l) => l.text)).toEqual(['1', '0', daysAgo(6).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)]);
      for (const label of labels) expect(label).toEqual({ text: label.text, readable: true, onScreen: true });
    }
  });

  it('sets the signature page\'s heading larger than the text around it', async () => {
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${r.url}${pages.signature}`);
    // It was 12.5 px, the monospace size, below the 14 px "Signature" above it.
    const sizes = await page.evaluate(() => ['main > p.muted', 'h1.sig', 'h2'].map((s) => parseFloat(getComputedStyle(document.querySelector(s)!).fontSize)));
    expect(sizes[1]).toBeGreaterThan(sizes[0]! * 1.2);
    expect(sizes[1]).toBeGreaterThanOrEqual(sizes[2]!);
  });

  it('lets the keyboard skip the top bar: the first Tab shows a skip link, which leads to the page\'s content', async () => {
    await page.setViewport({ width: 375, height: 800 });
    await page.goto(`${r.url}${pages.report}`);
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement;
      const box = a.getBoundingClientRect();
      return { text: a.innerText, shown: box.left >= 0 && box.top >= 0 && box.right <= innerWidth };
    });
    expect(skip).toEqual({ text: 'Skip to content', shown: true });
    expect(await lowContrast()).toEqual([]);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    // The first link in main, the signature, rather than the top bar's Socorrito, Apps, Search.
    expect(await page.evaluate(() => document.activeElement!.className)).toBe('sig');
    // Off screen until focused.
    await page.goto(`${r.url}${pages.report}`);
    expect(await page.$eval('a.skip', (a) => a.getBoundingClientRect().right)).toBeLessThan(0);
  });

  it('prints a report whole: no top bar or forms, every frame and its source open, nothing cut at the paper edge', async () => {
    await page.setViewport({ width: 720, height: 1000 });
    // On screen, only the crashing app frame's source is open (as Sentry opens the first in-app frame).
    await page.goto(`${r.url}${pages.report}`);
    expect(await page.$$eval('li.frame details', (ds) => ds.map((d) => (d as HTMLDetailsElement).open))).toEqual([true, false]);
    await media([], 'print');
    try {
      await page.goto(`${r.url}${pages.report}`);
      const printed = await page.evaluate(() => ({
        topBar: document.querySelector('header.top')!.checkVisibility(),
        // Folded frames (none here: two noise frames in a row stay unfolded) and each frame's source, which is in a <details>.
        sources: [...document.querySelectorAll('.context .hit')].map((hit) => hit.checkVisibility()),
      }));
      expect(printed).toEqual({ topBar: false, sources: [true, true] });
      // On screen, main scrolled sideways as one box, and the printer cut what stuck out of it.
      expect(await sideways(null)).toEqual({ out: [], pageScrolls: false, mainScrolls: false });
      await page.goto(`${r.url}${pages.signature}`);
      const signature = await page.evaluate(() => ({
        forms: [...document.querySelectorAll('main form')].filter((f) => f.checkVisibility()).length,
        status: (document.querySelector('.triage .status') as HTMLElement).innerText,
      }));
      expect(signature).toEqual({ forms: 0, status: 'Open' });
      expect(await sideways(null)).toEqual({ out: [], pageScrolls: false, mainScrolls: false });
    } finally {
      await media([]);
    }
  });

  it('keeps the viewer\'s top bar, with "read only", on screen and readable at 320 px (1.4.10, 1.4.3)', async () => {
    const context = await browser.createBrowserContext();
    try {
      const viewer = await context.newPage();
      await login(viewer, VIEWER_TOKEN);
      await viewer.setViewport({ width: 320, height: 600 });
      await viewer.goto(`${r.url}/search`);
      const bar = await viewer.$eval('header.top', (h) => ({
        scrolls: h.scrollWidth > h.clientWidth,
        text: (h as HTMLElement).innerText,
        logOut: h.querySelector('button')!.getBoundingClientRect().right <= document.documentElement.clientWidth,
      }));
      expect(bar).toEqual({ scrolls: false, text: expect.stringContaining('read only'), logOut: true });
      // "read only" was the page's grey on the dark bar: 2.5:1.
      expect(await lowContrast(viewer)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
