import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../../receiver/src/config.ts';
import { type RunningReceiver, type StartDeps, startReceiver } from '../../receiver/src/server.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'socorrito.js');

/** A port nothing listens on right now (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(label = 'socorrito-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), label));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface TestReceiver extends RunningReceiver {
  /** Closes the server and removes its data dir. */
  stop(): Promise<void>;
  logs: string[];
}

/**
 * A real receiver in this process on an ephemeral loopback port with its own temp data dir.
 * Rate limits are off unless the test sets them.
 */
export async function startTestReceiver(overrides: Partial<Config> = {}, deps: StartDeps = {}): Promise<TestReceiver> {
  const dir = overrides.dataDir ? null : await tempDir();
  const config: Config = {
    ...loadConfig({}, {}),
    port: 0,
    dataDir: dir?.path ?? overrides.dataDir!,
    adminToken: 'test-admin-token',
    clientRatePerMinute: 0,
    appRatePerMinute: 0,
    ...overrides,
  };
  const logs: string[] = [];
  const receiver = await startReceiver(config, { log: (l) => logs.push(l), ...deps });
  return {
    ...receiver,
    logs,
    stop: async () => {
      await receiver.close();
      await dir?.cleanup();
    },
  };
}

export interface SpawnedReceiver {
  url: string;
  token: string;
  process: ChildProcess;
  output: () => string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Sends a signal and waits for the process to exit; resolves with its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `socorrito serve` as its own process (for kill -9 and signal tests) and waits for it to listen. */
export async function spawnReceiver(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SpawnedReceiver> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    env: { ...process.env, SOCORRITO_ADMIN_TOKEN: 'test-admin-token', SOCORRITO_CLIENT_RATE_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start in 20 s:\n${output}`)), 20_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`receiver exited with ${code} before listening:\n${output}`)));
  });
  return {
    url,
    token: 'test-admin-token',
    process: child,
    output: () => output,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
