import { ConfigError, describeConfig, loadConfig, OPTIONS } from '../config.ts';
import { StartupError, startReceiver } from '../server.ts';
import { type CliIo, UsageError, parseCommandArgs } from './usage.ts';

export const SERVE_HELP = `socorrito serve [--port 8000] [--host 127.0.0.1] [--data-dir ./data] [other options]
  Runs the receiver. Every option is also a SOCORRITO_* environment variable; see the README.`;

/** `socorrito serve`: runs until SIGTERM or SIGINT, then lets in-flight requests finish. */
export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const flagOptions = Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: 'string' as const }]));
  const { values } = parseCommandArgs('serve', argv, flagOptions);
  let config;
  try {
    config = loadConfig(values as Record<string, string>, io.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  io.out(`socorrito: configuration: ${describeConfig(config).join(' ')}`);
  let receiver;
  try {
    receiver = await startReceiver(config, { log: io.out });
  } catch (err) {
    if (err instanceof StartupError) {
      io.err(`socorrito serve: ${err.message}`);
      return 1;
    }
    throw err;
  }
  io.out(`socorrito: data in ${receiver.dataDir}`);
  io.out(`socorrito: listening on ${receiver.url}`);
  io.out(`socorrito: submit crashes to ${receiver.url}/submit`);
  // A token the operator chose is theirs to know; only a generated one is printed, once per start.
  const tokenText = config.adminToken ? 'the admin token you set' : `the token ${receiver.adminToken}`;
  io.out(
    config.adminToken
      ? 'socorrito: admin token from --admin-token / SOCORRITO_ADMIN_TOKEN'
      : `socorrito: admin token ${receiver.adminToken} (kept in ${receiver.dataDir}/admin-token)`,
  );
  if (config.demo) {
    io.out('');
    io.out('  Report pages  ' + `${receiver.url}/login  (log in with ${tokenText})`);
    io.out('  Demo app      ' + `${receiver.url}/demo/`);
    io.out('  Extension     npm run firefox   opens Firefox with the extension loaded and the demo app open;');
    io.out('                or build it (npm run build:extension) and in Firefox open about:debugging,');
    io.out('                This Firefox, Load Temporary Add-on, and pick extension/dist/manifest.json');
    io.out('');
  }

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        io.err(`socorrito: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      io.out(`socorrito: ${signal}: finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms)`);
      const timer = setTimeout(() => {
        io.err('socorrito: shutdown timed out; exiting with requests still open');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      void receiver.close().then(() => {
        io.out('socorrito: stopped');
        resolveStop();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
