import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { multipartBody } from './multipart-body.ts';
import { load, type LoadResult } from './load.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      output += d;
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
  return { url, child };
}

/** The benchmark receivers' admin token (tokens are 16 characters or more). */
const BENCH_TOKEN = 'bench-admin-token';

/** How long the work behind the collector is watched after the burst. */
const DRAIN_SECONDS = 10;

interface Drain {
  processedPerSecond: number;
  /** Crashes still in the journal or the processing queue at the end. */
  waiting: number;
}

/**
 * After a burst the receiver lays the crashes out and processes them (symbolication, signature,
 * index): its rate, read from `/api/stats`, is the throughput a receiver keeps up for good.
 */
async function measureDrain(url: string, seconds: number): Promise<Drain> {
  type Stats = { collector: { accepted: number }; layout: { waiting: number }; processing: { processed: number } };
  const stats = async (): Promise<Stats> => (await (await fetch(`${url}/api/stats`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } })).json()) as Stats;
  const before = await stats();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await stats();
  const elapsed = (performance.now() - started) / 1000;
  return {
    processedPerSecond: (after.processing.processed - before.processing.processed) / elapsed,
    waiting: after.collector.accepted - after.processing.processed,
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const row = (name: string, r: LoadResult): string =>
  `  ${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(6)} ms   errors ${r.errors}` +
  (r.errors ? ` (${Object.entries(r.errorKinds).map(([k, n]) => `${n}× ${k}`).join('; ')})` : '') +
  cpuLine(r);

/**
 * Where the cores went in that run: the server's event loop (busy share, and its time per
 * request), the server's other threads (file system calls, garbage collection), and the load
 * generator, which shares the machine. An event loop well under 1.0 with the machine's cores
 * not all used means requests are waiting on something else (for the durable receiver, the flush).
 */
function cpuLine(r: LoadResult): string {
  const { server, generator } = r.cpu;
  if (!server || !generator) return '';
  const perRequestUs = (server.mainThread / r.perSecond) * 1e6;
  return (
    `\n  ${''.padEnd(34)} event loop ${server.mainThread.toFixed(2)} core (${perRequestUs.toFixed(0)} µs a request), ` +
    `its other threads ${(server.process - server.mainThread).toFixed(2)}, load generator ${generator.process.toFixed(2)}`
  );
}

/**
 * How long each server takes load before it is measured. A fresh receiver (each durable round
 * starts one) reaches its pace only after about 2 s of load, the bare endpoint after about 1 s
 * (more of the receiver's code has to be compiled by the JIT): with a shorter warm-up the
 * durable collector's first measured second ran at half its pace while the bare endpoint,
 * warm from the round before, ran at full pace. A receiver in service is warm.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 2);

/** Rounds of the three measurements, interleaved so a machine that speeds up or slows down mid-run treats them alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The run with the median rate. */
function median(runs: LoadResult[]): LoadResult {
  return [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!;
}

/**
 * Collector throughput: the durable collector (the whole receiver, as `socorrito serve` runs it)
 * against a bare Hono endpoint that only reads the same JavaScript crash submission, both
 * measured in this run and reported as a ratio; between them, the collector with storage that
 * keeps nothing, which splits the cost of parsing from the cost of durability. The three
 * take turns for ROUNDS rounds and the medians are compared; each durable round gets a fresh
 * receiver, so the backlog one round leaves does not slow the next. Each run is WARMUP_SECONDS
 * of load, then `seconds` measured: at the paces seen here the 6 s in all leave a fresh receiver's
 * backlog under half of its cap, past which laying out no longer steps aside for the burst. Then the rate at which the
 * receiver lays out and processes the backlog of a burst, which is what it keeps up for good.
 */
export async function benchCollector(log: (line: string) => void, seconds = 4): Promise<{ ratio: number }> {
  const { body, contentType } = multipartBody();
  const headers = { 'content-type': contentType };
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
  log(
    `collector: a ${(body.length / 1024).toFixed(1)} KB JavaScript crash submission, ${connections} connections, ` +
      `${WARMUP_SECONDS} s of warm-up then ${seconds} s measured per run, ${ROUNDS} rounds (medians)`,
  );

  const runs = { bare: [] as LoadResult[], parsed: [] as LoadResult[], durable: [] as LoadResult[] };
  let drain: Drain | null = null;
  const bare = await startProcess(['--import', 'tsx', 'bench/bare-server.ts']);
  const parseOnly = await startProcess(['--import', 'tsx', 'bench/parse-server.ts']);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      runs.bare.push(await load(`${bare.url}/submit`, body, headers, { seconds, warmupSeconds: WARMUP_SECONDS, connections, expect: /^CrashID=/, serverPid: bare.child.pid }));
      runs.parsed.push(await load(`${parseOnly.url}/submit`, body, headers, { seconds, warmupSeconds: WARMUP_SECONDS, connections, expect: /^CrashID=bp-/, serverPid: parseOnly.child.pid }));
      const dataDir = await mkdtemp(join(tmpdir(), 'socorrito-bench-'));
      const receiver = await startProcess(['bin/socorrito.js', 'serve', '--port', '0', '--data-dir', dataDir], {
        SOCORRITO_CLIENT_RATE_PER_MINUTE: '0',
        SOCORRITO_APP_RATE_PER_MINUTE: '0',
        SOCORRITO_ADMIN_TOKEN: BENCH_TOKEN,
      });
      try {
        runs.durable.push(await load(`${receiver.url}/submit`, body, headers, { seconds, warmupSeconds: WARMUP_SECONDS, connections, expect: /^CrashID=bp-/, serverPid: receiver.child.pid }));
        if (round === ROUNDS) drain = await measureDrain(receiver.url, DRAIN_SECONDS);
      } finally {
        await stop(receiver.child);
        await rm(dataDir, { recursive: true, force: true });
      }
      log(`  round ${round}: bare ${runs.bare.at(-1)!.perSecond.toFixed(0)}, storage keeps nothing ${runs.parsed.at(-1)!.perSecond.toFixed(0)}, durable ${runs.durable.at(-1)!.perSecond.toFixed(0)} req/s`);
    }
  } finally {
    await stop(bare.child);
    await stop(parseOnly.child);
  }
  const baseline = median(runs.bare);
  const parsed = median(runs.parsed);
  const collector = median(runs.durable);
  log(row('bare Hono endpoint (baseline)', baseline));
  log(row('collector, storage keeps nothing', parsed));
  log(row('durable collector (parse + fsync)', collector));
  const ratio = collector.perSecond / baseline.perSecond;
  log(`  ratio collector / bare: ${ratio.toFixed(2)} (target ≥ 0.50); parsing alone: ${(parsed.perSecond / baseline.perSecond).toFixed(2)}`);
  log(
    `  behind the burst, over the next ${DRAIN_SECONDS} s: ${drain!.processedPerSecond.toFixed(0)} crashes/s laid out and processed ` +
      `(${(drain!.processedPerSecond / collector.perSecond).toFixed(3)} of the collector's rate); ${drain!.waiting} still waiting`,
  );
  return { ratio };
}
