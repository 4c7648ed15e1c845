/**
 * The background's Reporter in Node against a real receiver over real HTTP, with an in-memory
 * storage area and a clock the test moves: folding repeats, rate limits, backoff, Retry-After
 * on 429, final 4xx, the queue cap and restart.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RETRY_DELAYS_MS } from '../../extension/src/background/backoff.ts';
import {
  ATTEMPT_ALARM_MS,
  DEDUPE_WINDOW_MS,
  LOCAL_RECEIVER_REFUSED,
  MAX_QUEUED_PER_SITE,
  PAGE_REPORTS_PER_MINUTE,
  Reporter,
  SETTLE_MS,
  SITE_BATCHES_PER_MINUTE,
  withdrawnBecause,
} from '../../extension/src/background/reporter.ts';
import { buildAnnotations } from '../../extension/src/background/report.ts';
import type { ReportEntry } from '../../extension/src/background/store.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../extension/src/background/settings.ts';
import { MAX_QUEUED, ReportStore, type StorageArea, type StoreState, enforceCaps } from '../../extension/src/background/store.ts';
import { SUBMIT_TIMEOUT_MS, submitReport } from '../../extension/src/background/submit.ts';
import { checkIdentity } from '../../extension/src/identity.ts';
import { type CapturedError, MAX_MESSAGE_CHARS, MAX_STACK_CHARS } from '../../extension/src/relay.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { storedCrashes } from './harness.ts';

/** browser.storage.local's behaviour in memory: values are copied in and out as JSON. */
class MemoryStorage implements StorageArea {
  readonly data = new Map<string, string>();
  async get(keys: string | string[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of typeof keys === 'string' ? [keys] : keys) if (this.data.has(k)) out[k] = JSON.parse(this.data.get(k)!);
    return out;
  }
  async set(items: Record<string, unknown>): Promise<void> {
    for (const [k, v] of Object.entries(items)) this.data.set(k, JSON.stringify(v));
  }
}

const receivers: TestReceiver[] = [];
const reporters: Reporter[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const r of reporters.splice(0)) await r.stop();
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiverWith(overrides: Parameters<typeof startTestReceiver>[0] = {}): Promise<TestReceiver> {
  const r = await startTestReceiver(overrides);
  receivers.push(r);
  return r;
}

function error(message: string, count = 1): CapturedError {
  return { mechanism: 'onerror', type: 'TypeError', message, stack: `f@https://shop.example/app.js?v=1:1:2\n`, filename: 'https://shop.example/app.js?v=1', line: 1, column: 2, count };
}

function setup(submitUrl: string, storage = new MemoryStorage()) {
  const clock = { now: Date.parse('2026-11-29T08:00:00Z') };
  /** The person's settings, which a test may change while reports wait. */
  const settings: { current: Settings } = { current: DEFAULT_SETTINGS };
  /** Whether the extension may reach a receiver (its site access), which a test may change. */
  const access = { granted: true };
  /** The alarms the reporter set (when each is to wake the background). */
  const alarms: number[] = [];
  const reporter = new Reporter({
    store: new ReportStore(storage),
    loadSettings: async () => settings.current,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0',
    now: () => clock.now,
    mayReach: async () => access.granted,
    scheduleAlarm: (when) => alarms.push(when),
  });
  reporters.push(reporter);
  const identity = { guid: 'app-1', submitUrl, release: '1.0', productName: 'Shop', source: 'meta' as const };
  const send = (errors: CapturedError[], page = 'tab1') =>
    reporter.handleBatch({ identity, errors, dropped: 0, pageUrl: 'https://shop.example/cart?session=abc', pageKey: page });
  const state = async (): Promise<StoreState> => new ReportStore(storage).read();
  return { clock, reporter, send, state, storage, settings, access, alarms };
}

