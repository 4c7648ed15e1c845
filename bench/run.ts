// `npm run bench`: every benchmark, each reported against a baseline measured in the same run.
import { benchCollector } from './collector.ts';

const log = (line: string): void => console.log(line);
const only = process.argv[2];
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

if (!only || only === 'collector') await benchCollector(log, seconds);
