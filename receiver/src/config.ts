/**
 * Every receiver option, its default, its parser and one line of doc. Each is read from a
 * `--flag` or a `SOCORRITO_*` variable (the flag wins), validated at start, and logged. The
 * README's configuration table is generated from this list (`configTable()`), and a test
 * checks that they match.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

interface OptionDef<T> {
  /** `--flag` name, also the env var's suffix: `data-dir` -> `SOCORRITO_DATA_DIR`. */
  flag: string;
  default: T;
  /** Throws an Error with a short reason when the text is not acceptable. */
  parse(text: string): T;
  doc: string;
  /** Not printed in the start-up log (tokens). */
  secret?: boolean;
}

function int(min: number, max: number): (text: string) => number {
  return (text) => {
    if (!/^-?\d+$/.test(text.trim())) throw new Error(`expected a whole number, got ${JSON.stringify(text)}`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}

const MIB = 1024 * 1024;

function bytes(min: number, max: number): (text: string) => number {
  return (text) => {
    const m = /^(\d+)\s*(k|m|g|kb|mb|gb|kib|mib|gib)?$/i.exec(text.trim());
    if (!m) throw new Error(`expected a size like 20MiB or 1048576, got ${JSON.stringify(text)}`);
    const unit = (m[2] ?? '').toLowerCase()[0];
    const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? MIB : unit === 'g' ? 1024 * MIB : 1);
    if (n < min || n > max) throw new Error(`expected ${min}..${max} bytes, got ${n}`);
    return n;
  };
}

function bool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(text)}`);
}

function str(text: string): string {
  return text;
}

function optionalStr(text: string): string | undefined {
  return text === '' ? undefined : text;
}

function def<T>(o: OptionDef<T>): OptionDef<T> {
  return o;
}

export const OPTIONS = {
  port: def({ flag: 'port', default: 8000, parse: int(0, 65535), doc: 'TCP port to listen on (0 picks a free one).' }),
  host: def({ flag: 'host', default: '127.0.0.1', parse: str, doc: 'Address to listen on; 0.0.0.0 for all interfaces.' }),
  dataDir: def({ flag: 'data-dir', default: './data', parse: str, doc: 'Where crashes, the queue and the index live.' }),
  adminToken: def({
    flag: 'admin-token',
    default: undefined as string | undefined,
    parse: optionalStr,
    secret: true,
    doc: 'Token for report pages and /api. Unset: made on first start, kept in <data-dir>/admin-token.',
  }),
  publicUrl: def({
    flag: 'public-url',
    default: undefined as string | undefined,
    parse: optionalStr,
    doc: 'The URL people reach the receiver at, for links it prints (default: http://host:port).',
  }),
  maxBodyBytes: def({
    flag: 'max-body-bytes',
    default: 20 * MIB,
    parse: bytes(1024, 1024 * MIB),
    doc: 'Largest submission body as sent (compressed or not); larger gets 413.',
  }),
  maxDecompressedBytes: def({
    flag: 'max-decompressed-bytes',
    default: 50 * MIB,
    parse: bytes(1024, 4096 * MIB),
    doc: 'Largest gzip submission after inflating; inflating stops there with 413.',
  }),
  maxAnnotationBytes: def({
    flag: 'max-annotation-bytes',
    default: 1 * MIB,
    parse: bytes(64, 256 * MIB),
    doc: 'Largest single annotation value (a JS stack fits easily).',
  }),
  maxAnnotations: def({ flag: 'max-annotations', default: 500, parse: int(1, 100_000), doc: 'Most annotations in one submission.' }),
  maxFiles: def({ flag: 'max-files', default: 20, parse: int(0, 1000), doc: 'Most file parts in one submission.' }),
  clientRatePerMinute: def({
    flag: 'client-rate-per-minute',
    default: 120,
    parse: int(0, 10_000_000),
    doc: 'Submissions per minute from one client address before 429 (0 = no limit).',
  }),
  appRatePerMinute: def({
    flag: 'app-rate-per-minute',
    default: 6000,
    parse: int(0, 10_000_000),
    doc: 'Submissions per minute for one app (WebAppGUID, else ProductName) before 429 (0 = no limit).',
  }),
  trustProxy: def({
    flag: 'trust-proxy',
    default: false,
    parse: bool,
    doc: 'Take the client address from X-Forwarded-For (only behind your own reverse proxy).',
  }),
  throttleRules: def({
    flag: 'throttle-rules',
    default: undefined as string | undefined,
    parse: optionalStr,
    doc: 'JSON file of throttle rules (see README); unset accepts everything.',
  }),
  shutdownTimeoutMs: def({
    flag: 'shutdown-timeout-ms',
    default: 10_000,
    parse: int(0, 600_000),
    doc: 'On SIGTERM/SIGINT, how long in-flight requests may take to finish.',
  }),
};

type Options = typeof OPTIONS;
export type Config = { [K in keyof Options]: Options[K]['default'] };

export function envName(flag: string): string {
  return `SOCORRITO_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Reads the configuration from flags (`{ 'data-dir': './x' }`) and the environment, reporting
 * every invalid value at once.
 */
export function loadConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const known = new Set(Object.values(OPTIONS).map((o) => o.flag));
  for (const name of Object.keys(flags)) if (!known.has(name)) problems.push(`unknown option --${name}`);
  const config: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(OPTIONS) as [string, OptionDef<unknown>][]) {
    const fromFlag = flags[option.flag];
    const fromEnv = env[envName(option.flag)];
    const text = fromFlag ?? fromEnv;
    if (text === undefined) {
      config[key] = option.default;
      continue;
    }
    try {
      config[key] = option.parse(text);
    } catch (err) {
      const where = fromFlag !== undefined ? `--${option.flag}` : envName(option.flag);
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config as Config;
}

/** One line per option for the start-up log, secrets hidden. */
export function describeConfig(config: Config): string[] {
  return (Object.entries(OPTIONS) as [keyof Config, OptionDef<unknown>][]).map(([key, option]) => {
    const value = config[key];
    const shown = option.secret ? (value === undefined ? '(generated)' : '(set)') : JSON.stringify(value ?? null);
    return `${option.flag}=${shown}`;
  });
}

/** The README's configuration table, as Markdown. */
export function configTable(): string {
  const rows = Object.values(OPTIONS).map((o: OptionDef<unknown>) => {
    const dflt = o.default === undefined ? '—' : `\`${String(o.default)}\``;
    return `| \`--${o.flag}\` | \`${envName(o.flag)}\` | ${dflt} | ${o.doc} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
