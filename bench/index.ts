import { jsx } from 'hono/jsx';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCrashId } from '../shared/src/crash-id.ts';
import { CrashIndex, DAY_MS } from '../receiver/src/index/crash-index.ts';
import type { ProcessedCrash } from '../receiver/src/storage/types.ts';
import { SignaturePage } from '../receiver/src/web/signature-page.tsx';
import { ignoredByDefault } from '../receiver/src/triage/signature-status.ts';
import { renderMarkup } from '../receiver/src/web/layout.tsx';
import { TopCrashersPage } from '../receiver/src/web/topcrashers-page.tsx';

export interface IndexBenchOptions {
  crashes?: number;
  signatures?: number;
  /** Times each query runs (after one warm-up run). */
  runs?: number;
}

const APPS = ['6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10', '0c3e7d1a-5b2f-4e6a-8d9c-1f2a3b4c5d6e', '9a8b7c6d-1e2f-4a3b-8c7d-6e5f4a3b2c1d'];
const VERSIONS = ['1.4.0', '1.4.1', '1.4.2', '1.5.0', '1.5.1'];
const BROWSERS = [
  { name: 'Firefox', version: '153.0' },
  { name: 'Firefox', version: '140.0' },
  { name: 'Chrome', version: '131.0' },
  { name: 'Safari', version: '18.1' },
];
const OSES = ['Linux', 'Windows', 'macOS', 'Android'];
const MECHANISMS = ['onerror', 'unhandledrejection', 'manual'];
const DAYS = 28;

/** A small deterministic PRNG, so every run indexes the same data. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Synthetic processed crashes: signatures Zipf-distributed, most crashes in the first app, 28 days. */
function* syntheticCrashes(count: number, signatures: number, now: number): Generator<ProcessedCrash> {
  const random = mulberry32(42);
  // Zipf weights: signature k has weight 1/(k+1); pick by binary search over the cumulative sums.
  const cumulative: number[] = [];
  let sum = 0;
  for (let k = 0; k < signatures; k++) cumulative.push((sum += 1 / (k + 1)));
  const pick = (): number => {
    const x = random() * sum;
    let lo = 0;
    let hi = signatures - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const of = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (let i = 0; i < count; i++) {
    const k = pick();
    const at = new Date(now - Math.floor(random() * DAYS * DAY_MS));
    const app = random() < 0.8 ? APPS[0]! : of(APPS);
    yield {
      crash_id: createCrashId(at),
      submitted_at: at.toISOString(),
      processed_at: at.toISOString(),
      signature: `TypeError: x is undefined | module${k % 40}.handler${k} | render`,
      signature_id: `sig${k.toString(36).padStart(6, '0')}`,
      notes: [],
      frames: [],
      app_guid: app,
      product: app === APPS[0] ? 'Shop' : `App ${app.slice(0, 4)}`,
      version: of(VERSIONS),
      error_type: 'TypeError',
      error_message: `x${k} is undefined (item ${i % 997})`,
      mechanism: of(MECHANISMS),
      browser: of(BROWSERS),
      os: of(OSES),
      url_path: `/shop/page${Math.floor(random() * 30)}`,
    };
  }
}

function timeMs(run: () => unknown): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function measure(runs: number, run: () => unknown): { p50: number; max: number } {
  run();
  const times = Array.from({ length: runs }, () => timeMs(run)).sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)! };
}

/**
 * Index benchmark: loads `crashes` synthetic processed crashes (default one million, across
 * hundreds of signatures) into a fresh SQLite index in one bulk transaction, then times the
 * top crashers, signature page and search queries next to a plain `SELECT count(*)` over the
 * same table. Target: top crashers and signature page under 100 ms.
 */
