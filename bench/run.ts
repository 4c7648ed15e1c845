// `npm run bench [collector|symbolication|index|hook]`: the benchmarks, each reported against a
// baseline measured in the same run, never as a pass/fail timing.
import { benchCollector } from './collector.ts';
import { benchHook } from './hook.ts';
import { benchIndex } from './index.ts';
import { benchSymbolication } from './symbolication.ts';

const log = (line: string): void => console.log(line);
const only = process.argv[2];
// Each benchmark has its own default run length; BENCH_SECONDS sets them all.
const seconds = process.env.BENCH_SECONDS ? Number(process.env.BENCH_SECONDS) : undefined;
const BENCHES: Record<string, () => Promise<unknown>> = {
  collector: () => benchCollector(log, seconds),
  symbolication: () => benchSymbolication(log, seconds),
  index: () => benchIndex(log),
  hook: () => benchHook(log),
};

if (only && !BENCHES[only]) {
  console.error(`bench: unknown benchmark ${JSON.stringify(only)}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(BENCHES)) {
  if (only && name !== only) continue;
  log(`\n== ${name}`);
  await run();
}
