import { reindexCommand, REINDEX_HELP } from './reindex.ts';
import { appsCommand, APPS_HELP } from './apps.ts';
import { reprocessCommand, REPROCESS_HELP } from './reprocess.ts';
import { serveCommand, serveDetails, SERVE_HELP } from './serve.ts';
import { submitCommand, SUBMIT_HELP } from './submit.ts';
import { uploadSourcemapsCommand, UPLOAD_SOURCEMAPS_HELP } from './upload-sourcemaps.ts';
import { closest } from '../text.ts';
import { type CliIo, processIo, UsageError } from './usage.ts';
import { readVersion } from '../version.ts';
import { userInfo } from 'node:os';

/** `help` is the command's part of `socorrito help`; `details`, when given, is its `<command> --help` instead. */
type Command = { run: (argv: string[], io: CliIo) => Promise<number>; help: string; details?: () => string };

/** Every `socorrito` command; each lives in its own file under cli/. */
export const COMMANDS: Record<string, Command> = {
  serve: { run: serveCommand, help: SERVE_HELP, details: serveDetails },
  submit: { run: submitCommand, help: SUBMIT_HELP },
  'upload-sourcemaps': { run: (argv, io) => uploadSourcemapsCommand(argv, io), help: UPLOAD_SOURCEMAPS_HELP },
  reprocess: { run: (argv, io) => reprocessCommand(argv, io), help: REPROCESS_HELP },
  apps: { run: appsCommand, help: APPS_HELP },
  reindex: { run: (argv, io) => reindexCommand(argv, io), help: REINDEX_HELP },
};

function usage(): string {
  return [
    'usage: socorrito <command> [options]',
    '',
    ...Object.values(COMMANDS).map((c) => c.help),
    'socorrito --version',
    '  Prints the version and the commit it runs from.',
  ].join('\n');
}

/** `socorrito 0.1.0 (commit 1a2b3c4d5e6f)`, the commit as /__version__ tells it. */
function versionLine(): string {
  const { version, commit } = readVersion();
  return `socorrito ${version} (commit ${commit === 'unknown' ? 'unknown' : commit.slice(0, 12)})`;
}

/** The CLI's one error boundary: usage errors print plainly, anything else with its stack. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(versionLine());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const guess = closest(name, Object.keys(COMMANDS));
    io.err(`socorrito: unknown command ${JSON.stringify(name)}${guess ? `; did you mean ${guess}?` : ''}\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.details ? command.details() : command.help);
    return 0;
  }
  // Crash data is private: what any command creates in a data dir (the data dir itself when
  // `apps add` makes it, the index, crash folders) is not readable by other users of the machine.
  // (Setting it reads it: process.umask() without an argument is deprecated.)
  process.umask(process.umask(0o077) | 0o027);
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`socorrito: ${err.message}`);
      return err.exitCode;
    }
    const denied = permissionProblem(err);
    if (denied) {
      io.err(`socorrito ${name}: ${denied}`);
      return 1;
    }
    io.err(`socorrito ${name}: unexpected error: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

/**
 * A permission error on a file, in one line with what to do (a file written by root with sudo is
 * the usual cause); null for any other error.
 */
export function permissionProblem(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  if ((e?.code !== 'EACCES' && e?.code !== 'EPERM') || typeof e.path !== 'string') return null;
  const user = (() => {
    try {
      return userInfo().username;
    } catch {
      return `uid ${process.getuid?.() ?? '?'}`;
    }
  })();
  return `cannot ${e.syscall ?? 'use'} ${e.path}: permission denied for ${user}; run the command as the receiver's user, or give that user the file (chown), then try again`;
}
