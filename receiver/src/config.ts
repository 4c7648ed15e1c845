/**
 * Every receiver option, its default, its parser and one line of doc. Each is read from a
 * `--flag` or a `SOCORRITO_*` variable (the flag wins), validated at start, and logged. The
 * README's configuration table is generated from this list (`configTable()`), and a test
 * checks that they match.
 */

import { statSync } from 'node:fs';
import { CLIENT_SHARE } from './collector/pending.ts';
import { environmentName } from '../../shared/src/protocol.ts';
import { type ProxyTrust, TrustedProxies } from './proxy.ts';

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

function bytes(min: number, max: number): ((text: string) => number) & { unit: 'bytes' } {
  return Object.assign((text: string) => {
    const m = /^(\d+)\s*(k|m|g|kb|mb|gb|kib|mib|gib)?$/i.exec(text.trim());
    if (!m) throw new Error(`expected a size like 20MiB or 1048576, got ${JSON.stringify(text)}`);
    const unit = (m[2] ?? '').toLowerCase()[0];
    const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? MIB : unit === 'g' ? 1024 * MIB : 1);
    if (n < min || n > max) throw new Error(`expected ${min}..${max} bytes, got ${n}`);
    return n;
  }, { unit: 'bytes' as const });
}

function bool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(text)}`);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration like `500ms`, `30s`, `10m`, `72h`, `3d`, or a plain number of milliseconds. */
function duration(minMs: number, maxMs: number): ((text: string) => number) & { unit: 'ms' } {
  return Object.assign((text: string) => {
    const m = /^(\d+)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
    if (!m) throw new Error(`expected a duration like 30s, 10m, 72h or 500ms, got ${JSON.stringify(text)}`);
    const n = Number(m[1]) * UNIT_MS[(m[2] ?? 'ms').toLowerCase()]!;
    if (n < minMs || n > maxMs) throw new Error(`expected ${minMs}..${maxMs} ms, got ${n}`);
    return n;
  }, { unit: 'ms' as const });
}

/**
 * `--trust-proxy`: on or off as any on/off option (on: every private address is a proxy, as
 * before proxies could be named), else the proxies' addresses, CIDRs and words (`loopback`,
 * `linklocal`, `uniquelocal`, as Express names those ranges). A number is refused,
 * not read as a hop count: `1` already means on.
 */
function proxyTrust(text: string): ProxyTrust {
  if (/^\s*(?:1|0|true|false|yes|no|on|off|)\s*$/i.test(text)) return bool(text);
  return TrustedProxies.parse(text);
}

/** Text that must say something: an empty host would listen everywhere, an empty data dir be the current one. */
function nonEmpty(text: string): string {
  if (text.trim() === '') throw new Error('must not be empty');
  return text;
}

/**
 * A secret someone could guess is no secret: tokens are 16 characters or more. Nor white space,
 * which HTTP clients trim from headers: such a token could never be sent.
 */
export const MIN_TOKEN_LENGTH = 16;

/** Why a token cannot be used, or null (the rule for every token, set or written into the data dir). */
export function tokenProblem(text: string): string | null {
  if (text.length < MIN_TOKEN_LENGTH) return `use at least ${MIN_TOKEN_LENGTH} characters`;
  if (/\s/.test(text)) return 'must not contain spaces or other white space, which no HTTP client can send';
  return null;
}

function token(text: string): string | undefined {
  if (text === '') return undefined;
  const problem = tokenProblem(text);
  if (problem) throw new Error(problem);
  return text;
}

function httpUrl(text: string): string | undefined {
  if (text === '') return undefined;
  const url = URL.parse(text);
  if (!url || !/^https?:$/.test(url.protocol)) throw new Error(`expected an http(s) URL like https://crashes.example.com, got ${JSON.stringify(text)}`);
  return text.replace(/\/+$/, '');
}

/**
 * `--public-url`: an http(s) URL, with the path a proxy serves the receiver under if it has one
 * (`https://tools.example.com/crashes/`). Given as the origin and that path, without the trailing
 * slash, so links are made by appending `/login`. A query or fragment no link could keep is refused.
 */