export async function benchIndex(log: (line: string) => void, options: IndexBenchOptions = {}): Promise<void> {
  const count = options.crashes ?? Number(process.env.BENCH_INDEX_CRASHES ?? 1_000_000);
  const signatures = options.signatures ?? 400;
  const runs = options.runs ?? 15;
  const dir = await mkdtemp(join(tmpdir(), 'socorrito-bench-index-'));
  const now = Date.now();
  const index = CrashIndex.open(join(dir, 'index.sqlite'), { now: () => new Date(now) });
  try {
    log(`index: ${count.toLocaleString('en-US')} synthetic crashes, ${signatures} signatures, ${APPS.length} apps, ${DAYS} days`);
    const generateMs = timeMs(() => {
      for (const _ of syntheticCrashes(count, signatures, now));
    });
    const insertMs = timeMs(() => {
      index.startBulk();
      index.loadBulk(syntheticCrashes(count, signatures, now));
    });
    const finishMs = timeMs(() => index.finishBulk());
    const loadMs = insertMs + finishMs - generateMs;
    log(
      `  bulk load (one transaction)        ${(loadMs / 1000).toFixed(1)} s   ${Math.round(count / (loadMs / 1000)).toLocaleString('en-US')} crashes/s` +
        `   (rows ${((insertMs - generateMs) / 1000).toFixed(1)} s, indexes + daily counts ${(finishMs / 1000).toFixed(1)} s; making the synthetic crashes took ${(generateMs / 1000).toFixed(1)} s more)`,
    );
    const live = [...syntheticCrashes(5_000, signatures, now + 1)].map((p) => ({ ...p, crash_id: createCrashId(new Date(now)) }));
    const liveMs = timeMs(() => index.upsertMany(live));
    log(`  live upsert (triggers, 1 txn)      ${Math.round(live.length / (liveMs / 1000)).toLocaleString('en-US')} crashes/s`);

    const top = index.topCrashers(APPS[0]!, { days: 28 })!;
    const biggest = top.rows[0]!.signature_id;
    const baseline = measure(runs, () => index.count());
    const rows: [string, { p50: number; max: number }][] = [
      ['SELECT count(*) FROM crashes (baseline)', baseline],
      ['top crashers, 7 days', measure(runs, () => index.topCrashers(APPS[0]!, { days: 7 }))],
      ['top crashers, 28 days', measure(runs, () => index.topCrashers(APPS[0]!, { days: 28 }))],
      // As the page asks: ignored signatures (by default, those of browser extensions' errors) left out.
      ['top crashers, 28 days, ignored hidden', measure(runs, () => index.topCrashers(APPS[0]!, { days: 28, hide: (_, text) => ignoredByDefault(text) !== null }))],
      ['top crashers, 28 days, one version', measure(runs, () => index.topCrashers(APPS[0]!, { days: 28, version: '1.5.0' }))],
      ['signature page (top signature, 28 d)', measure(runs, () => index.signature(biggest, { days: 28 }))],
      ['signature page, one app, page 5', measure(runs, () => index.signature(biggest, { days: 28, app: APPS[0]!, page: 5 }))],
      ['apps page', measure(runs, () => index.apps())],
      // The whole page as the receiver sends it: query plus server-side rendering (HTML, SVG).
      ['top crashers page, 28 days, rendered', measure(runs, () => renderMarkup(jsx(TopCrashersPage, { result: index.topCrashers(APPS[0]!, { days: 28 })!, now: new Date(now) })))],
      ['signature page, rendered', measure(runs, () => renderMarkup(jsx(SignaturePage, { summary: index.signature(biggest, { days: 28 })!, appName: null, appNames: new Map(), now: new Date(now) })))],
      ['search: app, newest first', measure(runs, () => index.search({ app: APPS[0]! }))],
      // Read from the distinct texts, then the few crashes that have them.
      ['search: message text, rare', measure(Math.min(runs, 5), () => index.search({ q: 'x7 is undefined (item 13)' }))],
      // Every crash has it: crashes walked newest first until the sample is full.
      ['search: message text, every crash', measure(Math.min(runs, 5), () => index.search({ q: 'is undefined' }))],
    ];
    for (const [name, r] of rows) {
      const ratio = r.p50 / baseline.p50;
      log(`  ${name.padEnd(40)} p50 ${r.p50.toFixed(2).padStart(8)} ms   max ${r.max.toFixed(2).padStart(8)} ms   ${ratio.toFixed(2).padStart(7)}× count(*)`);
    }
    const worst = Math.max(...rows.filter(([name]) => /^(top crashers|signature page)/.test(name)).map(([, r]) => r.p50));
    log(`  top crashers and signature page (queries and rendered pages): slowest p50 ${worst.toFixed(1)} ms (target < 100 ms): ${worst < 100 ? 'OK' : 'OVER TARGET'}`);
  } finally {
    index.close();
    if (process.env.BENCH_KEEP) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchIndex((line) => console.log(line));