describe('Reporter', () => {
  it('folds repeats into one report whose JSRepeatCount counts them all, with URLs scrubbed', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state } = setup(`${receiver.url}/submit`);
    await send([error('boom', 3)]);
    await send([error('boom', 4)]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const crashes = await storedCrashes(receiver);
    expect(crashes).toHaveLength(1);
    expect(crashes[0]!.annotations).toMatchObject({ JSRepeatCount: '7', URL: 'https://shop.example/cart', JSFilename: 'https://shop.example/app.js', JSStack: 'f@https://shop.example/app.js:1:2\n', WebAppGUID: 'app-1' });
    // Repeats after it was sent gather in a follow-up report, sent once the first one's minute is over.
    const firstMadeAt = (await state()).reports[0]!.createdAt;
    await send([error('boom', 5)]);
    await send([error('boom', 2)]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    expect(await storedCrashes(receiver)).toHaveLength(1);
    expect((await state()).reports.map((e) => [e.status, e.repeatCount])).toEqual([
      ['submitted', 7],
      ['queued', 7],
    ]);
    clock.now = firstMadeAt + DEDUPE_WINDOW_MS;
    await reporter.drain();
    const both = await storedCrashes(receiver);
    expect(both.map((c) => Number(c.annotations.JSRepeatCount)).sort()).toEqual([7, 7]); // 14 in all, as in the popup
    // Once the window is over, the same error is a new report, sent after the usual settling.
    clock.now += DEDUPE_WINDOW_MS;
    await send([error('boom')]);
    expect((await state()).reports.at(-1)).toMatchObject({ status: 'queued', nextAttemptAt: clock.now + SETTLE_MS });
    clock.now += SETTLE_MS;
    await reporter.drain();
    expect(await storedCrashes(receiver)).toHaveLength(3);
  });

  it('sends nothing queued after the person turns reporting off or blocks the site, and strips what was queued unstripped', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state, settings } = setup(`${receiver.url}/submit`);
    const keepQueries = { ...DEFAULT_SETTINGS, stripQueryAndFragment: false };
    const deliverUnder = async (now: Settings): Promise<void> => {
      settings.current = now;
      clock.now += SETTLE_MS;
      await reporter.drain();
    };
    settings.current = keepQueries;
    await send([error('queued, then reporting turned off')]);
    await deliverUnder({ ...keepQueries, enabled: false });
    settings.current = keepQueries;
    await send([error('queued, then the site blocked')]);
    await deliverUnder({ ...keepQueries, blockSites: ['example'] });
    settings.current = keepQueries;
    await send([error('queued, then stripping turned on')]);
    await deliverUnder(DEFAULT_SETTINGS);
    expect((await state()).reports.map((e) => [e.annotations.JSErrorMessage, e.status, e.lastError])).toEqual([
      ['queued, then reporting turned off', 'withdrawn', 'not sent: reporting was turned off'],
      ['queued, then the site blocked', 'withdrawn', 'not sent: the site was blocked'],
      ['queued, then stripping turned on', 'submitted', undefined],
    ]);
    const crashes = await storedCrashes(receiver);
    expect(crashes.map((c) => [c.annotations.JSErrorMessage, c.annotations.URL, c.annotations.JSFilename])).toEqual([
      ['queued, then stripping turned on', 'https://shop.example/cart', 'https://shop.example/app.js'],
    ]);
  });

  it("treats a frame as part of the site whose tab it is in: blocking that site keeps and withdraws the frame's reports", async () => {
    const receiver = await receiverWith();
    const { clock, reporter, state, settings } = setup(`${receiver.url}/submit`);
    const identity = { guid: 'widget-1', submitUrl: `${receiver.url}/submit`, source: 'meta' as const };
    const inFrame = (message: string) =>
      reporter.handleBatch({ identity, errors: [error(message)], dropped: 0, pageUrl: 'https://widget.example/chat', pageKey: 'tab1:2', topUrl: 'https://bank.example/account' });
    settings.current = { ...DEFAULT_SETTINGS, blockSites: ['bank.example'] };
    await inFrame('in a frame of a blocked site');
    expect((await state()).reports).toEqual([]);
    settings.current = DEFAULT_SETTINGS;
    await inFrame('queued, then the tab site blocked');
    expect((await state()).reports[0]!.topHost).toBe('bank.example');
    settings.current = { ...DEFAULT_SETTINGS, blockSites: ['bank.example'] };
    clock.now += SETTLE_MS;
    await reporter.drain();
    expect((await state()).reports.map((e) => [e.status, e.lastError])).toEqual([['withdrawn', 'not sent: the site was blocked']]);
    // The tab's address is never sent: a frame's report carries its own page only.
    settings.current = DEFAULT_SETTINGS;
    await inFrame('sent');
    clock.now += SETTLE_MS;
    await reporter.drain();
    const [crash] = await storedCrashes(receiver);
    expect(crash!.annotations.URL).toBe('https://widget.example/chat');
    expect(JSON.stringify(crash!.annotations)).not.toContain('bank.example');
  });

  it("keeps one site from filling the queue or holding back other sites' reports, whatever frames, paths and GUIDs it invents", async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      res.writeHead(503).end('Discarded=busy');
    });
    await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
    try {
      const hostileUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/submit`;
      const receiver = await receiverWith();
      const { clock, reporter, state } = setup(`${receiver.url}/submit`);
      for (let i = 0; i < 60; i++) {
        const identity = { guid: `flood-${i}`, submitUrl: hostileUrl, source: 'meta' as const };
        await reporter.handleBatch({ identity, errors: [error(`flood ${i}`)], dropped: 0, pageUrl: `https://evil.example/f${i}`, pageKey: `tab9:${i}:/f${i}`, topUrl: 'https://evil.example/' });
      }
      const victim = { guid: 'shop', submitUrl: `${receiver.url}/submit`, source: 'meta' as const };
      await reporter.handleBatch({ identity: victim, errors: [error('the real one')], dropped: 0, pageUrl: 'https://shop.example/cart', pageKey: 'tab1' });
      const queued = (await state()).reports.filter((e) => e.status === 'queued');
      expect(queued.filter((e) => e.annotations.WebAppGUID?.startsWith('flood-')).length).toBeLessThanOrEqual(MAX_QUEUED_PER_SITE);
      expect(queued.some((e) => e.annotations.WebAppGUID === 'shop')).toBe(true);
      expect((await state()).stats.droppedRateLimited + (await state()).stats.droppedQueueFull).toBeGreaterThanOrEqual(60 - MAX_QUEUED_PER_SITE);
      // Delivery takes turns between receivers: the real report goes at the second attempt, not after the flood's.
      clock.now += SETTLE_MS;
      await reporter.drain();
      expect((await storedCrashes(receiver)).map((c) => c.annotations.JSErrorMessage)).toEqual(['the real one']);
    } finally {
      refusing.close();
    }
  });

  it('sends nothing to a receiver the extension may not reach (limited site access would put its ID in Origin), until it may', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state, access } = setup(`${receiver.url}/submit`);
    access.granted = false;
    await send([error('while access is limited')]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const [waiting] = (await state()).reports;
    expect(waiting).toMatchObject({ status: 'queued', lastError: `not sent: Socorrito may not reach ${new URL(receiver.url).host} (its site access is limited; allow it in about:addons)` });
    expect(await storedCrashes(receiver)).toEqual([]);
    access.granted = true;
    clock.now = waiting!.nextAttemptAt;
    await reporter.drain();
    expect((await state()).reports[0]).toMatchObject({ status: 'submitted' });
    expect(await storedCrashes(receiver)).toHaveLength(1);
  });

  it('sends nothing from a public page to a local address that is no receiver, and follows no redirect', async () => {
    const seen: string[] = [];
    const local = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.url?.startsWith('/moved')) return void res.writeHead(307, { location: '/admin.cgi?action=reboot' }).end();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>router</html>'); // no CORS answer
    });
    await new Promise<void>((done) => local.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
      const router = setup(`${url}/admin.cgi`);
      await router.send([error('aimed at the router')]);
      router.clock.now += SETTLE_MS;
      await router.reporter.drain();
      expect((await router.state()).reports[0]).toMatchObject({ status: 'failed', lastError: LOCAL_RECEIVER_REFUSED });
      expect(seen).toEqual(['OPTIONS /admin.cgi/submit']); // asked, never posted to
      // A local receiver that says yes but redirects the report: not followed.
      const moved = createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        req.resume();
        if (req.method === 'OPTIONS') return void res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
        res.writeHead(307, { location: '/admin.cgi?action=reboot' }).end();
      });
      await new Promise<void>((done) => moved.listen(0, '127.0.0.1', done));
      try {
        seen.length = 0;
        const redirecting = setup(`http://127.0.0.1:${(moved.address() as AddressInfo).port}/moved`);
        await redirecting.send([error('redirected')]);
        redirecting.clock.now += SETTLE_MS;
        await redirecting.reporter.drain();
        expect((await redirecting.state()).reports[0]).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/redirect, which is not followed/) });
        expect(seen).toEqual(['OPTIONS /moved/submit', 'POST /moved/submit']);
      } finally {
        moved.close();
      }
    } finally {
      local.close();
    }
  });

  it("withdraws a report to the person's own receiver once that receiver or the site's place on the list changes", () => {
    const own = { ...DEFAULT_SETTINGS, receiverUrl: 'https://mine.example', allowSites: ['shop.example'] };
    const entry = { submitUrl: 'https://mine.example/submit', annotations: { URL: 'https://shop.example/cart' } } as unknown as ReportEntry;
    expect(withdrawnBecause(own, entry)).toBeNull();
    expect(withdrawnBecause({ ...own, receiverUrl: 'https://other.example' }, entry)).toBe('not sent: your receiver URL was changed or removed');
    expect(withdrawnBecause({ ...own, allowSites: [] }, entry)).toBe('not sent: the site is no longer reported');
    expect(withdrawnBecause({ ...own, allowSites: [], reportAllSites: true }, entry)).toBeNull();
  });

  it('never sends a user name or password from a URL, whatever the settings', () => {
    for (const strip of [true, false]) {
      const annotations = buildAnnotations({
        error: { ...error('x'), stack: 'c@http://alice:pw123@intranet.example/static/main.js:1:15\n', filename: 'http://alice:pw123@intranet.example/static/main.js' },
        identity: null,
        pageUrl: 'http://alice:pw123@intranet.example/?a=1',
        submitUrl: 'https://mine.example/submit',
        declared: false,
        strip,
        hide: strip,
        now: 0,
        userAgent: 'test',
      });
      expect(JSON.stringify(annotations)).not.toContain('pw123');
      expect(annotations.URL).toBe(strip ? 'http://intranet.example/' : 'http://intranet.example/?a=1');
    }
  });

  it('never sends what a cut at the length limit left of a user name and password, in a plain or a percent-encoded URL', () => {
    const cutIn = (url: string, max: number): string => `${'m'.repeat(max - url.length)}${url}`;
    const texts = [
      ['https://alice:correct', 'https://'],
      ['/redirect/https%3A%2F%2Falice%3Acorrect', '/redirect/https%3A%2F%2F'],
      ['/redirect/https%253A%252F%252Falice%253Acorrect', '/redirect/https%253A%252F%252F'],
    ];
    const annotationsOf = (captured: CapturedError) =>
      buildAnnotations({ error: captured, identity: null, pageUrl: 'https://shop.example/', submitUrl: 'https://mine.example/submit', declared: false, strip: true, hide: true, now: 0, userAgent: 'test' });
    for (const [url, kept] of texts) {
      const annotations = annotationsOf({ ...error(cutIn(url!, MAX_MESSAGE_CHARS)), stack: cutIn(url!, MAX_STACK_CHARS) });
      expect(annotations.JSErrorMessage!.endsWith(`m${kept}`), url).toBe(true);
      expect(annotations.JSStack!.endsWith(`m${kept}`), url).toBe(true);
    }
    // An encoded URL whose authority ended before the cut keeps its host.
    const whole = annotationsOf(error(cutIn('/r/https%3A%2F%2Fidp.example%2Fcb', MAX_MESSAGE_CHARS)));
    expect(whole.JSErrorMessage!.endsWith('m/r/https%3A%2F%2Fidp.example%2Fcb')).toBe(true);
  });

  it('counts repeats of a report the receiver refused locally, without sending it again', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state } = setup(`${receiver.url}/nowhere`);
    await send([error('boom')]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    expect((await state()).reports[0]!.status).toBe('failed');
    await send([error('boom', 4)]);
    expect((await state()).reports.map((e) => [e.status, e.repeatCount])).toEqual([['failed', 5]]);
  });

  it("adds the repeats of batches the site limit refused to the report waiting for the same error", async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state } = setup(`${receiver.url}/submit`);
    // A loop in many documents of one site: more batches in a minute than the site may hand over.
    const batches = SITE_BATCHES_PER_MINUTE + 30;
    for (let i = 0; i < batches; i++) await send([error('loop', 3)], `tab1:${i}:/cart`);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const crashes = await storedCrashes(receiver);
    expect(crashes.map((c) => c.annotations.JSRepeatCount)).toEqual([String(3 * batches)]);
    expect((await state()).stats.droppedRateLimited).toBe(0);
  });

  it('keeps repeats it holds when it stops: a new Reporter on the same storage delivers them, on their report or on their own', async () => {
    const receiver = await receiverWith();
    const storage = new MemoryStorage();
    const first = setup(`${receiver.url}/submit`, storage);
    // Past the site's batches of this minute: the rest are held in memory.
    const flood = async (message: string, batches: number) => {
      for (let i = 0; i < batches; i++) await first.send([error(message, 3)], `tab1:${i}:/cart`);
    };
    await flood('waiting', SITE_BATCHES_PER_MINUTE + 4);
    await first.reporter.stop();
    const second = setup(`${receiver.url}/submit`, storage);
    second.clock.now = first.clock.now;
    await second.reporter.start();
    second.clock.now += SETTLE_MS;
    await second.reporter.drain();
    expect((await storedCrashes(receiver)).map((c) => c.annotations.JSRepeatCount)).toEqual([String(3 * (SITE_BATCHES_PER_MINUTE + 4))]);

    // Held while their report had gone out: kept as a follow-up of their own, sent when its minute is over.
    const third = setup(`${receiver.url}/submit`, storage);
    third.clock.now = second.clock.now + DEDUPE_WINDOW_MS;
    first.clock.now = third.clock.now;
    await flood('sent first', 1);
    first.clock.now += SETTLE_MS;
    await first.reporter.drain();
    // Another error takes the rest of the site's batches of this minute: no follow-up is queued before the stop.
    await flood('other', SITE_BATCHES_PER_MINUTE - 1);
    await flood('sent first', 2);
    await first.reporter.stop();
    third.clock.now = first.clock.now;
    await third.reporter.start();
    const sent = (await third.state()).reports.filter((e) => e.annotations.JSErrorMessage === 'sent first');
    expect(sent.map((e) => [e.status, e.repeatCount])).toEqual([
      ['submitted', 3],
      ['queued', 3 * 2],
    ]);
    third.clock.now = sent[0]!.createdAt + DEDUPE_WINDOW_MS;
    await third.reporter.drain();
    const crashes = (await storedCrashes(receiver)).filter((c) => c.annotations.JSErrorMessage === 'sent first');
    expect(crashes.map((c) => c.annotations.JSRepeatCount).sort()).toEqual(['3', '6']);
    expect((await third.state()).stats).toMatchObject({ droppedRateLimited: 0, droppedQueueFull: 0 });
  });

  it('sets the alarm for a report that held errors make, when the fold timer places them and when it stops', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state, alarms } = setup(`${receiver.url}/submit`);
    await send([error('boom')]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    // The rest of the site's batches of this minute, their report sent too: nothing is queued.
    for (let i = 1; i < SITE_BATCHES_PER_MINUTE; i++) await send([error('other')], `tab1:${i}:/cart`);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const boom = (await state()).reports.find((e) => e.annotations.JSErrorMessage === 'boom')!;
    expect(boom.status).toBe('submitted');
    expect((await state()).reports.filter((e) => e.status === 'queued')).toEqual([]);
    // Later in boom's minute (the alarm set for the last attempt has long rung): its repeats are held.
    clock.now = boom.createdAt + DEDUPE_WINDOW_MS / 2;
    const before = alarms.length;
    await send([error('boom', 4)], 'tab2:0:/cart');
    // Placed by the fold timer as a follow-up, which nothing else would wake the background for.
    const followUp = await vi.waitFor(async () => {
      const queued = (await state()).reports.find((e) => e.status === 'queued' && e.annotations.JSErrorMessage === 'boom');
      if (!queued) throw new Error('not placed yet');
      return queued;
    }, { timeout: 5_000 });
    expect(followUp.repeatCount).toBe(4);
    await vi.waitFor(() => expect(alarms.slice(before)).toContain(followUp.nextAttemptAt), { timeout: 5_000 });

    // Held when the background is suspended: stop() places it, as a new report, and sets its alarm.
    const beforeStop = alarms.length;
    await send([error('late')], 'tab3:0:/cart');
    await reporter.stop();
    const late = (await state()).reports.find((e) => e.annotations.JSErrorMessage === 'late')!;
    expect(late.status).toBe('queued');
    expect(alarms.slice(beforeStop)).toContain(Math.min(late.nextAttemptAt, followUp.nextAttemptAt));
  });

  it('counts held repeats on the report a batch would count them on: not on one made more than a minute before', async () => {
    const receiver = await receiverWith();
    const { clock, reporter, send, state } = setup(`${receiver.url}/submit`);
    await send([error('boom')]);
    const old = (await state()).reports[0]!;
    // Still waiting a minute later (never tried here; a receiver that is down does the same).
    clock.now = old.createdAt + DEDUPE_WINDOW_MS;
    // Another error takes the site's batches of this minute; the next batches of the first are held.
    for (let i = 0; i < SITE_BATCHES_PER_MINUTE; i++) await send([error('other')], `tab1:${i}:/cart`);
    for (let i = 0; i < 5; i++) await send([error('boom', 2)], `tab2:${i}:/cart`);
    // A batch let through now would make a new report (the old one's minute is over): so must the held ones.
    await reporter.drain();
    const boom = (await state()).reports.filter((e) => e.annotations.JSErrorMessage === 'boom');
    expect(boom.map((e) => [e.id === old.id, e.repeatCount])).toEqual([
      [true, 1],
      [false, 10],
    ]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const sent = (await storedCrashes(receiver)).filter((c) => c.annotations.JSErrorMessage === 'boom');
    expect(sent.map((c) => c.annotations.JSRepeatCount).sort()).toEqual(['1', '10']);
  });

  it("counts the in-page drops of a batch the site limit refused as dropped in the page, not as rate-limited", async () => {
    const receiver = await receiverWith();
    const { clock, reporter, state } = setup(`${receiver.url}/submit`);
    const identity = { guid: 'app-1', submitUrl: `${receiver.url}/submit`, source: 'meta' as const };
    const batch = (i: number, dropped: number) =>
      reporter.handleBatch({ identity, errors: [error('loop')], dropped, pageUrl: 'https://shop.example/cart', pageKey: `tab1:${i}:/cart` });
    for (let i = 0; i < SITE_BATCHES_PER_MINUTE; i++) await batch(i, 1);
    // Refused by the site limit: its one error joins the report, its 7 dropped in the page stay so.
    await batch(SITE_BATCHES_PER_MINUTE, 7);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const s = await state();
    expect(s.stats).toMatchObject({ droppedInPage: SITE_BATCHES_PER_MINUTE + 7, droppedRateLimited: 0 });
    expect(s.reports.map((e) => e.repeatCount)).toEqual([SITE_BATCHES_PER_MINUTE + 1]);
  });

  it('rate-limits new reports per page and counts what it left out', async () => {
    const receiver = await receiverWith();
    const { send, state } = setup(`${receiver.url}/submit`);
    await send(Array.from({ length: PAGE_REPORTS_PER_MINUTE + 3 }, (_, i) => error(`distinct ${i}`)));
    const s = await state();
    expect(s.reports).toHaveLength(PAGE_REPORTS_PER_MINUTE);
    expect(s.stats.droppedRateLimited).toBe(3);
  });

  it('retries an unreachable receiver within 30 s, then later, and delivers once it answers', async () => {
    const receiver = await receiverWith();
    const port = receiver.port;
    await receiver.stop();
    receivers.pop();
    const { clock, reporter, send, state } = setup(`http://127.0.0.1:${port}/submit`);
    await send([error('while down')]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    let [entry] = (await state()).reports;
    expect(entry).toMatchObject({ status: 'queued', attempts: 1 });
    expect(entry!.lastError).toMatch(/unreachable/);
    const firstWait = entry!.nextAttemptAt - clock.now;
    expect(firstWait).toBeLessThanOrEqual(30_000);
    expect(firstWait).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]! * 0.9);

    clock.now = entry!.nextAttemptAt;
    await reporter.drain();
    [entry] = (await state()).reports;
    expect(entry!.attempts).toBe(2);
    expect(entry!.nextAttemptAt - clock.now).toBeGreaterThan(firstWait);

    const back = await receiverWith({ port });
    clock.now = entry!.nextAttemptAt;
    await reporter.drain();
    expect((await state()).reports[0]).toMatchObject({ status: 'submitted', attempts: 3 });
    expect(await storedCrashes(back)).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    const receiver = await receiverWith({ clientRatePerMinute: 1 });
    const { clock, reporter, send, state } = setup(`${receiver.url}/submit`);
    await send([error('first'), error('second')]);
    clock.now += SETTLE_MS;
    await reporter.drain();
    const { reports } = await state();
    const second = reports.find((r) => r.annotations.JSErrorMessage === 'second')!;
    expect(second.status).toBe('queued');
    expect(second.lastError).toMatch(/^HTTP 429/);
    const wait = second.nextAttemptAt - clock.now;
    // The collector asks for the rest of its minute window: more than our first backoff step would be.
    expect(wait).toBeGreaterThan(RETRY_DELAYS_MS[0]!);
    expect(wait).toBeLessThanOrEqual(60_000);
  });

  it('keeps what the browser was sending when it closed, and sends it after a restart', async () => {
    const receiver = await receiverWith();
    const storage = new MemoryStorage();
    const first = setup(`${receiver.url}/submit`, storage);
    await first.send([error('interrupted')]);
    // The browser closed mid-attempt: the entry is left as 'sending'.
    const s = JSON.parse(storage.data.get('reports')!);
    s[0].status = 'sending';
    storage.data.set('reports', JSON.stringify(s));
    first.reporter.stop();

    const second = setup(`${receiver.url}/submit`, storage);
    await second.reporter.start();
    second.clock.now += SETTLE_MS;
    await second.reporter.drain();
    expect(await storedCrashes(receiver)).toHaveLength(1);
    expect((await second.state()).reports[0]!.status).toBe('submitted');
  });
});