function publicUrl(text: string): string | undefined {
  if (httpUrl(text) === undefined) return undefined;
  const url = new URL(text);
  if (/[?#]/.test(text)) throw new Error(`expected no query or fragment, only a path if the receiver is served under one (https://tools.example.com/crashes/), got ${JSON.stringify(text)}`);
  if (url.username || url.password) throw new Error('must not carry a user name or password');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function existingPath(kind: 'file' | 'folder'): (text: string) => string | undefined {
  return (text) => {
    if (text === '') return undefined;
    let stat;
    try {
      stat = statSync(text);
    } catch {
      throw new Error(`no such ${kind}: ${text}`);
    }
    if (kind === 'folder' ? !stat.isDirectory() : !stat.isFile()) throw new Error(`not a ${kind}: ${text}`);
    return text;
  };
}

function regexList(text: string): string[] {
  const patterns = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad: string[] = [];
  for (const p of patterns) {
    try {
      new RegExp(p, 'i');
    } catch (err) {
      bad.push(`${JSON.stringify(p)} (${(err as Error).message})`);
    }
  }
  if (bad.length) throw new Error(`not regular expressions: ${bad.join(', ')}`);
  return patterns;
}

function def<T>(o: OptionDef<T>): OptionDef<T> {
  return o;
}

export const OPTIONS = {
  port: def({ flag: 'port', default: 8000, parse: int(0, 65535), doc: 'TCP port to listen on (0 picks a free one).' }),
  host: def({ flag: 'host', default: '127.0.0.1', parse: nonEmpty, doc: 'Address to listen on; 0.0.0.0 for all interfaces.' }),
  dataDir: def({ flag: 'data-dir', default: './data', parse: nonEmpty, doc: 'Where crashes, the queue and the index live.' }),
  adminToken: def({
    flag: 'admin-token',
    default: undefined as string | undefined,
    parse: token,
    secret: true,
    doc: 'Token (16 characters or more) for report pages and /api. Unset: made on first start, kept in <data-dir>/admin-token.',
  }),
  uploadToken: def({
    flag: 'upload-token',
    default: undefined as string | undefined,
    parse: token,
    secret: true,
    doc: 'A token (16 characters or more) for build machines that may only upload source maps and reprocess (unset: only the admin token).',
  }),
  viewerToken: def({
    flag: 'viewer-token',
    default: undefined as string | undefined,
    parse: token,
    secret: true,
    doc: 'A token (16 characters or more) for colleagues who may read every page and the API but change nothing: no triage, uploads or settings (unset: only the admin token).',
  }),
  publicUrl: def({
    flag: 'public-url',
    default: undefined as string | undefined,
    parse: publicUrl,
    doc: 'The URL people browse to (default: http://host:port): links it prints use it, and behind a proxy logins and forms from it are accepted. A path in it (https://tools.example.com/crashes/) is kept in every link, redirect and cookie the receiver gives; requests are taken with or without it.',
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
  submitTimeoutMs: def({
    flag: 'submit-timeout',
    default: 60 * UNIT_MS.s!,
    parse: duration(1000, UNIT_MS.h!),
    doc: 'How long a submission body may take to arrive; slower gets 408 and the connection is closed (a crash is a few kB; a client trickling a body would hold memory).',
  }),
  minFreeDiskBytes: def({
    flag: 'min-free-disk',
    default: 256 * MIB,
    parse: bytes(0, 1024 * 1024 * MIB),
    doc: 'Free space kept on the data dir\'s disk: below it new crashes get 503 with Retry-After (clients keep them) before the disk is full (0: no floor).',
  }),
  maxPendingBytes: def({
    flag: 'max-pending-bytes',
    default: 256 * MIB,
    parse: bytes(1024, 64 * 1024 * MIB),
    doc: 'Submission bodies held in memory at once, all clients together (one client at most a quarter); past it, 503 with Retry-After.',
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
    default: false as ProxyTrust,
    parse: proxyTrust,
    doc: "Only behind your own reverse proxy: take the client address from X-Forwarded-For, and accept logins and forms from the origin X-Forwarded-Proto and X-Forwarded-Host name. Name the proxies' addresses or CIDRs (10.0.0.5,192.168.0.0/16), or loopback, linklocal, uniquelocal, alone or mixed in (loopback,10.0.0.5): only connections from them are believed, and only their hops are skipped in X-Forwarded-For. true takes every private address for a proxy, so clients on private networks can forge theirs.",
  }),
  throttleRules: def({
    flag: 'throttle-rules',
    default: undefined as string | undefined,
    parse: existingPath('file'),
    doc: 'JSON file of throttle rules (see README); unset accepts everything.',
  }),
  forwardBySubmitUrl: def({
    flag: 'forward-by-submit-url',
    default: false,
    parse: bool,
    doc: 'URL mode: forward a crash that carries SubmitURL there, with no registry (https and public addresses only).',
  }),
  forwardAllowPrivateTargets: def({
    flag: 'forward-allow-private-targets',
    default: false,
    parse: bool,
    doc: 'URL mode: also forward to loopback, private and link-local addresses (tests, closed networks); cloud metadata addresses stay refused.',
  }),
  forwardAllowHttp: def({
    flag: 'forward-allow-http',
    default: false,
    parse: bool,
    doc: 'URL mode: also forward to plain http URLs (tests, closed networks).',
  }),
  forwardRatePerMinute: def({
    flag: 'forward-rate-per-minute',
    default: 60,
    parse: int(0, 10_000_000),
    doc: 'URL mode: forwards per minute to one destination host; more wait in the outbox (0 = no limit).',
  }),
  forwardMaxHops: def({
    flag: 'forward-max-hops',
    default: 2,
    parse: int(0, 20),
    doc: 'A crash that was already forwarded this many times (ForwardHops) is not forwarded again: stops loops.',
  }),
  forwardGiveUpAfterMs: def({
    flag: 'forward-give-up-after',
    default: 72 * UNIT_MS.h!,
    parse: duration(0, 365 * UNIT_MS.d!),
    doc: 'How long the outbox keeps retrying a crash before giving up and recording why (e.g. 72h, 30s).',
  }),
  forwardRetryInitialMs: def({
    flag: 'forward-retry-initial',
    default: 10 * UNIT_MS.s!,
    parse: duration(1, 24 * UNIT_MS.h!),
    doc: 'First wait before retrying a failed forward; doubles each time (e.g. 10s, 200ms). An answer with Retry-After is waited for as long as it asks instead.',
  }),
  forwardRetryMaxMs: def({
    flag: 'forward-retry-max',
    default: 30 * UNIT_MS.m!,
    parse: duration(1, 7 * UNIT_MS.d!),
    doc: 'Longest wait between retries of one forward, unless Retry-After asks for more.',
  }),
  forwardTimeoutMs: def({
    flag: 'forward-timeout',
    default: 10 * UNIT_MS.s!,
    parse: duration(100, 10 * UNIT_MS.m!),
    doc: 'How long one forward may take (connect, send, answer) before it counts as a network error.',
  }),
  forwardConcurrency: def({ flag: 'forward-concurrency', default: 4, parse: int(1, 256), doc: 'Forwards in flight at once for registered apps, and as many again for URL mode.' }),
  webhookUrl: def({
    flag: 'webhook-url',
    default: undefined as string | undefined,
    parse: httpUrl,
    doc: 'POST a JSON event here when a crash signature is seen for the first time, regresses or spikes (its `text` field suits Slack or Mattermost); events wait in `<data-dir>/webhook-outbox/` until taken, for up to 24 h. Logs show only its origin.',
  }),
  spikeAlerts: def({
    flag: 'spike-alerts',
    default: 50,
    parse: int(0, 1_000_000),
    doc: 'With --webhook-url, send a spike event when a signature has at least this many crashes in an app and environment in the last hour and 10 times its usual hourly rate there (0: no spike events).',
  }),
  alertEnvironments: def({
    flag: 'alert-environments',
    default: [] as string[],
    parse: environmentList,
    doc: 'Only crashes from these environments (comma-separated, e.g. production) send alerts and reopen resolved signatures, and a signature is new when first seen in one of them; empty: every crash, environment or not.',
  }),
  retentionDays: def({
    flag: 'retention-days',
    default: 0,
    parse: int(0, 100_000),
    doc: 'Delete crashes submitted more than this many days ago, checked hourly (0 keeps them forever).',
  }),
  demo: def({
    flag: 'demo',
    default: false,
    parse: bool,
    doc: 'Also serve the demo web app at /demo/ and upload its source maps on start (npm start turns it on).',
  }),
  shutdownTimeoutMs: def({
    flag: 'shutdown-timeout-ms',
    default: 10_000,
    parse: int(1, 600_000),
    doc: 'On SIGTERM/SIGINT, how long in-flight requests may take to finish.',
  }),
  logTimestamps: def({
    flag: 'log-timestamps',
    default: true,
    parse: bool,
    doc: "Begin each line of the receiver's log with its UTC time (2026-11-29T20:31:02.123Z); turn it off where the service manager adds its own (journald).",
  }),
  sessionHours: def({
    flag: 'session-hours',
    default: 168,
    parse: int(1, 24 * 366),
    doc: 'How long a login to the report pages lasts, in hours.',
  }),
  sourcemapCacheBytes: def({
    flag: 'sourcemap-cache-bytes',
    default: 256 * MIB,
    parse: bytes(1024, 64 * 1024 * MIB),
    doc: 'Memory for parsed source maps kept between crashes (LRU; a map counts its JSON size plus 10 bytes per character of its mappings, about what it takes parsed).',
  }),
  maxSourcemapUploadBytes: def({
    flag: 'max-sourcemap-upload-bytes',
    default: 256 * MIB,
    parse: bytes(1024, 16 * 1024 * MIB),
    doc: 'Largest POST /api/sourcemaps body (all files of one upload).',
  }),
  fetchSourcesFrom: def({
    flag: 'fetch-sources-from',
    default: [] as string[],
    parse: origins,
    doc: 'Origins (comma-separated, or *) whose scripts and maps may be fetched when none were uploaded; empty: never fetch.',
  }),
  fetchAllowPrivate: def({
    flag: 'fetch-allow-private',
    default: false,
    parse: bool,
    doc: 'Let source fetching reach loopback and private addresses (closed networks and tests only).',
  }),
  fetchMaxBytes: def({ flag: 'fetch-max-bytes', default: 20 * MIB, parse: bytes(1024, 1024 * MIB), doc: 'Largest script or map fetched.' }),
  fetchTimeoutMs: def({ flag: 'fetch-timeout-ms', default: 10_000, parse: int(100, 600_000), doc: 'How long one source fetch may take.' }),
  tuningDir: def({
    flag: 'tuning-dir',
    default: undefined as string | undefined,
    parse: existingPath('folder'),
    doc: 'Folder with noise-urls.txt, library-urls.txt, irrelevant-frames.txt, message-rewrites.txt (default: receiver/tuning).',
  }),
  libraryUrlPatterns: def({
    flag: 'library-url-patterns',
    default: [] as string[],
    parse: regexList,
    doc: 'Extra regular expressions (comma-separated) for library frames, besides library-urls.txt.',
  }),
};

/** `production,staging`: environment names, each by the rule pages declare them by. */
function environmentList(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of list) {
    if (environmentName(name) !== name) throw new Error(`expected environment names like production, got ${JSON.stringify(name.slice(0, 80))}`);
  }
  return list;
}

/** `https://a.example,https://b.example` or `*`: origins, each checked. */
function origins(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of list) {
    if (o === '*') continue;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new Error(`expected origins like https://shop.example, got ${JSON.stringify(o)}`);
    }
    if (!/^https?:$/.test(url.protocol) || url.origin !== o.replace(/\/$/, '')) throw new Error(`expected an http(s) origin without a path, got ${JSON.stringify(o)}`);
  }
  return list.map((o) => o.replace(/\/$/, ''));
}

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
  for (const [key, option] of Object.entries(OPTIONS) as [string, OptionDef<unknown>][]) config[key] = readOption(option, flags, env, problems);
  const c = config as Config;
  // Values each fine alone that contradict each other.
  if (c.adminToken !== undefined && c.adminToken === c.uploadToken) {
    problems.push('the admin token and the upload token must differ: the upload token is the one that may be handed to a build');
  }
  if (c.viewerToken !== undefined && (c.viewerToken === c.adminToken || c.viewerToken === c.uploadToken)) {
    problems.push('the viewer token must differ from the admin and upload tokens: it is the one that may be handed to colleagues who only read');
  }
  if (c.forwardRetryInitialMs > c.forwardRetryMaxMs) problems.push('--forward-retry-initial must not be longer than --forward-retry-max');
  // One client may hold a quarter of the budget: the largest submission must fit in it.
  if (c.maxPendingBytes < CLIENT_SHARE * Math.max(c.maxBodyBytes, c.maxDecompressedBytes)) {
    problems.push('--max-pending-bytes must be at least 4 times the larger of --max-body-bytes and --max-decompressed-bytes');
  }
  if (problems.length) throw new ConfigError(problems);
  return c;
}

/**
 * One setting, read as loadConfig reads it, for commands that need only it: `reindex` and `apps`
 * must not fail on a serve setting of the service's environment they do not use.
 */
export function loadSetting<K extends keyof Config>(key: K, flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): Config[K] {
  const problems: string[] = [];
  const value = readOption(OPTIONS[key] as OptionDef<unknown>, flags, env, problems);
  if (problems.length) throw new ConfigError(problems);
  return value as Config[K];
}

/** An option's value from its flag, else its variable, else its default; a value it refuses adds a problem. */
function readOption(option: OptionDef<unknown>, flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  const fromFlag = flags[option.flag];
  const text = fromFlag ?? env[envName(option.flag)];
  if (text === undefined) return option.default;
  try {
    return option.parse(text);
  } catch (err) {
    const where = fromFlag !== undefined ? `--${option.flag}` : envName(option.flag);
    problems.push(`${where}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * A URL as logs show it: its origin, with the path and query left out. A chat's incoming-webhook
 * URL carries its secret there (`https://hooks.slack.com/services/T…/B…/x…`).
 */
export function urlForLog(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return '(a URL)';
  return parsed.pathname === '/' && !parsed.search ? parsed.origin : `${parsed.origin}/…`;
}

/** One line per option for the start-up log, secrets hidden. */
export function describeConfig(config: Config): string[] {
  return (Object.entries(OPTIONS) as [keyof Config, OptionDef<unknown>][]).map(([key, option]) => `${option.flag}=${logged(key, option, config[key])}`);
}

function logged(key: keyof Config, option: OptionDef<unknown>, value: unknown): string {
  // Only the admin token is made when unset; an unset upload token stays unset.
  if (option.secret) return value !== undefined ? '(set)' : key === 'adminToken' ? '(in the data dir)' : '(none)';
  if (key === 'webhookUrl' && typeof value === 'string') return JSON.stringify(urlForLog(value));
  return typeof value === 'number' ? shown(option, value) : JSON.stringify(value ?? null);
}

/** Every option as `socorrito serve --help` lists it: flag, environment variable, default, meaning. */
export function optionsHelp(): string {
  const lines = ['', 'Options (each also a SOCORRITO_* environment variable; the flag wins):'];
  for (const o of Object.values(OPTIONS) as OptionDef<unknown>[]) {
    const dflt = unset(o) ? 'unset' : shown(o);
    lines.push(`  --${o.flag}  (${envName(o.flag)}, default ${dflt})`);
    lines.push(...wrap(o.doc.replace(/`/g, ''), 92).map((line) => `      ${line}`));
  }
  return lines.join('\n');
}

function unset(o: OptionDef<unknown>): boolean {
  return o.default === undefined || o.default === null || o.default === '' || (Array.isArray(o.default) && o.default.length === 0);
}

/** A value (by default the option's default) as one would type it: sizes and durations in their largest whole unit (20MiB, 72h). */
export function shown(o: OptionDef<unknown>, value: unknown = o.default): string {
  const unit = (o.parse as { unit?: 'bytes' | 'ms' }).unit;
  const n = value as number;
  if (unit === 'bytes' && n > 0) {
    const [name, size] = ([['GiB', 1024 * MIB], ['MiB', MIB], ['KiB', 1024]] as const).find(([, size]) => n % size === 0) ?? ['', 1];
    return `${n / size}${name}`;
  }
  if (unit === 'ms' && n > 0) {
    const [name, size] = Object.entries(UNIT_MS).reverse().find(([, size]) => n % size === 0)!;
    return `${n / size}${name}`;
  }
  return String(value);
}

/** Splits text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The README's configuration table, as Markdown. */
export function configTable(): string {
  const rows = Object.values(OPTIONS).map((o: OptionDef<unknown>) => {
    const dflt = unset(o) ? '—' : `\`${shown(o)}\``;
    return `| \`--${o.flag}\` | \`${envName(o.flag)}\` | ${dflt} | ${o.doc} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
