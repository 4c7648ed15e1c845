import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadSetting } from '../config.ts';
import { DataFormatError, readDataFormat } from '../storage/data-format.ts';
import { closest } from '../text.ts';

/**
 * A mistake in how a command was called: printed plainly, with no stack. Exits 2, or 1 when
 * the call was well formed but names something that is not there (a data dir).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The data dir a command other than serve works on, absolute: its --data-dir, else
 * SOCORRITO_DATA_DIR, else ./data, read as serve reads it (and only that setting, so serve
 * settings in the environment it does not use cannot stop it).
 */
export function dataDirSetting(command: string, flag: string | undefined, env: NodeJS.ProcessEnv): string {
  try {
    return resolve(loadSetting('dataDir', { 'data-dir': flag }, env));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${command}: ${err.problems.join('; ')}`);
    throw err;
  }
}

/** Throws a UsageError (exit 1) unless `dataDir` is an existing folder; for commands that only read one. */
export function requireDataDir(command: string, dataDir: string): void {
  const stat = statSync(dataDir, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`${command}: the data dir ${dataDir} does not exist; pass the folder the receiver uses, with --data-dir or SOCORRITO_DATA_DIR`, 1);
  if (!stat.isDirectory()) throw new UsageError(`${command}: the data dir ${dataDir} is not a folder; pass the folder the receiver uses, with --data-dir or SOCORRITO_DATA_DIR`, 1);
}

/** A data dir a newer release has written is not touched by this one (see storage/data-format.ts). */
export async function refuseNewerDataDir(command: string, dataDir: string): Promise<void> {
  try {
    await readDataFormat(dataDir);
  } catch (err) {
    if (err instanceof DataFormatError) throw new UsageError(`${command}: ${err.message}`, 1);
    throw err;
  }
}

/** What a command needs from the outside world, passed in so tests can capture it. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/**
 * The receiver URL a command was given, which must be http(s); a UsageError says so otherwise.
 *
 * @example receiverUrl('submit', '127.0.0.1:8000/submit') // throws: ... try http://127.0.0.1:8000/submit
 */
export function receiverUrl(command: string, text: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Reported below with the fix.
  }
  if (url?.protocol === 'http:' || url?.protocol === 'https:') return url;
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? '' : `, e.g. http://${text}`;
  throw new UsageError(`${command}: --url must start with http:// or https://${hint} (got ${JSON.stringify(text.slice(0, 200))})`);
}

/**
 * A receiver API endpoint under the address a command was given. The address may have a path
 * (a receiver behind a proxy at /crashes/) or be its submit URL; the query is dropped.
 *
 * @example apiEndpoint(new URL('https://example.com/crashes/submit'), 'api/reprocess') // 'https://example.com/crashes/api/reprocess'
 */
export function apiEndpoint(receiver: URL, path: string): string {
  const base = new URL(receiver.href);
  base.pathname = base.pathname.replace(/\/submit\/?$/, '').replace(/\/?$/, '/');
  base.search = '';
  base.hash = '';
  return new URL(path, base).href;
}

/**
 * Why a request to a receiver did not get an answer, with what to check: fetch's own message is
 * "fetch failed", the reason (ECONNREFUSED, ENOTFOUND…) is in its cause.
 */
export function unreachable(command: string, url: string, err: unknown): string {
  // AbortSignal.timeout: the receiver was reached (or not) but did not answer in time.
  if ((err as Error).name === 'TimeoutError') return `socorrito ${command}: no answer from ${url} in time; is it a receiver, and is it overloaded?`;
  const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  const hint =
    reason === 'ECONNREFUSED'
      ? '; is the receiver running there? (`socorrito serve` or `npm start` starts it)'
      : reason === 'ENOTFOUND' || reason === 'EAI_AGAIN'
        ? '; check the host name in --url'
        : '';
  return `socorrito ${command}: could not reach ${url}: ${reason}${hint}`;
}

/** How long a command waits for a receiver's answer (an upload of large maps included). */
export const ANSWER_TIMEOUT_MS = 120_000;

/** What to do after a 401 from a receiver's API. */
export const TOKEN_HINT =
  "pass the receiver's admin token, kept in <data-dir>/admin-token unless set with SOCORRITO_ADMIN_TOKEN, its upload token (--upload-token), " +
  'or an upload token made for this app (POST /api/apps/<guid>/upload-tokens; a revoked one is refused), as --token or SOCORRITO_TOKEN';

/** `1 crash`, `2 crashes`. */
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `parseArgs` that turns its errors into usage errors naming the command, with a guess at a mistyped option. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: withBooleanValues(argv, options ?? {}), options, allowPositionals, strict: true });
  } catch (err) {
    const message = (err as Error).message;
    if ((err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node's own text suggests `--` for a positional starting with a dash, which no command here takes.
      const given = /^Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1] ?? '';
      const guess = closest(given.replace(/^-+/, ''), Object.keys(options ?? {}));
      throw new UsageError(`${command}: unknown option ${given}${guess ? `; did you mean --${guess}?` : '.'} Run 'socorrito ${command} --help' for usage.`);
    }
    throw new UsageError(`${command}: ${message}. Run 'socorrito help' for usage.`);
  }
}

const ON = /^(?:true|1|yes|on)$/i;
const OFF = /^(?:false|0|no|off)$/i;

/**
 * An on/off option given a value, as `serve` takes them: `--replace=false` is `--no-replace`
 * (or nothing, for an option that is off unless given), `--no-replace=false` is `--replace`,
 * `--gzip=true` is `--gzip`. Other values are left for parseArgs to refuse. Given more than
 * once, in any of these forms, the last one says (`--gzip --gzip=false` is off).
 */
function withBooleanValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: (string | null)[] = [];
  /** Where the last word on each on/off option is in `out`, by the option's name without `no-`. */
  const said = new Map<string, number>();
  const isOnOff = (name: string): boolean => options[name]?.type === 'boolean';
  const base = (name: string): string => (name.startsWith('no-') && isOnOff(name.slice(3)) ? name.slice(3) : name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([\w-]+)(?:=(.*))?$/s.exec(arg);
    const name = m?.[1];
    const value = m?.[2];
    if (!name || !isOnOff(name) || (value !== undefined && !ON.test(value) && !OFF.test(value))) {
      out.push(arg);
      continue;
    }
    const key = base(name);
    const earlier = said.get(key);
    if (earlier !== undefined) out[earlier] = null;
    let word: string | null = `--${name}`;
    if (value !== undefined && OFF.test(value)) {
      // `--no-x=false` is `--x`; `--x=false` is `--no-x` when the command has it, else nothing (off unless given).
      word = name !== key ? `--${key}` : isOnOff(`no-${name}`) ? `--no-${name}` : null;
    }
    said.set(key, out.length);
    out.push(word);
  }
  return out.filter((a): a is string => a !== null);
}