describe('a receiver that never answers', () => {
  /** Firefox suspends an idle background after this long, even while a fetch waits. */
  const FIREFOX_IDLE_MS = 30_000;
  const healthy = 'https://crashes.shop.example/submit';

  /** A Reporter on fake timers whose fetch answers `healthy` and never answers anything else. */
  function hanging() {
    vi.useFakeTimers({ now: Date.parse('2026-11-30T08:00:00Z') });
    const fetched: { host: string; at: number }[] = [];
    const alarms: number[] = [];
    const store = new ReportStore(new MemoryStorage());
    const reporter = new Reporter({
      store,
      loadSettings: async () => DEFAULT_SETTINGS,
      userAgent: 'Mozilla/5.0 Firefox/153.0',
      scheduleAlarm: (when) => alarms.push(when),
      fetch: async (input, init) => {
        const url = String(input);
        fetched.push({ host: new URL(url).host, at: Date.now() });
        if (url === healthy) return new Response('CrashID=bp-6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10\n');
        // Accepts the connection and never answers (a dead VM whose address drops packets, a
        // hostile receiver): only the extension's timeout ends it.
        return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
      },
    });
    reporters.push(reporter);
    const report = (submitUrl: string, message: string, site: string) =>
      reporter.handleBatch({
        identity: { guid: site, submitUrl, release: '1.0', productName: site, source: 'meta' },
        errors: [{ ...error(message), stack: `f@https://${site}/app.js:1:2\n` }],
        dropped: 0,
        pageUrl: `https://${site}/`,
        pageKey: `1:0:https://${site}/`,
      });
    return { store, report, fetched, alarms };
  }

  it("holds back no other receiver's report, even when a page rotates its receiver over several that hang", async () => {
    const { report, fetched } = hanging();
    for (let i = 0; i < 5; i++) await report(`https://hang${i}.evil.example/submit`, `evil ${i}`, 'evil.example');
    await report(healthy, 'shop broke', 'shop.example');
    await vi.advanceTimersByTimeAsync(SETTLE_MS + 100);
    // One attempt at a time from the page's site; the other site's goes beside it.
    expect(fetched.map((f) => f.host)).toEqual(['hang0.evil.example', 'crashes.shop.example']);
  });

  it('sends a report that comes while an attempt hangs at once, and gives up on the hanging one well before Firefox suspends the background', async () => {
    expect(SUBMIT_TIMEOUT_MS).toBeLessThanOrEqual(FIREFOX_IDLE_MS / 2);
    const { store, report, fetched } = hanging();
    await report('https://hang.example/submit', 'to a receiver that hangs', 'a.example');
    await vi.advanceTimersByTimeAsync(SETTLE_MS + 2_000);
    await report(healthy, 'shop broke', 'shop.example');
    await vi.advanceTimersByTimeAsync(SETTLE_MS + 100);
    expect(fetched.map((f) => f.host)).toEqual(['hang.example', 'crashes.shop.example']);
    await vi.advanceTimersByTimeAsync(SUBMIT_TIMEOUT_MS);
    const [entry] = (await store.read()).reports.filter((e) => e.annotations.JSErrorMessage === 'to a receiver that hangs');
    expect(entry).toMatchObject({ status: 'queued', lastError: `no answer in ${SUBMIT_TIMEOUT_MS / 1000} s` });
  });

  it('sets the alarm before each attempt, so a background Firefox suspends during it is woken to go on', async () => {
    const { report, fetched, alarms } = hanging();
    await report('https://hang.example/submit', 'to a receiver that hangs', 'a.example');
    await vi.advanceTimersByTimeAsync(SETTLE_MS + 100);
    expect(fetched).toHaveLength(1);
    // The alarm in force while the attempt waits: just after the attempt's timeout.
    const armed = alarms.at(-1)!;
    expect(armed).toBeGreaterThan(fetched[0]!.at + SUBMIT_TIMEOUT_MS);
    expect(armed).toBeLessThanOrEqual(fetched[0]!.at + ATTEMPT_ALARM_MS);
  });
});

