import { readFileSync } from 'node:fs';

/**
 * CPU time used by a process, read from Linux's /proc: all its threads together, and its main
 * thread (the event loop) alone. Null where /proc is not there to read.
 */
export interface CpuTime {
  process: number;
  mainThread: number;
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function ticksIn(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function cpuTime(pid: number): CpuTime | null {
  try {
    return {
      process: ticksIn(`/proc/${pid}/stat`) / TICKS_PER_SECOND,
      mainThread: ticksIn(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

/** Share of one core used between two readings `seconds` apart. */
export function cpuShare(before: CpuTime | null, after: CpuTime | null, seconds: number): CpuTime | null {
  if (!before || !after) return null;
  return { process: (after.process - before.process) / seconds, mainThread: (after.mainThread - before.mainThread) / seconds };
}
