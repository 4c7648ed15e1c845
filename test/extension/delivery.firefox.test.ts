/**
 * Delivery, privacy and control in real headless Firefox with the built extension: reports wait
 * in storage while the receiver is down and arrive when it is back, a 4xx is final, a queued
 * report whose site is blocked meanwhile is withdrawn, the popup lists reports like
 * about:crashes, and the options page changes what is sent and shows it.
 */
import { type IncomingHttpHeaders, createServer as createHttpServer } from 'node:http';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { freePort, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import {
  clickInExtensionPage,
  extensionStorage,
  newGuid,
  showExtensionPage,
  storedCrashes,
  waitFor,
  waitForCrashes,
  useFirefoxWithExtension,
} from './harness.ts';

interface Entry {
  status: string;
  attempts: number;
  lastError?: string;
  crashId?: string;
  repeatCount: number;
  annotations: Record<string, string>;
}

const env = useFirefoxWithExtension();

async function entriesOf(guid: string): Promise<Entry[]> {
  const { reports } = await extensionStorage<{ reports?: Entry[] }>(env.extensionPage, ['reports']);
  return (reports ?? []).filter((r) => r.annotations.WebAppGUID === guid);
}

async function openCase(fixtureCase: string, guid = newGuid(), file = 'index.html'): Promise<{ page: Page; guid: string }> {
  const page = await env.browser.newPage();
  await page.goto(`${env.fixture.url}/${file}?case=${fixtureCase}&guid=${guid}#section`);
  return { page, guid };
}

/**
 * A report of the fixture's `inline` case, queued after its first attempt failed: the fixture's
 * submit URL is set to a free port where nothing listens (the caller restores it).
 */
async function queuedWhileDown(): Promise<{ guid: string; port: number }> {
  const port = await freePort();
  env.fixture.submitUrl = `http://127.0.0.1:${port}/submit`;
  const { page, guid } = await openCase('inline');
  await waitFor('a failed first attempt', async () => (await entriesOf(guid))[0]?.attempts === 1 && (await entriesOf(guid))[0]?.status === 'queued');
  await page.close();
  return { guid, port };
}

/** Sets options through the real options page and its Save button. */
async function saveOptions(values: Record<string, boolean | string>): Promise<void> {
  await showExtensionPage(env.extensionPage, 'options.html');
  await env.extensionPage.evaluate((v) => {
    for (const [id, value] of Object.entries(v)) {
      const input = document.getElementById(id) as HTMLInputElement;
      if (typeof value === 'boolean') input.checked = value;
      else input.value = value;
    }
    delete document.body.dataset.saved;
    (document.getElementById('save') as HTMLButtonElement).click();
  }, values);
  await waitFor('the options to be saved', () => env.extensionPage.evaluate(() => Boolean(document.body.dataset.saved)));
}

/**
 * Has a page that is already open throw `message`, and waits until its hook hands the error on
 * (the relay event, which the page sees).
 */
async function throwAndWaitForRelay(page: Page, message: string): Promise<void> {
  await page.evaluate(
    (m) =>
      new Promise<void>((resolve) => {
        document.addEventListener('socorrito:errors', (e) => String((e as CustomEvent).detail).includes(m) && resolve(), true);
        setTimeout(() => {
          throw new TypeError(m);
        });
      }),
    message,
  );
}

describe('delivery', () => {
  it('queues reports while the receiver is down and delivers them when it is back on the same port', async () => {
    const port = await freePort();
    const previous = env.fixture.submitUrl;
    env.fixture.submitUrl = `http://127.0.0.1:${port}/submit`;
    let revived: TestReceiver | undefined;
    try {
      const { page, guid } = await openCase('timer');
      const [queued] = await waitFor('a failed first attempt', async () => {
        const entries = await entriesOf(guid);
        return entries.length && entries[0]!.attempts >= 1 && entries[0]!.status === 'queued' ? entries : undefined;
      });
      expect(queued!.lastError).toMatch(/unreachable/);
      await page.close();

      revived = await startTestReceiver({ port });
      // The first retry comes within 30 s of the failed attempt.
      const [crash] = await waitForCrashes(revived, guid, 1, 40_000);
      expect(crash!.annotations.JSErrorType).toBe('TypeError');
      const [entry] = await waitFor('the entry to be marked submitted', async () => {
        const entries = await entriesOf(guid);
        return entries[0]?.status === 'submitted' ? entries : undefined;
      });
      expect(entry!.crashId).toBe(`bp-${crash!.crash_id}`);
      expect(entry!.attempts).toBe(2);
    } finally {
      env.fixture.submitUrl = previous;
      await revived?.stop();
    }
  });

  it('treats a 4xx answer other than 429 as final and shows it as failed', async () => {
    // Annotations over 64 bytes (every user agent is) make the collector answer 413.
    const strict = await startTestReceiver({ maxAnnotationBytes: 64 });
    const previous = env.fixture.submitUrl;
    env.fixture.submitUrl = `${strict.url}/submit`;
    try {
      const { page, guid } = await openCase('timer');
      const [entry] = await waitFor('the report to fail', async () => {
        const entries = await entriesOf(guid);
        return entries[0]?.status === 'failed' ? entries : undefined;
      });
      expect(entry!.lastError).toMatch(/^HTTP 413: Discarded=annotation_too_large/);
      expect(entry!.attempts).toBe(1);
      expect(await storedCrashes(strict)).toHaveLength(0);

      await showExtensionPage(env.extensionPage, 'popup.html');
      const row = await env.extensionPage.evaluate(() => {
        const rows = [...document.querySelectorAll('#reports tbody tr')] as HTMLElement[];
        const r = rows.find((tr) => tr.dataset.status === 'failed');
        return r ? [...r.querySelectorAll('td')].map((td) => td.textContent) : null;
      });
      expect(row?.[3]).toMatch(/^failed: HTTP 413/);
      await page.close();
    } finally {
      env.fixture.submitUrl = previous;
      await strict.stop();
    }
  });
});

describe('privacy on the wire', () => {
  it('sends no cookie, no referrer and no Origin that would identify this installation', async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    // A stand-in collector on the same host as the page (cookies are per host, not per port).
    const collector = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.end('CrashID=bp-de1bb258-cbbf-4589-a673-34f800261129\n');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const previous = env.fixture.submitUrl;
    env.fixture.submitUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}/submit`;
    try {
      const page = await env.browser.newPage();
      await page.goto(`${env.fixture.url}/index.html?case=timer&guid=${newGuid()}&cookie=1`);
      expect(await page.evaluate(() => document.cookie)).toContain('sid=s3cret-session');
      const [request] = await waitFor('the submission', () => (seen.length ? seen : undefined));
      expect(request!.headers.cookie).toBeUndefined();
      expect(request!.headers.referer).toBeUndefined();
      expect(request!.headers.origin ?? '').not.toMatch(/extension:/);
      expect(request!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect(request!.body).not.toContain('s3cret');
      await page.close();
    } finally {
      env.fixture.submitUrl = previous;
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});

describe('popup and options', () => {
  it('sends queued reports at once with the popup\'s "Retry queued now"', async () => {
    const previous = env.fixture.submitUrl;
    let revived: TestReceiver | undefined;
    try {
      const { guid, port } = await queuedWhileDown();
      revived = await startTestReceiver({ port });
      await showExtensionPage(env.extensionPage, 'popup.html');
      expect(await env.extensionPage.evaluate(() => document.querySelector('tr[data-status="queued"] .status')?.textContent)).toMatch(/^queued; last try: receiver unreachable/);
      await env.extensionPage.click('#retry');
      // Well before the 20 s automatic retry.
      const [crash] = await waitForCrashes(revived, guid, 1, 10_000);
      expect(crash!.annotations.JSErrorType).toBe('ReferenceError');
    } finally {
      env.fixture.submitUrl = previous;
      await revived?.stop();
    }
  });

  it('withdraws a queued report when its site is blocked before it could be sent, and the popup says why', async () => {
    const previous = env.fixture.submitUrl;
    let revived: TestReceiver | undefined;
    try {
      const { guid, port } = await queuedWhileDown();
      await saveOptions({ blockSites: '127.0.0.1' });
      revived = await startTestReceiver({ port });
      await showExtensionPage(env.extensionPage, 'popup.html');
      await env.extensionPage.click('#retry');
      const [entry] = await waitFor('the report to be withdrawn', async () => {
        const entries = await entriesOf(guid);
        return entries[0]?.status === 'withdrawn' ? entries : undefined;
      });
      expect(entry!.lastError).toBe('not sent: the site was blocked');
      expect(entry!.attempts).toBe(1);
      await showExtensionPage(env.extensionPage, 'popup.html');
      const row = await env.extensionPage.evaluate(() => {
        const tr = document.querySelector('tr[data-status="withdrawn"]');
        const status = tr?.querySelector('.status');
        return status ? { text: status.textContent, color: getComputedStyle(status).color } : null;
      });
      expect(row?.text).toBe('not sent: the site was blocked');
      expect(row?.color).toBe('rgb(110, 119, 129)'); // grey: nothing to act on
      expect(await storedCrashes(revived)).toEqual([]);
    } finally {
      env.fixture.submitUrl = previous;
      await saveOptions({ blockSites: '' });
      await revived?.stop();
    }
  });

  it("blocks a report's site from the popup: the site joins the blocked sites, its waiting report is withdrawn, and the button goes", async () => {
    const previous = env.fixture.submitUrl;
    let revived: TestReceiver | undefined;
    try {
      const { guid, port } = await queuedWhileDown();
      await showExtensionPage(env.extensionPage, 'popup.html');
      const site = new URL(env.fixture.url).hostname;
      const button = `tr[data-status="queued"] button.block[data-site="${site}"]`;
      expect(await env.extensionPage.evaluate((b) => document.querySelector(b)?.textContent, button)).toBe(`Don't report ${site}`);
      await clickInExtensionPage(env.extensionPage, button);
      await waitFor('the site to be blocked', async () => {
        const { settings } = await extensionStorage<{ settings?: { blockSites: string[] } }>(env.extensionPage, ['settings']);
        return settings?.blockSites.includes(site);
      });
      // The popup redraws without a button for a site already blocked.
      await waitFor('the button to go', () => env.extensionPage.evaluate((b) => document.querySelector(b) === null, button));
      revived = await startTestReceiver({ port });
      await env.extensionPage.click('#retry');
      const [entry] = await waitFor('the report to be withdrawn', async () => {
        const entries = await entriesOf(guid);
        return entries[0]?.status === 'withdrawn' ? entries : undefined;
      });
      expect(entry!.lastError).toBe('not sent: the site was blocked');
      expect(await storedCrashes(revived)).toEqual([]);
      // The Options page shows it, where it can be taken off again.
      await showExtensionPage(env.extensionPage, 'options.html');
      expect(await env.extensionPage.evaluate(() => (document.getElementById('blockSites') as HTMLTextAreaElement).value)).toBe(site);
    } finally {
      env.fixture.submitUrl = previous;
      await saveOptions({ blockSites: '' });
      await revived?.stop();
    }
  });

  it('says in the popup when the blocked sites are full, rather than leaving the button doing nothing', async () => {
    const previous = env.fixture.submitUrl;
    const full = Array.from({ length: 1000 }, (_, i) => `s${i}.example`);
    let guid = '';
    let port = 0;
    try {
      ({ guid, port } = await queuedWhileDown());
      await saveOptions({ blockSites: full.join('\n') });
      await showExtensionPage(env.extensionPage, 'popup.html');
      const site = new URL(env.fixture.url).hostname;
      const button = `tr[data-status="queued"] button.block[data-site="${site}"]`;
      await clickInExtensionPage(env.extensionPage, button);
      const problem = await waitFor('the popup to say why', () =>
        env.extensionPage.evaluate(() => {
          const p = document.getElementById('problem')!;
          return p.hidden ? undefined : p.textContent;
        }),
      );
      expect(problem).toBe('Not blocked: your list of blocked sites is full (1,000 sites). Remove some in the Options, then try again.');
      const { settings } = await extensionStorage<{ settings?: { blockSites: string[] } }>(env.extensionPage, ['settings']);
      expect(settings?.blockSites).toEqual(full);
      expect(await env.extensionPage.evaluate((b) => document.querySelector(b) !== null, button)).toBe(true);
    } finally {
      env.fixture.submitUrl = previous;
      await saveOptions({ blockSites: '' });
      // Its report is delivered, so no queued one is left for the tests after this one.
      if (port) {
        const revived = await startTestReceiver({ port });
        try {
          await showExtensionPage(env.extensionPage, 'popup.html');
          await env.extensionPage.click('#retry');
          await waitFor('the report to be delivered', async () => (await entriesOf(guid))[0]?.status === 'submitted');
        } finally {
          await revived.stop();
        }
      }
    }
  });

  it('keeps a site blocked from the popup when an Options page open since before is saved, also over unsaved edits there', async () => {
    const { page, guid } = await openCase('event');
    await waitFor('a report', async () => (await entriesOf(guid)).length > 0);
    await page.close();
    const site = new URL(env.fixture.url).hostname;
    // The Options page, open in another tab since before: here a frame of the popup's page.
    await showExtensionPage(env.extensionPage, 'popup.html');
    await env.extensionPage.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const frame = document.createElement('iframe');
          frame.id = 'opts';
          frame.src = 'options.html';
          document.body.append(frame);
          const wait = (): void => void (frame.contentDocument?.body?.dataset.ready === 'true' ? resolve() : setTimeout(wait, 50));
          wait();
        }),
    );
    /** Runs in the popup's page: the Options page's document, in its frame. */
    const inOptions = <T,>(fn: (doc: Document) => T): Promise<T> =>
      env.extensionPage.evaluate(`(${fn.toString()})(document.getElementById('opts').contentDocument)`) as Promise<T>;
    const blockedInStorage = async (): Promise<string[]> =>
      (await extensionStorage<{ settings?: { blockSites: string[] } }>(env.extensionPage, ['settings'])).settings?.blockSites ?? [];
    try {
      // Unsaved edits in the Options page: another site typed into the block list.
      await inOptions((doc) => {
        const list = doc.getElementById('blockSites') as HTMLTextAreaElement;
        list.value = 'typed.example';
        list.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await clickInExtensionPage(env.extensionPage, `button.block[data-site="${site}"]`);
      await waitFor('the site to be blocked', async () => (await blockedInStorage()).includes(site));
      await waitFor('the Options page to show it', async () => (await inOptions((doc) => (doc.getElementById('blockSites') as HTMLTextAreaElement).value)) === `typed.example\n${site}`);
      expect(await inOptions((doc) => doc.getElementById('status')!.textContent)).toContain(`Blocked from the popup meanwhile, added to the list: ${site}`);
      await inOptions((doc) => (doc.getElementById('save') as HTMLButtonElement).click());
      await waitFor('both kept', async () => (await blockedInStorage()).join(' ') === `typed.example ${site}`);
    } finally {
      await saveOptions({ blockSites: '' });
    }
  });

  it('lists reports in the popup with the crash ID linking to the report on the receiver', async () => {
    const { page, guid } = await openCase('event');
    const [crash] = await waitForCrashes(env.receiver, guid);
    await waitFor('the entry to be marked submitted', async () => (await entriesOf(guid))[0]?.status === 'submitted');
    await showExtensionPage(env.extensionPage, 'popup.html');
    const row = await env.extensionPage.evaluate((id) => {
      const link = [...document.querySelectorAll('#reports a')].find((a) => a.textContent === `bp-${id}`) as HTMLAnchorElement | undefined;
      const tr = link?.closest('tr');
      return tr ? { href: link!.href, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) } : null;
    }, crash!.crash_id);
    expect(row).not.toBeNull();
    expect(row!.href).toBe(`${env.receiver.url}/report/bp-${crash!.crash_id}`);
    // The name the page declared, and the site it came from beside it.
    expect(row!.cells[0]).toBe(`Fixture Shop ${new URL(env.fixture.url).host}`);
    expect(row!.cells[1]).toBe('RangeError: quantity out of range');
    expect(row!.cells[3]).toBe('submitted');
    await page.close();
  });

  it('shows characters that reorder text as [U+…] in the popup and the options page, as the report pages do', async () => {
    const { page, guid } = await openCase('bidi');
    const [crash] = await waitForCrashes(env.receiver, guid);
    expect(crash!.annotations.JSErrorMessage).toBe('pay \u202Elpmaxe.live'); // sent as it is
    await waitFor('the entry to be marked submitted', async () => (await entriesOf(guid))[0]?.status === 'submitted');
    await showExtensionPage(env.extensionPage, 'popup.html');
    const cells = await env.extensionPage.evaluate(() => [...document.querySelectorAll('#reports td.error')].map((td) => td.textContent));
    expect(cells).toContain('Error: pay [U+202E]lpmaxe.live');
    expect(cells.join('')).not.toContain('\u202E');
    await showExtensionPage(env.extensionPage, 'options.html');
    expect(await env.extensionPage.evaluate(() => document.getElementById('lastSent')!.textContent)).toContain('JSErrorMessage: pay [U+202E]lpmaxe.live');
    await page.close();
  });

  it('keeps query strings when the person turns stripping off, and previews exactly what was sent', async () => {
    await saveOptions({ stripQueryAndFragment: false });
    try {
      const { page, guid } = await openCase('timer');
      const [crash] = await waitForCrashes(env.receiver, guid);
      expect(crash!.annotations.URL).toBe(`${env.fixture.url}/index.html?case=timer&guid=${guid}#section`);
      // The query stays; a secret in it goes while "Hide e-mail addresses and tokens" is on (the default).
      expect(crash!.annotations.JSStack).toContain('app.js?v=1.4.2&token=[filtered]');
      await page.close();

      await showExtensionPage(env.extensionPage, 'options.html');
      const preview = await env.extensionPage.evaluate(() => ({
        meta: document.getElementById('lastSentMeta')!.textContent,
        text: document.getElementById('lastSent')!.textContent,
      }));
      expect(preview.meta).toContain(`POST ${env.receiver.url}/submit`);
      for (const [name, value] of Object.entries(crash!.annotations)) expect(preview.text).toContain(`${name}: ${value}`);
    } finally {
      await saveOptions({ stripQueryAndFragment: true });
    }
  });

  it('reports pages that declare nothing to my receiver only when asked to', async () => {
    await saveOptions({ receiverUrl: env.receiver.url, reportAllSites: true });
    try {
      const page = await env.browser.newPage();
      await page.goto(`${env.fixture.url}/plain.html?secret=1`);
      const crash = await waitFor('the undeclared page report', async () =>
        (await storedCrashes(env.receiver)).find((c) => c.annotations.JSErrorMessage === 'undeclared page error'),
      );
      expect(crash.annotations.WebAppGUID).toBeUndefined();
      expect(crash.annotations.SubmitURL).toBeUndefined();
      expect(crash.annotations.ProductName).toBe(new URL(env.fixture.url).host);
      expect(crash.annotations.URL).toBe(`${env.fixture.url}/plain.html`);
      await page.close();
    } finally {
      await saveOptions({ receiverUrl: '', reportAllSites: false });
    }
  });

  it('sends nothing from a blocked site, even one that declares a receiver', async () => {
    const guid = newGuid();
    const sentinel = newGuid();
    // Opened before the site is blocked: one loaded after gets no hook at all (injection test);
    // one already open keeps it until reloaded, and the background refuses what it hands on.
    const page = await env.browser.newPage();
    await page.goto(`${env.fixture.url}/index.html?case=none&guid=${guid}`);
    // A URL typed in the list is cut to its host, and the page shows it so.
    await saveOptions({ blockSites: `${env.fixture.url}/index.html` });
    expect(await env.extensionPage.evaluate(() => (document.getElementById('blockSites') as HTMLTextAreaElement).value)).toBe('127.0.0.1');
    try {
      await throwAndWaitForRelay(page, 'thrown on a blocked site');
      // A sentinel from the same server under another name, which is not blocked, in the same
      // tab: batches are taken in order, so once it is stored the blocked one has been seen.
      await page.goto(`${env.fixture.url.replace('127.0.0.1', 'localhost')}/index.html?case=event&guid=${sentinel}`);
      await waitForCrashes(env.receiver, sentinel);
    } finally {
      await saveOptions({ blockSites: '' });
    }
    expect((await storedCrashes(env.receiver)).filter((c) => c.annotations.WebAppGUID === guid)).toEqual([]);
    expect(await entriesOf(guid)).toEqual([]);
    await page.close();
  });

  it('sends nothing from a frame of another site inside a tab whose site is blocked', async () => {
    /** Opens a blocked-to-be site (localhost) embedding the app (127.0.0.1) in a frame, and has the frame throw. */
    const widgetError = async (guid: string): Promise<Page> => {
      const page = await env.browser.newPage();
      const frame = `${env.fixture.url}/index.html?case=none&guid=${guid}`;
      await page.goto(`${env.fixture.url.replace('127.0.0.1', 'localhost')}/embed.html?frame=${encodeURIComponent(frame)}`);
      const widget = await waitFor('the embedded frame', () => page.frames().find((f) => f.url() === frame));
      await widget.waitForFunction(() => document.readyState === 'complete');
      await widget.evaluate(() => {
        const w = window as unknown as { __relays: number };
        w.__relays = 0;
        document.addEventListener('socorrito:errors', () => w.__relays++);
        // The app's own function, run by the page (code run by the test counts as an extension's).
        const script = document.createElement('script');
        script.textContent = 'setTimeout(timerCallback)';
        document.body.append(script);
      });
      await widget.waitForFunction(() => (window as unknown as { __relays: number }).__relays >= 1);
      return page;
    };
    // Not blocked, the frame's error is reported (so the check below can fail).
    const allowed = newGuid();
    const allowedPage = await widgetError(allowed);
    await waitForCrashes(env.receiver, allowed);
    await allowedPage.close();

    await saveOptions({ blockSites: 'localhost:1' }); // typed with a port: the host is blocked
    expect(await env.extensionPage.evaluate(() => (document.getElementById('blockSites') as HTMLTextAreaElement).value)).toBe('localhost');
    const guid = newGuid();
    const sentinel = newGuid();
    try {
      const page = await widgetError(guid);
      // The app at the top of another tab, not blocked: once it is stored, the frame's batch has long been handled.
      const other = await env.browser.newPage();
      await other.goto(`${env.fixture.url}/index.html?case=event&guid=${sentinel}`);
      await waitForCrashes(env.receiver, sentinel);
      await page.close();
      await other.close();
    } finally {
      await saveOptions({ blockSites: '' });
    }
    expect((await storedCrashes(env.receiver)).filter((c) => c.annotations.WebAppGUID === guid)).toEqual([]);
    expect(await entriesOf(guid)).toEqual([]);
  });

  it('reads no manifest a page names while reporting is off (a request the page would choose)', async () => {
    const guid = newGuid();
    const manifest = `app.webmanifest?guid=${guid}`;
    const page = await env.browser.newPage();
    // Opened while reporting is on (one loaded while it is off gets no hook: injection test); it
    // names the app's manifest once reporting is off, and throws.
    await page.goto(`${env.fixture.url}/plain.html`);
    await saveOptions({ enabled: false });
    try {
      await page.evaluate((href) => {
        const link = document.createElement('link');
        link.rel = 'manifest';
        link.href = href;
        document.head.append(link);
      }, manifest);
      await throwAndWaitForRelay(page, 'thrown while reporting is off');
      await new Promise((r) => setTimeout(r, 1000));
      expect(env.fixture.requested.filter((u) => u.endsWith(manifest))).toEqual([]);
    } finally {
      await saveOptions({ enabled: true });
    }
    // On again, the app's error has the manifest read (so the check above could fail).
    await page.goto(`${env.fixture.url}/manifest-app.html?case=none&guid=${guid}`);
    await waitFor('the manifest read', () => env.fixture.requested.some((u) => u.endsWith(manifest)));
    await waitForCrashes(env.receiver, guid);
    await page.close();
  });

  it('says in the popup when reporting is off', async () => {
    const offShown = async (): Promise<boolean> => {
      await showExtensionPage(env.extensionPage, 'popup.html');
      return env.extensionPage.evaluate(() => !(document.getElementById('off') as HTMLElement).hidden);
    };
    expect(await offShown()).toBe(false);
    await saveOptions({ enabled: false });
    try {
      expect(await offShown()).toBe(true);
    } finally {
      await saveOptions({ enabled: true });
    }
    expect(await offShown()).toBe(false);
  });

  it('refuses invalid options and says why', async () => {
    await showExtensionPage(env.extensionPage, 'options.html');
    const problems = await env.extensionPage.evaluate(() => {
      (document.getElementById('receiverUrl') as HTMLInputElement).value = 'javascript:alert(1)';
      (document.getElementById('blockSites') as HTMLTextAreaElement).value = 'ok.example\nnot a host!';
      // The form's own URL check would stop a person first; the extension's check is what we test.
      (document.getElementById('form') as HTMLFormElement).noValidate = true;
      (document.getElementById('save') as HTMLButtonElement).click();
      return [...document.querySelectorAll('#problems li')].map((li) => li.textContent);
    });
    expect(problems.join('\n')).toMatch(/receiver URL must be an http or https URL/);
    expect(problems.join('\n')).toMatch(/not a site: "not a host!"/);
    const { settings } = await extensionStorage<{ settings: { blockSites: string[]; receiverUrl: string } }>(env.extensionPage, ['settings']);
    expect(settings.blockSites).toEqual([]);
    expect(settings.receiverUrl).toBe('');
  });

  it('clears finished reports from the popup and keeps queued ones', async () => {
    await showExtensionPage(env.extensionPage, 'popup.html');
    expect(await env.extensionPage.$$eval('#reports tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
    await env.extensionPage.click('#clear');
    await waitFor('the finished reports to be cleared', async () => {
      const { reports } = await extensionStorage<{ reports: Entry[] }>(env.extensionPage, ['reports']);
      return reports.every((r) => r.status === 'queued' || r.status === 'sending');
    });
    await waitFor('the popup to show the empty list', () => env.extensionPage.evaluate(() => !(document.getElementById('empty') as HTMLElement).hidden));
  });
});