describe('a retry round to receivers that are down', () => {
  it('tries each receiver once and writes the queue at most twice per receiver, not twice per report', async () => {
    const storage = new MemoryStorage();
    let queueWrites = 0;
    const set = storage.set.bind(storage);
    storage.set = async (items) => {
      if ('reports' in items) queueWrites++;
      return set(items);
    };
    let now = Date.parse('2026-11-30T08:00:00Z');
    const fetched: string[] = [];
    const reporter = new Reporter({
      store: new ReportStore(storage),
      loadSettings: async () => DEFAULT_SETTINGS,
      userAgent: 'Mozilla/5.0 Firefox/153.0',
      now: () => now,
      fetch: async (input) => {
        fetched.push(new URL(String(input)).host);
        throw new TypeError('NetworkError when attempting to fetch resource.');
      },
    });
    reporters.push(reporter);
    for (let site = 0; site < 5; site++) {
      for (let i = 0; i < 10; i++) {
        const identity = { guid: `app-${site}`, submitUrl: `https://crashes${site}.example/submit`, source: 'meta' as const };
        await reporter.handleBatch({ identity, errors: [error(`e${i}`)], dropped: 0, pageUrl: `https://s${site}.example/`, pageKey: `${site}:${i}` });
      }
    }
    reporter.stop();
    now += SETTLE_MS;
    queueWrites = 0;
    await reporter.drain();
    reporter.stop();
    expect(fetched.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `crashes${i}.example`));
    expect(queueWrites).toBeLessThanOrEqual(2 * 5);
    // Every report waits for its receiver's next try, which is the first report's.
    const queued = (await new ReportStore(storage).read()).reports.filter((e) => e.status === 'queued');
    expect(queued).toHaveLength(50);
    for (const e of queued) expect(e).toMatchObject({ lastError: 'receiver unreachable (network error)' });
    expect(new Set(queued.map((e) => e.nextAttemptAt)).size).toBe(5);
  });
});

