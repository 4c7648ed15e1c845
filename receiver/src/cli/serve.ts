import { type Config, ConfigError, describeConfig, envName, loadConfig, OPTIONS, optionsHelp } from '../config.ts';
import { StartupError, startReceiver } from '../server.ts';
import { parseArgs } from 'node:util';
import { closest } from '../text.ts';
import { type CliIo, UsageError } from './usage.ts';

const SERVE_USAGE = `socorrito serve [--port 8000] [--host 127.0.0.1] [--data-dir ./data] [other options]`;
const ON_OFF = `  On/off options work as bare flags (--demo, --no-demo) or with a value (--demo=false, --demo true).`;

export const SERVE_HELP = `${SERVE_USAGE}
  Runs the receiver ('socorrito serve --help' lists every option).
${ON_OFF}`;

/** `socorrito serve --help`: the usage, then every option. */
export const serveDetails = (): string => `${SERVE_USAGE}\n  Runs the receiver.\n${ON_OFF}\n${optionsHelp()}`;

/**
 * Rewrites serve's arguments so each option carries its value after `=`, which node's
 * `parseArgs` takes as is. On/off options may be bare (`--demo` means `--demo=true`) or take
 * the word after them (the config's parser checks it), and `--no-demo` means `--demo=false`;
 * other options take the next argument even when it starts with one dash (`--max-files -1`
 * reaches the range check). An argument starting with `--` is not taken as a value: a
 * forgotten value is reported as missing.
 *
 * @example normalizeServeArgs(['--demo', '--port', '0']) // ['--demo=true', '--port=0']
 */
