import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appKey, CrashIndex, DAY_MS, FEW_TEXT_MATCHES, SEARCH_SAMPLE_LIMIT } from '../../receiver/src/index/crash-index.ts';
import { rebuildIndex } from '../../receiver/src/index/rebuild.ts';
import { SCHEMA_VERSION } from '../../receiver/src/index/schema.ts';
import { FsCrashStorage } from '../../receiver/src/storage/fs-storage.ts';
import { tempDir } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, makeCrash } from './crashes.ts';

// A fixed clock at midday, so "the last 7 days" is the same whatever time the test runs.
const NOW = Date.parse('2026-11-20T12:00:00Z');
const at = (daysAgo: number, hours = 0): Date => new Date(NOW - daysAgo * DAY_MS - hours * 3_600_000);

describe('crash index', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let storage: FsCrashStorage;
  let index: CrashIndex;
  const open = (): CrashIndex => CrashIndex.open(join(dir.path, 'index.sqlite'), { now: () => new Date(NOW) });

  beforeEach(async () => {
    dir = await tempDir('socorrito-index-');
    storage = new FsCrashStorage(dir.path);
    await storage.open();
    index = open();
  });
  afterEach(async () => {
    index.close();
    await dir.cleanup();
  });

  it('ranks top crashers with share, change against the previous period, new marker, versions and browsers', async () => {
    const target = { storage, index };
    // "old": 4 now and 2 in the week before; "fresh": 3 now, none before; another app's crash is not counted.
    for (let i = 0; i < 4; i++) await addCrash(target, { signature: 'old', at: at(i), version: i < 3 ? '1.0' : '2.0' });
    for (let i = 0; i < 2; i++) await addCrash(target, { signature: 'old', at: at(8 + i) });
    for (let i = 0; i < 3; i++) await addCrash(target, { signature: 'fresh', at: at(1), browser: { name: 'Chrome', version: '131.0' } });
    await addCrash(target, { signature: 'old', at: at(0), app: 'other-app' });

    const top = index.topCrashers(APP_GUID, { days: 7 })!;
    expect(top.total).toBe(7);
    expect(top.previous_total).toBe(2);
    expect(top.rows.map((r) => [r.rank, r.signature, r.count])).toEqual([
      [1, 'old', 4],
      [2, 'fresh', 3],
    ]);
    const [old, fresh] = top.rows;
    expect(old!.share).toBeCloseTo(4 / 7);
    expect(old!.change).toBeCloseTo(1); // 2 -> 4
    expect(old!.is_new).toBe(false);
    expect(old!.first_seen).toBe(at(9).toISOString());
    expect(old!.last_seen).toBe(at(0).toISOString());
    expect(old!.versions).toEqual([
      { value: '1.0', count: 3 },
      { value: '2.0', count: 1 },
    ]);
    expect(fresh!.is_new).toBe(true);
    expect(fresh!.change).toBeNull();
    expect(fresh!.browsers).toEqual([{ value: 'Chrome', count: 3 }]);
    expect(fresh!.daily).toHaveLength(7);
    expect(fresh!.daily.at(-2)).toEqual({ day: at(1).toISOString().slice(0, 10), count: 3 });

    // The version menu lists the newest release first, whatever its count.
    expect(top.versions).toEqual([
      { value: '2.0', count: 1 },
      { value: '1.4.2', count: 5 },
      { value: '1.0', count: 3 },
    ]);
    const v2 = index.topCrashers(APP_GUID, { days: 7, version: '2.0' })!;
    expect(v2.rows.map((r) => [r.signature, r.count])).toEqual([['old', 1]]);
    expect(index.topCrashers('no-such-app', { days: 7 })).toBeNull();
  });

  it('filters top crashers, signatures and search by environment, and sums over environments otherwise', async () => {
    const target = { storage, index };
    const crash = (signature: string, when: Date, environment?: string, version?: string) => addCrash(target, { signature, at: when, environment, version });
    for (const [when, version] of [[at(0, 1), '1.0'], [at(0, 2), '1.0'], [at(2), '2.0'], [at(1, 2), '1.0'], [at(8), '1.0']] as const) {
      await crash('a', when, 'production', version);
    }
    await crash('a', at(0, 3), 'staging');
    await crash('a', at(1, 3), 'staging');
    await crash('a', at(3));
    for (const when of [at(0, 1), at(0, 1), at(4), at(4)]) await crash('b', when, 'staging');

    const rows = (top: ReturnType<CrashIndex['topCrashers']>) => top!.rows.map((r) => [r.signature, r.count, r.previous_count]);
    // All environments: the rows of one signature and day in several environments are summed.
    const all = index.topCrashers(APP_GUID, { days: 7 })!;
    expect(all.environment).toBeNull();
    expect(rows(all)).toEqual([
      ['a', 7, 1],
      ['b', 4, 0],
    ]);
    expect(all.rows[0]!.daily.at(-1)).toEqual({ day: at(0).toISOString().slice(0, 10), count: 3 });
    expect(all.environments).toEqual([
      { value: 'staging', count: 6 },
      { value: 'production', count: 5 },
      { value: '', count: 1 },
    ]);
    const today = index.topCrashers(APP_GUID, { days: 1 })!;
    expect(rows(today)).toEqual([
      ['a', 3, 2],
      ['b', 2, 0],
    ]);

    const production = index.topCrashers(APP_GUID, { days: 7, environment: 'production' })!;
    expect(production.environment).toBe('production');
    expect(rows(production)).toEqual([['a', 4, 1]]);
    expect(production.total).toBe(4);
    expect(production.rows[0]!.versions).toEqual([
      { value: '1.0', count: 3 },
      { value: '2.0', count: 1 },
    ]);
    // The version menu lists the environment's versions; the environment menu stays whole.
    expect(production.versions).toEqual([
      { value: '2.0', count: 1 },
      { value: '1.0', count: 4 },
    ]);
    expect(production.environments).toEqual(all.environments);
    expect(rows(index.topCrashers(APP_GUID, { days: 1, environment: 'production' }))).toEqual([['a', 2, 1]]);
    expect(rows(index.topCrashers(APP_GUID, { days: 1, environment: 'staging' }))).toEqual([
      ['b', 2, 0],
      ['a', 1, 1],
    ]);
    expect(rows(index.topCrashers(APP_GUID, { days: 7, environment: 'staging', version: '1.4.2' }))).toEqual([
      ['b', 4, 0],
      ['a', 2, 0],
    ]);
    expect(rows(index.topCrashers(APP_GUID, { days: 7, environment: 'production', version: '2.0' }))).toEqual([['a', 1, 0]]);
    expect(index.topCrashers(APP_GUID, { days: 7, environment: 'qa' })!.rows).toEqual([]);

    const a = all.rows[0]!.signature_id;
    const summary = index.signature(a, { days: 7, app: APP_GUID })!;
    expect(summary.count).toBe(7);
    expect(summary.facets.environment).toEqual([
      { value: 'production', count: 4 },
      { value: 'staging', count: 2 },
      { value: '', count: 1 },
    ]);
    const inProduction = index.signature(a, { days: 7, app: APP_GUID, environment: 'production' })!;
    expect(inProduction.environment).toBe('production');
    expect([inProduction.count, inProduction.total]).toEqual([4, 5]);
    expect(inProduction.reports.items.map((r) => r.environment)).toEqual(['production', 'production', 'production', 'production']);
    expect(inProduction.facets.version).toEqual([
      { value: '1.0', count: 3 },
      { value: '2.0', count: 1 },
    ]);
    expect(inProduction.last_seen).toBe(at(0, 1).toISOString());

    const search = index.search({ environment: 'staging' });
    expect(search.total).toBe(6);
    expect(search.facets.environment).toEqual([{ value: 'staging', count: 6 }]);
    expect(index.search({}).facets.environment.map((f) => f.value)).toEqual(['staging', 'production', '']);

    // Removing a crash takes it out of its environment's counts.
    index.remove(inProduction.reports.items[0]!.crash_id);
    expect(rows(index.topCrashers(APP_GUID, { days: 7, environment: 'production' }))).toEqual([['a', 3, 1]]);
    expect(index.topCrashers(APP_GUID, { days: 7 })!.environments[1]).toEqual({ value: 'production', count: 4 });
  });

  it('compares a period running to now with the one before up to the same time of day', async () => {
    const target = { storage, index };
    // Today until noon (now): 2. Yesterday: 1 before noon, 3 after it.
    for (const hours of [1, 2]) await addCrash(target, { signature: 'sig', at: at(0, hours) });
    await addCrash(target, { signature: 'sig', at: at(1, 2) });
    for (const hours of [-1, -2, -3]) await addCrash(target, { signature: 'sig', at: at(1, hours) });
    // A signature seen only yesterday before noon still counts in the period before.
    await addCrash(target, { signature: 'gone', at: at(1, 3) });
    const today = index.topCrashers(APP_GUID, { days: 1 })!;
    expect([today.total, today.previous_total]).toEqual([2, 2]);
    expect(today.rows.map((r) => [r.signature, r.count, r.previous_count])).toEqual([['sig', 2, 1]]);
    expect(today.rows[0]!.change).toBeCloseTo(1);
    // Three days to now against the three days before to noon: the whole of yesterday is in the period.
    const three = index.topCrashers(APP_GUID, { days: 3 })!;
    expect([three.total, three.previous_total]).toEqual([7, 0]);
  });

  it('keeps counts right when a crash is reprocessed into another signature or removed', async () => {
    const p = await addCrash({ storage, index }, { signature: 'before', at: at(0) });
    index.upsert({ ...p, signature: 'after', signature_id: 'after-id' });
    const top = index.topCrashers(APP_GUID, { days: 1 })!;
    expect(top.rows.map((r) => [r.signature, r.count])).toEqual([['after', 1]]);
    expect(index.signature(p.signature_id, { days: 28 })!.count).toBe(0);
    expect(index.signature('after-id', { days: 28 })!.facets.version).toEqual([{ value: '1.4.2', count: 1 }]);
    index.remove(p.crash_id);
    expect(index.count()).toBe(0);
    expect(index.topCrashers(APP_GUID, { days: 1 })!.rows).toEqual([]);
    expect(index.apps().apps[0]!.total).toBe(0);
  });

  it('erases a crash with its signature and app when no other crash has them, and keeps those others share', async () => {
    const target = { storage, index };
    const shared = await addCrash(target, { signature: 'shared', at: at(0) });
    await addCrash(target, { signature: 'shared', at: at(0) });
    const alone = await addCrash(target, { signature: 'token for jane expired', app: 'jane-app', at: at(0) });
    index.erase(alone.crash_id);
    expect(index.hasSignature(alone.signature_id)).toBe(false);
    expect(index.apps().apps.map((a) => a.guid)).toEqual([APP_GUID]);
    index.erase(shared.crash_id);
    expect(index.hasSignature(shared.signature_id)).toBe(true);
    expect(index.count()).toBe(1);
  });

  it('lists apps busiest first over the last 7 days, a page at a time, with all-time totals', async () => {
    const target = { storage, index };
    // quiet: 5 crashes, all older than a week; busy: 3 this week; mid: 2 this week, 1 before.
    for (let i = 0; i < 5; i++) await addCrash(target, { signature: 's', at: at(10 + i), app: 'quiet' });
    for (let i = 0; i < 3; i++) await addCrash(target, { signature: 's', at: at(i), app: 'busy' });
    for (const d of [0, 6, 7]) await addCrash(target, { signature: 's', at: at(d), app: 'mid' });
    const all = index.apps();
    expect(all.apps.map((a) => [a.guid, a.count_7d, a.total, a.count_24h])).toEqual([
      ['busy', 3, 3, 1],
      ['mid', 2, 3, 1],
      ['quiet', 0, 5, 0],
    ]);
    expect(all).toMatchObject({ total: 3, page: 1, pages: 1 });
    expect(all.apps[0]!.daily.reduce((n, d) => n + d.count, 0)).toBe(3);
    const second = index.apps({ page: 2, limit: 2 });
    expect(second).toMatchObject({ total: 3, page: 2, pages: 2, limit: 2 });
    expect(second.apps.map((a) => a.guid)).toEqual(['quiet']);
    expect(index.apps({ page: 3, limit: 2 }).apps).toEqual([]);
  });

  it('names an app by the ProductName most of its crashes carry (ties: the one seen first), not by its latest crash', async () => {
    const target = { storage, index };
    const name = (app = APP_GUID): string | undefined => index.app(app)?.product;
    for (let i = 3; i >= 1; i--) await addCrash(target, { signature: 's', at: at(i), product: 'Socorrito demo shop' });
    const stray = await addCrash(target, { signature: 's', at: at(0), product: 'Demo' });
    await addCrash(target, { signature: 's', at: at(0), product: '' });
    expect(name()).toBe('Socorrito demo shop');
    expect(index.apps().apps.find((a) => a.guid === APP_GUID)!.product).toBe('Socorrito demo shop');
    expect(index.topCrashers(APP_GUID, { days: 7 })!.app.product).toBe('Socorrito demo shop');

    // 3 against 3: the name seen first stays. One more, and the app is renamed.
    const demo = [stray];
    for (let i = 0; i < 2; i++) demo.push(await addCrash(target, { signature: 's', at: at(0), product: 'Demo' }));
    expect(name()).toBe('Socorrito demo shop');
    demo.push(await addCrash(target, { signature: 's', at: at(0), product: 'Demo' }));
    expect(name()).toBe('Demo');
    // Removing and reprocessing crashes count too.
    const removed = demo.pop()!;
    await storage.delete(removed.crash_id);
    index.remove(removed.crash_id);
    const reprocessed = { ...demo.pop()!, product: 'Socorrito demo shop' };
    await storage.saveProcessed(reprocessed);
    index.upsert(reprocessed);
    expect(name()).toBe('Socorrito demo shop');

    // A tie goes to the name seen first, whatever order the crashes were indexed in.
    await addCrash(target, { signature: 's', at: at(1), app: 'tied-app', product: 'Alpha' });
    await addCrash(target, { signature: 's', at: at(2), app: 'tied-app', product: 'Zeta' });
    expect(name('tied-app')).toBe('Zeta');

    // Rebuilt from storage, in bulk or live, the names are the same.
    const before = index.apps();
    await rebuildIndex(storage, index, { mode: 'bulk' });
    expect(index.apps()).toEqual(before);
    const live = CrashIndex.open(join(dir.path, 'live.sqlite'), { now: () => new Date(NOW) });
    try {
      await rebuildIndex(storage, live, { mode: 'live' });
      expect(live.apps()).toEqual(before);
    } finally {
      live.close();
    }
  });

  it('summarizes a signature: totals, days, facets and reports newest first, a page at a time', async () => {
    const target = { storage, index };
    for (let i = 0; i < 55; i++) {
      await addCrash(target, { signature: 'sig', at: at(0, i / 10), urlPath: i % 2 ? '/cart' : '/pay', os: i < 5 ? 'Windows' : 'Linux' });
    }
    await addCrash(target, { signature: 'sig', at: at(40) });
    await addCrash(target, { signature: 'sig', at: at(0), app: null });
    const id = (await addCrash(target, { signature: 'sig', at: at(2), mechanism: 'unhandledrejection' })).signature_id;
    const s = index.signature(id, { days: 28 })!;
    expect(s.total).toBe(58);
    expect(s.count).toBe(57);
    expect(s.daily).toHaveLength(28);
    expect(s.daily.at(-1)!.count).toBe(56);
    expect(s.facets.os).toEqual([
      { value: 'Linux', count: 52 },
      { value: 'Windows', count: 5 },
    ]);
    expect(s.facets.mechanism).toEqual([
      { value: 'onerror', count: 56 },
      { value: 'unhandledrejection', count: 1 },
    ]);
    expect(s.facets.app).toEqual([
      { value: APP_GUID, count: 56 },
      // No WebAppGUID: the app is its ProductName's.
      { value: appKey(null, 'Shop'), count: 1 },
    ]);
    expect(s.facets.browser_version).toEqual([{ value: 'Firefox 153.0', count: 57 }]);
    expect(s.reports.pages).toBe(2);
    const times = s.reports.items.map((r) => r.submitted_at);
    expect(times).toEqual([...times].sort().reverse());
    expect(s.reports.items).toHaveLength(50);
    expect(index.signature(id, { days: 28, page: 2 })!.reports.items).toHaveLength(7);
    expect(index.signature(id, { days: 28, app: 'product:Shop' })!.count).toBe(1);
    expect(index.signature('nope', { days: 28 })).toBeNull();
  });

  it('matches text filters in any case in every script, not only ASCII', async () => {
    const target = { storage, index };
    await addCrash(target, { signature: 'Ошибка сети | load', at: at(0), errorType: 'Ошибка', errorMessage: 'Не удалось загрузить ÜBER.json (50%)' });
    await addCrash(target, { signature: 'plain', at: at(1), errorMessage: 'uber is fine' });
    const ids = (q: Parameters<CrashIndex['search']>[0]): string[] => index.search(q).items.map((r) => r.error_message);
    expect(ids({ q: 'не удалось' })).toEqual(['Не удалось загрузить ÜBER.json (50%)']);
    expect(ids({ q: 'über.json (50%)' })).toEqual(['Не удалось загрузить ÜBER.json (50%)']);
    expect(ids({ q: 'ошибка' })).toEqual(['Не удалось загрузить ÜBER.json (50%)']);
    expect(ids({ q: 'UBER' })).toEqual(['uber is fine']);
    expect(ids({ signature: '~СЕТИ' })).toEqual(['Не удалось загрузить ÜBER.json (50%)']);
    expect(ids({ q: 'ü_er' })).toEqual([]); // no wildcards either way
    // The signature's wording finds the browsers' own: Firefox words a failed fetch otherwise.
    await addCrash(target, { signature: 'TypeError: Failed to fetch', at: at(2), errorMessage: 'NetworkError when attempting to fetch resource.' });
    expect(ids({ q: 'failed to fetch' })).toEqual(['NetworkError when attempting to fetch resource.']);
    expect(ids({ q: 'сети' })).toEqual(['Не удалось загрузить ÜBER.json (50%)']);
  });

  it('keeps each error type and message once, however many crashes have it, and drops it with its last crash', async () => {
    const target = { storage, index };
    const texts = (): string[] => {
      const db = new Database(join(dir.path, 'index.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT error_type, error_message FROM texts ORDER BY 1, 2').all() as { error_type: string; error_message: string }[]).map(
          (t) => `${t.error_type}: ${t.error_message}`,
        );
      } finally {
        db.close();
      }
    };
    const first = await addCrash(target, { signature: 's', at: at(0), errorMessage: 'cart is undefined' });
    const second = await addCrash(target, { signature: 's', at: at(1), errorMessage: 'cart is undefined' });
    const other = await addCrash(target, { signature: 's', at: at(1), errorType: 'RangeError', errorMessage: 'cart is undefined' });
    const secret = await addCrash(target, { signature: 't', at: at(2), errorMessage: 'token for jane expired' });
    expect(texts()).toEqual(['RangeError: cart is undefined', 'TypeError: cart is undefined', 'TypeError: token for jane expired']);
    expect(index.search({ q: 'cart' }).total).toBe(3);

    index.remove(first.crash_id);
    expect(texts()).toContain('TypeError: cart is undefined');
    index.remove(second.crash_id);
    // Reprocessed with another message, the crash no longer has its old one.
    index.upsert({ ...other, error_message: 'cart is null' });
    index.erase(secret.crash_id);
    expect(texts()).toEqual(['RangeError: cart is null']);
    expect(index.search({ q: 'cart' }).items.map((r) => `${r.error_type}: ${r.error_message}`)).toEqual(['RangeError: cart is null']);
    expect(index.search({ q: 'undefined' }).total).toBe(0);
  });

  it('finds text among more than FEW_TEXT_MATCHES crashes newest first, as among a few, with the same counts and facets', () => {
    // Every third crash says "x1 …"; every crash says "… is undefined"; signature "s4 | render" has every fifth.
    const count = FEW_TEXT_MATCHES + 10;
    const crashes = Array.from({ length: count }, (_, i) =>
      makeCrash({ signature: `s${i % 5} | render`, at: new Date(NOW - DAY_MS + i * 1000), errorMessage: `x${i % 3} is undefined`, version: `1.${i % 7}` }).processed,
    );
    index.startBulk();
    index.loadBulk(crashes);
    index.finishBulk();
    const newest = (keep: (i: number) => boolean, n: number): string[] =>
      crashes
        .filter((_, i) => keep(i))
        .slice(-n)
        .reverse()
        .map((p) => p.crash_id);
    const ids = (result: { items: { crash_id: string }[] }): string[] => result.items.map((r) => r.crash_id);

    // Every crash matches: as a search without text.
    const all = index.search({ q: 'IS UNDEFINED', page: 2 });
    const unfiltered = index.search({ page: 2 });
    expect(all).toEqual(unfiltered);
    expect(all.total_is_lower_bound).toBe(true);
    expect(ids(all)).toEqual(newest(() => true, 100).slice(50));
    // Past the counted newest, by cursor.
    const after = { submittedAt: Date.parse(crashes[5]!.submitted_at), crashId: crashes[5]!.crash_id };
    expect(ids(index.search({ q: 'undefined', after }))).toEqual(newest((i) => i < 5, 5));
    // With another filter, the matches within it.
    expect(ids(index.search({ q: 'undefined', version: '1.3' }))).toEqual(newest((i) => i % 7 === 3, 50));

    // A third of the crashes by message, a fifth by signature.
    const third = index.search({ q: 'x1 is' });
    expect(third).toMatchObject({ total: SEARCH_SAMPLE_LIMIT, total_is_lower_bound: true });
    expect(ids(third)).toEqual(newest((i) => i % 3 === 1, 50));
    expect(ids(index.search({ q: 'x1 is', after }))).toEqual(newest((i) => i < 5 && i % 3 === 1, 5));
    const fifth = index.search({ q: 's4 |', version: '1.2' });
    expect(fifth.total).toBe(crashes.filter((_, i) => i % 5 === 4 && i % 7 === 2).length);
    expect(ids(fifth)).toEqual(newest((i) => i % 5 === 4 && i % 7 === 2, 50));
    expect(fifth.facets.version).toEqual([{ value: '1.2', count: fifth.total }]);
    expect(index.search({ q: 'x3' }).total).toBe(0);
  });

  it('searches by every filter, with facet counts, treating % and _ as plain text', async () => {
    const target = { storage, index };
    await addCrash(target, { signature: 'a', at: at(0), errorMessage: '100% broken', version: '1.0' });
    await addCrash(target, { signature: 'a', at: at(1), errorMessage: 'x is null', browser: { name: 'Chrome', version: '131.0' } });
    await addCrash(target, { signature: 'b | render', at: at(5), errorMessage: 'fetch failed', mechanism: 'unhandledrejection' });
    const ids = (q: Parameters<CrashIndex['search']>[0]): string[] => index.search(q).items.map((r) => r.error_message);
    expect(ids({})).toEqual(['100% broken', 'x is null', 'fetch failed']);
    expect(ids({ q: '%' })).toEqual(['100% broken']);
    expect(ids({ q: 'IS NULL' })).toEqual(['x is null']);
    expect(ids({ signature: 'a' })).toEqual(['100% broken', 'x is null']);
    expect(ids({ signature: '~rend' })).toEqual(['fetch failed']);
    expect(ids({ browser: 'Chrome' })).toEqual(['x is null']);
    expect(ids({ browser: 'Firefox 153.0' })).toEqual(['100% broken', 'fetch failed']);
    // Any case, and a version prefix at a component boundary.
    expect(ids({ browser: 'chrome' })).toEqual(['x is null']);
    expect(ids({ browser: 'firefox 153' })).toEqual(['100% broken', 'fetch failed']);
    expect(ids({ browser: 'Firefox 15' })).toEqual([]);
    expect(ids({ browser: 'Fire_ox' })).toEqual([]); // LIKE's wildcards are literal
    expect(ids({ mechanism: 'unhandledrejection' })).toEqual(['fetch failed']);
    expect(ids({ version: '1.0' })).toEqual(['100% broken']);
    expect(ids({ from: at(2), to: at(0, 1) })).toEqual(['x is null']);
    const all = index.search({ app: APP_GUID });
    expect(all.total).toBe(3);
    expect(all.total_is_lower_bound).toBe(false);
    expect(all.facets.browser).toEqual([
      { value: 'Firefox 153.0', count: 2 },
      { value: 'Chrome 131.0', count: 1 },
    ]);
    expect(all.facets.signature[0]).toEqual({ value: makeCrash({ signature: 'a' }).processed.signature_id, count: 2 });
  });

  it('searches by page URL path (exactly, by prefix, by ID pattern) and by OS, with wildcards of LIKE and GLOB as plain text', async () => {
    const target = { storage, index };
    const paths = ['/checkout', '/Checkout', '/checkout/pay', '/products/1432', '/products/88', '/products/88/reviews', '/products/new', '/a%b', '/a_b', '/a[b]'];
    for (const [i, urlPath] of paths.entries()) await addCrash(target, { signature: 's', at: at(0, i), urlPath, errorMessage: urlPath, os: i < 2 ? 'Windows' : 'Linux' });
    const found = (q: Parameters<CrashIndex['search']>[0]): string[] => index.search(q).items.map((r) => r.error_message);
    expect(found({ url: '/checkout' })).toEqual(['/checkout']);
    expect(found({ url: '/checkout*' })).toEqual(['/checkout', '/checkout/pay']);
    expect(found({ url: '/products/*' })).toEqual(['/products/1432', '/products/88', '/products/88/reviews', '/products/new']);
    expect(found({ url: '/products/88' })).toEqual(['/products/88']);
    expect(found({ url: '/products/<n>' })).toEqual(['/products/1432', '/products/88']);
    expect(found({ url: '/products/<n>/*' })).toEqual(['/products/88/reviews']);
    expect(found({ url: '/a%b' })).toEqual(['/a%b']);
    expect(found({ url: '/a_*' })).toEqual(['/a_b']);
    expect(found({ url: '/a[*' })).toEqual(['/a[b]']);
    expect(found({ url: '/a?*' })).toEqual([]);
    expect(found({ os: 'Windows' })).toEqual(['/checkout', '/Checkout']);
    expect(found({ os: 'windows' })).toEqual(['/checkout', '/Checkout']); // as the browser filter, in any case
    expect(found({ os: 'Linux', url: '/checkout*' })).toEqual(['/checkout/pay']);
  });

  it('collapses IDs in URL path breakdowns, so one page with many IDs is one row', async () => {
    const target = { storage, index };
    const paths = ['/products/1432', '/products/88', '/orders/0f8fad5b-d9cb-469f-a165-70867728950e', '/orders/0F8FAD5B-D9CB-469F-A165-70867728950F',
      '/u/507f1f77bcf86cd799439011/cart', '/u/01ARZ3NDEKTSV4RRFFQ69G5FAV/cart', '/blog/internationalization', '/blog/how-to-fix-error-404-in-2024', ''];
    for (const urlPath of paths) await addCrash(target, { signature: 'ids', at: at(0), urlPath });
    const expected = [
      { value: '/orders/<uuid>', count: 2 },
      { value: '/products/<n>', count: 2 },
      { value: '/u/<id>/cart', count: 2 },
      { value: '', count: 1 },
      { value: '/blog/how-to-fix-error-404-in-2024', count: 1 },
      { value: '/blog/internationalization', count: 1 },
    ];
    const id = makeCrash({ signature: 'ids' }).processed.signature_id;
    expect(index.signature(id, { days: 1 })!.facets.url_path).toEqual(expected);
    expect(index.search({ signature: 'ids' }).facets.url_path).toEqual(expected);
    // Each row's value, used as the filter, finds the crashes it counts.
    for (const row of expected.filter((r) => r.value !== '')) expect(index.search({ url: row.value }).total, row.value).toBe(row.count);
  });

  it('counts and facets at most the newest SEARCH_SAMPLE_LIMIT matches of a broad search, and says so', () => {
    const crashes = Array.from({ length: SEARCH_SAMPLE_LIMIT + 5 }, (_, i) =>
      makeCrash({ signature: i < 5 ? 'oldest' : 'newer', at: new Date(NOW - DAY_MS + i * 1000) }).processed,
    );
    index.startBulk();
    index.loadBulk(crashes);
    index.finishBulk();
    const result = index.search({ app: APP_GUID, page: 3 });
    expect(result.total).toBe(SEARCH_SAMPLE_LIMIT);
    expect(result.total_is_lower_bound).toBe(true);
    expect(result.pages).toBe(200);
    // The five oldest fall outside the sample, so their signature is not among the facets.
    expect(result.facets.signature).toEqual([{ value: makeCrash({ signature: 'newer' }).processed.signature_id, count: SEARCH_SAMPLE_LIMIT }]);
    expect(result.items[0]!.submitted_at).toBe(new Date(NOW - DAY_MS + (SEARCH_SAMPLE_LIMIT + 4 - 100) * 1000).toISOString());
    expect(index.search({ signature: 'oldest' })).toMatchObject({ total: 5, total_is_lower_bound: false });
  });

  it("shows one release's own browsers, versions and environments when top crashers is of that release, counted alike live and in bulk", async () => {
    const target = { storage, index };
    const chrome = { name: 'Chrome', version: '131.0' };
    // 2.3.0 only ever crashed in Firefox; 2.4.0 in Chrome too.
    for (let i = 0; i < 3; i++) await addCrash(target, { signature: 'sig', at: at(i), version: '2.3.0' });
    for (let i = 0; i < 2; i++) await addCrash(target, { signature: 'sig', at: at(i), version: '2.4.0', browser: chrome });
    await addCrash(target, { signature: 'sig', at: at(0), version: '2.4.0', environment: 'staging' });
    const check = (idx: CrashIndex): void => {
      // The environment menu counts the release shown too.
      expect(idx.topCrashers(APP_GUID, { days: 7, version: '2.3.0' })!.environments).toEqual([{ value: '', count: 3 }]);
      expect(idx.topCrashers(APP_GUID, { days: 7 })!.environments).toEqual([
        { value: '', count: 5 },
        { value: 'staging', count: 1 },
      ]);
      const of230 = idx.topCrashers(APP_GUID, { days: 7, version: '2.3.0' })!.rows[0]!;
      expect(of230.count).toBe(3);
      expect(of230.browsers).toEqual([{ value: 'Firefox', count: 3 }]);
      expect(of230.versions).toEqual([{ value: '2.3.0', count: 3 }]);
      const of240 = idx.topCrashers(APP_GUID, { days: 7, version: '2.4.0' })!.rows[0]!;
      expect(of240.browsers).toEqual([
        { value: 'Chrome', count: 2 },
        { value: 'Firefox', count: 1 },
      ]);
      // Every release together, as before.
      expect(idx.topCrashers(APP_GUID, { days: 7 })!.rows[0]!.browsers).toEqual([
        { value: 'Firefox', count: 4 },
        { value: 'Chrome', count: 2 },
      ]);
    };
    check(index);
    index.close();
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dir.path, `index.sqlite${suffix}`), { force: true });
    index = open();
    await rebuildIndex(storage, index, { mode: 'bulk' });
    check(index);
  });

  it('is rebuilt from storage (bulk and live) to the same answers, and asks for a rebuild on a schema change', async () => {
    const target = { storage, index };
    const environments = ['production', 'staging', undefined];
    for (let i = 0; i < 30; i++) {
      await addCrash(target, { signature: `s${i % 4}`, at: at(i % 9), version: `1.${i % 3}`, environment: environments[i % 5 % 3] });
    }
    const { raw } = makeCrash({ signature: 'unprocessed' });
    await storage.saveRaw(raw, new Map());
    index.markRebuilt();
    const before = index.topCrashers(APP_GUID, { days: 28 });
    const beforeStaging = index.topCrashers(APP_GUID, { days: 28, environment: 'staging' });
    expect(beforeStaging!.total).toBeGreaterThan(0);
    const beforeApps = index.apps();
    const beforeSignatures = before!.rows.map((row) => index.signature(row.signature_id, { days: 28 }));
    index.close();

    // An index of another schema version is emptied and reports why it needs a rebuild.
    const db = new Database(join(dir.path, 'index.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 100}`);
    db.close();
    index = open();
    expect(index.rebuildReason).toMatch(/schema version/);
    expect(index.count()).toBe(0);

    const seen: number[] = [];
    const progress = await rebuildIndex(storage, index, { mode: 'bulk', batchSize: 7, onProgress: (p) => seen.push(p.seen) });
    expect(progress).toEqual({ seen: 31, total: 31, indexed: 30, unprocessed: 1 });
    expect(seen).toEqual([0, 7, 14, 21, 28, 31]);
    expect(index.topCrashers(APP_GUID, { days: 28 })).toEqual(before);
    expect(index.topCrashers(APP_GUID, { days: 28, environment: 'staging' })).toEqual(beforeStaging);
    expect(index.apps()).toEqual(beforeApps);
    expect(before!.rows.map((row) => index.signature(row.signature_id, { days: 28 }))).toEqual(beforeSignatures);
    // The bulk load restored the triggers: a new crash is counted.
    await addCrash({ storage, index }, { signature: 's0', at: at(0) });
    expect(index.topCrashers(APP_GUID, { days: 28 })!.total).toBe(31);
    index.close();
    index = open();
    expect(index.rebuildReason).toBeNull();

    // Processed before environments were kept, from a page that declared one: the rebuild reads it from the raw crash.
    const older = makeCrash({ signature: 'from before environments', at: at(1), environment: 'canary' });
    delete older.processed.environment;
    await storage.saveRaw(older.raw, new Map());
    await storage.saveProcessed(older.processed);
    await rebuildIndex(storage, index, { mode: 'live' });
    expect(index.count()).toBe(32);
    expect(index.topCrashers(APP_GUID, { days: 28, environment: 'canary' })!.rows.map((row) => row.signature)).toEqual(['from before environments']);
  });

  it('keeps one row and right counts when a bulk load sees the same crash twice', () => {
    const { processed } = makeCrash({ signature: 'twice', at: at(0) });
    index.startBulk();
    index.loadBulk([processed, { ...processed, version: '9.9' }]);
    index.finishBulk();
    expect(index.count()).toBe(1);
    const top = index.topCrashers(APP_GUID, { days: 1 })!;
    expect(top.total).toBe(1);
    expect(top.rows[0]!.versions).toEqual([{ value: '9.9', count: 1 }]);
  });

  it('marks an interrupted rebuild as incomplete', async () => {
    await addCrash({ storage, index }, { signature: 'x', at: at(0) });
    const stop = new AbortController();
    stop.abort();
    await rebuildIndex(storage, index, { mode: 'bulk', signal: stop.signal });
    index.close();
    index = open();
    expect(index.rebuildReason).toBe('the last rebuild did not finish');
  });
});