describe('submitReport', () => {
  it('reads CrashID=bp-… from a real collector', async () => {
    const receiver = await receiverWith();
    const outcome = await submitReport(`${receiver.url}/submit`, { ProductName: 'Shop', JSErrorType: 'TypeError' });
    expect(outcome.kind).toBe('submitted');
    const [crash] = await storedCrashes(receiver);
    expect(outcome).toEqual({ kind: 'submitted', crashId: `bp-${crash!.crash_id}` });
  });

  it('sends nothing for a page whose declared GUID the receiver would refuse, and counts it for the popup', async () => {
    const receiver = await receiverWith();
    const { reporter, clock, state } = setup(`${receiver.url}/submit`);
    // As the background gets it: the content script's identity, checked again.
    for (const guid of ['app:one', 'app one', '../app']) {
      const identity = checkIdentity(checkIdentity({ guid, submitUrl: `${receiver.url}/submit`, source: 'meta' }), 'https://shop.example/');
      await reporter.handleBatch({ identity, errors: [error(`declared ${guid}`, 2)], dropped: 0, pageUrl: 'https://shop.example/', pageKey: 'tab1' });
    }
    clock.now += SETTLE_MS;
    await reporter.drain();
    expect(await storedCrashes(receiver)).toEqual([]);
    const s = await state();
    expect(s.reports).toEqual([]);
    expect(s.stats.ignoredInvalidGuid).toBe(6);
  });

  it("sends nothing for errors thrown entirely by browser extensions' scripts, and counts them for the popup", async () => {
    const receiver = await receiverWith();
    const { reporter, clock, state } = setup(`${receiver.url}/submit`);
    const identity = checkIdentity({ guid: 'shop@example', submitUrl: `${receiver.url}/submit`, source: 'meta' }, 'https://shop.example/');
    const fromExtensions = [
      { ...error('from a Firefox extension', 2), stack: 'g@moz-extension://1234-abcd/content.js:3:4\nh@moz-extension://1234-abcd/lib.js:1:1\n', filename: 'moz-extension://1234-abcd/content.js' },
      { ...error('from a Chrome extension'), stack: 'TypeError: x\n    at chrome-extension://abcdef/inject.js:10:5\n    at Array.forEach (<anonymous>)', filename: 'chrome-extension://abcdef/inject.js' },
      { ...error('no stack, extension file'), stack: '', filename: 'moz-extension://1234-abcd/content.js' },
    ];
    // The page's own code in the stack makes it the app's error, whoever else is in it.
    const mixed = { ...error('page code calls an extension'), stack: 'g@moz-extension://1234-abcd/content.js:3:4\nf@https://shop.example/app.js:1:2\n' };
    const noAddress = { ...error('no address at all'), stack: '', filename: '' };
    await reporter.handleBatch({ identity, errors: [...fromExtensions, mixed, noAddress], dropped: 0, pageUrl: 'https://shop.example/', pageKey: 'tab1' });
    clock.now += SETTLE_MS;
    await reporter.drain();
    const sent = (await storedCrashes(receiver)).map((c) => c.annotations.JSErrorMessage).sort();
    expect(sent).toEqual(['no address at all', 'page code calls an extension']);
    expect((await state()).stats.ignoredFromExtensions).toBe(4);
  });

  it('treats 413 as final and an answer without a CrashID as failed', async () => {
    const receiver = await receiverWith({ maxAnnotationBytes: 64 });
    expect(await submitReport(`${receiver.url}/submit`, { ProductName: 'x'.repeat(100) })).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^HTTP 413/) });
    expect(await submitReport(`${receiver.url}/__lbheartbeat__`, { ProductName: 'x' })).toMatchObject({ kind: 'failed' });
  });
});

