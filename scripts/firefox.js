#!/usr/bin/env node
// `npm run firefox`: Firefox with the extension loaded (web-ext run) and the demo app open.
// Uses the receiver at SOCORRITO_URL (default http://127.0.0.1:$SOCORRITO_PORT or :8000); when
// none answers there, starts one with the demo (as `npm start` does) and stops it afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const receiverUrl = (process.env.SOCORRITO_URL ?? `http://127.0.0.1:${process.env.SOCORRITO_PORT ?? 8000}`).replace(/\/$/, '');

const firefox = ['/usr/bin/firefox-esr', '/usr/bin/firefox', '/usr/local/bin/firefox'].find((p) => existsSync(p));
if (!firefox) {
  console.error('firefox: neither firefox-esr nor firefox is installed. Install one, e.g.: sudo apt-get install -y firefox-esr');
  process.exit(1);
}

const up = async () => {
  try {
    return (await fetch(`${receiverUrl}/__lbheartbeat__`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
};

console.log('firefox: building the extension');
const built = spawnSync(process.execPath, ['extension/build.mjs'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

let receiver = null;
if (!(await up())) {
  console.log(`firefox: no receiver at ${receiverUrl}; starting one with the demo app`);
  const port = new URL(receiverUrl).port || '8000';
  receiver = spawn(process.execPath, ['bin/socorrito.js', 'serve', '--demo=true', '--port', port], { cwd: root, stdio: 'inherit' });
  const deadline = Date.now() + 30_000;
  while (!(await up())) {
    if (receiver.exitCode !== null || Date.now() > deadline) {
      console.error(
        `firefox: the receiver did not start at ${receiverUrl}; see its output above.` +
          (process.env.SOCORRITO_URL
            ? ''
            : ' If your receiver runs on another port, give its address: SOCORRITO_URL=http://127.0.0.1:<port> npm run firefox (its start banner prints this command)'),
      );
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const demoUrl = `${receiverUrl}/demo/`;
console.log(`firefox: starting ${firefox} with the extension from extension/dist and ${demoUrl}`);
const webExt = spawn(
  process.execPath,
  [
    fileURLToPath(new URL('../node_modules/web-ext/bin/web-ext.js', import.meta.url)),
    'run',
    '--source-dir',
    'extension/dist',
    '--firefox',
    firefox,
    '--start-url',
    demoUrl,
    '--start-url',
    `${receiverUrl}/login`,
    // Anything after `npm run firefox --` goes to web-ext, e.g. --arg=--headless or --verbose.
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);
const stop = () => webExt.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
webExt.on('exit', (code) => {
  receiver?.kill('SIGTERM');
  process.exitCode = code ?? 0;
});
