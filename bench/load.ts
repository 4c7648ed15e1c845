import { Agent, request } from 'node:http';
import { type CpuTime, cpuShare, cpuTime } from './cpu-use.ts';

export interface LoadResult {
  requests: number;
  errors: number;
  /** Why requests failed: status code or error code, with counts. */
  errorKinds: Record<string, number>;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Cores used over the measured phase by the server (when its pid was given) and by this generator. */
  cpu: { server: CpuTime | null; generator: CpuTime | null };
}

/**
 * Sends the same POST over `connections` keep-alive connections for `seconds` (after a short
 * warm-up) and measures throughput and latency. Plain node:http keeps the generator's own cost
 * low, since it shares the machine with the server.
 */
export async function load(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: { connections?: number; seconds?: number; warmupSeconds?: number; expect?: RegExp; serverPid?: number } = {},
): Promise<LoadResult> {
  const connections = options.connections ?? 32;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const errorKinds: Record<string, number> = {};
  const failed = (kind: string): false => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    return false;
  };
  const once = (): Promise<boolean> =>
    new Promise((resolve) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            if (res.statusCode !== 200) resolve(failed(`HTTP ${res.statusCode}: ${text.trim().slice(0, 80)}`));
            else if (options.expect && !options.expect.test(text)) resolve(failed(`unexpected answer: ${text.trim().slice(0, 80)}`));
            else resolve(true);
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(failed(err.code ?? err.message)));
      req.end(body);
    });

  const phase = async (seconds: number, record: boolean): Promise<{ latencies: number[]; errors: number; elapsed: number }> => {
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const ok = await once();
          if (!record) continue;
          if (ok) latencies.push(performance.now() - t0);
          else errors++;
        }
      }),
    );
    return { latencies, errors, elapsed: (performance.now() - start) / 1000 };
  };

  await phase(options.warmupSeconds ?? 1, false);
  for (const kind of Object.keys(errorKinds)) delete errorKinds[kind]; // count the measured phase only
  const serverBefore = options.serverPid ? cpuTime(options.serverPid) : null;
  const generatorBefore = cpuTime(process.pid);
  const { latencies, errors, elapsed } = await phase(options.seconds ?? 5, true);
  const cpu = {
    server: options.serverPid ? cpuShare(serverBefore, cpuTime(options.serverPid), elapsed) : null,
    generator: cpuShare(generatorBefore, cpuTime(process.pid), elapsed),
  };
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, errors, errorKinds, perSecond: latencies.length / elapsed, p50Ms: pct(0.5), p99Ms: pct(0.99), cpu };
}