describe('the queue cap', () => {
  it("takes room from the site holding the most waiting reports, never from one that holds few", () => {
    let made = 0;
    const entry = (site: string) => ({ id: `r${made}`, key: `k${made}`, app: 'a', submitUrl: 'u', annotations: { URL: `https://${site}/x` }, createdAt: made++, status: 'queued' as const, attempts: 0, nextAttemptAt: 0, repeatCount: 2 });
    // The oldest three are the shop's; then one tab walks through five hosts, 20 reports each.
    const reports = [entry('shop.example'), entry('shop.example'), entry('shop.example')];
    for (let host = 1; host <= 5; host++) for (let i = 0; i < 20; i++) reports.push(entry(`evil${host}.example`));
    const state: StoreState = { reports, stats: { droppedQueueFull: 0, droppedRateLimited: 0, droppedInPage: 0, ignoredInvalidGuid: 0, ignoredFromExtensions: 0 } };
    enforceCaps(state);
    expect(state.reports).toHaveLength(MAX_QUEUED);
    const held = (site: string) => state.reports.filter((e) => e.annotations.URL === `https://${site}/x`).length;
    expect(held('shop.example')).toBe(3);
    expect([1, 2, 3, 4, 5].map((h) => held(`evil${h}.example`))).toEqual([19, 19, 19, 20, 20]);
    expect(state.stats.droppedQueueFull).toBe(3 * 2); // the errors those reports counted
  });

  it("keeps another app's waiting reports when one tab walks through five host names", async () => {
    const receiver = await receiverWith();
    const { reporter, state } = setup(`${receiver.url}/submit`);
    const shop = { guid: 'shop', submitUrl: `${receiver.url}/submit`, source: 'meta' as const };
    for (let i = 0; i < 3; i++) await reporter.handleBatch({ identity: shop, errors: [error(`shop bug ${i}`)], dropped: 0, pageUrl: 'https://shop.example/cart', pageKey: 'tab1:0:/cart' });
    for (let host = 1; host <= 5; host++) {
      const identity = { guid: `walker-${host}`, submitUrl: `${receiver.url}/submit`, source: 'meta' as const };
      const pageUrl = `https://walk${host}.example/`;
      for (let i = 0; i < MAX_QUEUED_PER_SITE; i++) {
        await reporter.handleBatch({ identity, errors: [error(`walk ${host}.${i}`)], dropped: 0, pageUrl, pageKey: `tab9:${i}:/`, topUrl: pageUrl });
      }
    }
    const queued = (await state()).reports.filter((e) => e.status === 'queued');
    expect(queued).toHaveLength(MAX_QUEUED);
    expect(queued.filter((e) => e.annotations.WebAppGUID === 'shop').map((e) => e.annotations.JSErrorMessage)).toEqual(['shop bug 0', 'shop bug 1', 'shop bug 2']);
    expect((await state()).stats.droppedQueueFull).toBe(3);
  });

  it('drops the oldest queued reports first and counts them', () => {
    const entry = (i: number) => ({ id: `r${i}`, key: `k${i}`, app: 'a', submitUrl: 'u', annotations: {}, createdAt: i, status: 'queued' as const, attempts: 0, nextAttemptAt: 0, repeatCount: 1 });
    const state: StoreState = { reports: Array.from({ length: MAX_QUEUED + 5 }, (_, i) => entry(i)), stats: { droppedQueueFull: 2, droppedRateLimited: 0, droppedInPage: 0, ignoredInvalidGuid: 0, ignoredFromExtensions: 0 } };
    enforceCaps(state);
    expect(state.reports).toHaveLength(MAX_QUEUED);
    expect(state.reports[0]!.id).toBe('r5');
    expect(state.stats.droppedQueueFull).toBe(7);
  });
});