export function normalizeServeArgs(argv: string[]): string[] {
  const onOff = new Set(Object.values(OPTIONS).filter((o) => typeof o.default === 'boolean').map((o) => o.flag));
  const known = new Set(Object.values(OPTIONS).map((o) => o.flag));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : '';
    const next = argv[i + 1];
    if (name.startsWith('no-') && onOff.has(name.slice(3))) {
      out.push(`--${name.slice(3)}=false`);
    } else if (onOff.has(name)) {
      // serve takes no arguments, so a word after an on/off flag is meant as its value: true or
      // false, or a mistake the configuration check then names (`--demo maybe`).
      const given = next !== undefined && !next.startsWith('-');
      out.push(`${arg}=${given ? next : 'true'}`);
      if (given) i++;
    } else if (known.has(name)) {
      if (next === undefined || next.startsWith('--')) throw new UsageError(`serve: ${arg} needs a value, e.g. ${arg}=VALUE`);
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Variables the other commands and tools read, which serve leaves alone. */
const OTHER_VARIABLES = new Set(['SOCORRITO_TOKEN', 'SOCORRITO_URL', 'SOCORRITO_PORT', 'SOCORRITO_COMMIT', 'SOCORRITO_BUILD', 'SOCORRITO_SOURCE']);

/** SOCORRITO_* variables that name no setting: a typo (`SOCORRITO_RETENTION_DAY`) would otherwise go unnoticed. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const settings = new Set(Object.values(OPTIONS).map((o) => envName(o.flag)));
  return Object.keys(env)
    .filter((k) => k.startsWith('SOCORRITO_') && !settings.has(k) && !OTHER_VARIABLES.has(k))
    .sort();
}

/** `socorrito serve`: runs until SIGTERM or SIGINT, then lets in-flight requests finish. */
export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const flagOptions = Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: 'string' as const }]));
  // Not strict: an unknown flag is one problem among the others, all said at once. (A known flag
  // always has its value here: normalizeServeArgs joined it on, or said that it was missing.)
  const { values, positionals } = parseArgs({ args: normalizeServeArgs(argv), options: flagOptions, strict: false, allowPositionals: true });
  const problems = [
    ...Object.keys(values)
      .filter((k) => !(k in flagOptions))
      .map((k) => {
        const guess = closest(k, Object.keys(flagOptions));
        return `--${k}: not an option of serve (${guess ? `did you mean --${guess}? ` : ''}see 'socorrito serve --help')`;
      }),
    ...positionals.map((p) => `${JSON.stringify(p.slice(0, 60))}: serve takes no arguments, only --flags`),
  ];
  const known = Object.fromEntries(Object.entries(values).filter(([k, v]) => k in flagOptions && typeof v === 'string')) as Record<string, string>;
  let config: Config | undefined;
  try {
    config = loadConfig(known, io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const typoWarning = (name: string): string => `socorrito serve: warning: ${name} is not a setting; ignored (the README's configuration table lists them)`;
  if (problems.length || !config) {
    // A misspelt variable may be why a value is missing: said with the problems, not after them are mended.
    for (const name of unknownVariables(io.env)) io.err(typoWarning(name));
    throw new UsageError(new ConfigError(problems).message);
  }
  // The receiver's log, with the time of each line unless the service manager adds it.
  const stamped = (write: (line: string) => void) => (config.logTimestamps ? (line: string) => write(`${new Date().toISOString()} ${line}`) : write);
  const logOut = stamped(io.out);
  const logErr = stamped(io.err);
  logOut(`socorrito: configuration: ${describeConfig(config).join(' ')}`);
  for (const name of unknownVariables(io.env)) logErr(typoWarning(name));
  let receiver;
  try {
    receiver = await startReceiver(config, { log: logOut });
  } catch (err) {
    if (err instanceof StartupError) {
      logErr(`socorrito serve: ${err.message}`);
      return 1;
    }
    throw err;
  }
  logOut(`socorrito: data in ${receiver.dataDir}`);
  const everywhere = config.host === '0.0.0.0' || config.host === '::' ? ` (all interfaces: ${config.host})` : '';
  logOut(`socorrito: listening on ${receiver.localUrl}${everywhere}`);
  if (receiver.url !== receiver.localUrl) logOut(`socorrito: public URL ${receiver.url} (--public-url)`);
  logOut(`socorrito: submit crashes to ${receiver.url}/submit`);
  // A token the operator chose is theirs to know. A generated one is printed when it is made (and
  // by the demo, for trying it out); after that the log, which may be shipped elsewhere, names the file.
  const tokenFile = `${receiver.dataDir}/admin-token`;
  const printed = receiver.adminTokenSource === 'generated' || config.demo;
  const tokenText = config.adminToken ? 'the admin token you set' : printed ? `the token ${receiver.adminToken}` : `the token in ${tokenFile}`;
  logOut(
    config.adminToken
      ? 'socorrito: admin token from --admin-token / SOCORRITO_ADMIN_TOKEN'
      : printed
        ? `socorrito: admin token ${receiver.adminToken} (kept in ${tokenFile})`
        : `socorrito: admin token in ${tokenFile} (readable by this user only)`,
  );
  if (config.viewerToken) logOut('socorrito: viewer token from --viewer-token / SOCORRITO_VIEWER_TOKEN: logins with it read only');
  if (config.demo) {
    io.out('');
    io.out('  Report pages  ' + `${receiver.url}/login  (log in with ${tokenText})`);
    io.out('  Demo app      ' + `${receiver.url}/demo/`);
    // npm run firefox looks for the receiver at :8000 unless told where it is.
    const firefox = receiver.url === 'http://127.0.0.1:8000' ? 'npm run firefox' : `SOCORRITO_URL=${receiver.url} npm run firefox`;
    io.out(`  Extension     ${firefox}   opens Firefox with the extension loaded and the demo app open;`);
    io.out('                or build it (npm run build:extension) and in Firefox open about:debugging,');
    io.out('                This Firefox, Load Temporary Add-on, and pick extension/dist/manifest.json');
    io.out('');
  }

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logErr(`socorrito: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      logOut(`socorrito: ${signal}: finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms)`);
      const timer = setTimeout(() => {
        logErr('socorrito: shutdown timed out; exiting with requests still open');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      void receiver.close().then(() => {
        clearTimeout(timer);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        logOut('socorrito: stopped');
        resolveStop();
      });
    };
    // Listened to for the whole stop: a second signal exits at once (with `once`, it would
    // kill the process the default way, without a word).
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return 0;
}
