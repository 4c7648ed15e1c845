#!/usr/bin/env node
// `npm test`: makes sure the browsers the end-to-end tests drive are installed, then type-checks
// and runs the whole suite. Browser tests never skip: without a browser they fail loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const BROWSERS = [
  { name: 'Firefox ESR', paths: ['/usr/bin/firefox-esr', '/usr/bin/firefox'], apt: 'firefox-esr' },
  { name: 'Chromium', paths: ['/usr/bin/chromium', '/usr/bin/chromium-browser'], apt: 'chromium' },
];

const missing = BROWSERS.filter((b) => !b.paths.some((p) => existsSync(p)));
if (missing.length) {
  const packages = missing.map((b) => b.apt);
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() === 0) {
    console.log(`test: installing ${missing.map((b) => b.name).join(' and ')} for the browser tests: ${command}`);
    execFileSync('bash', ['-c', `DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: 'inherit' });
  } else {
    console.error(`test: the browser tests need ${missing.map((b) => b.name).join(' and ')}. Install them with:\n\n  sudo ${command.replace('&& apt-get', '&& sudo apt-get')}\n`);
    process.exit(1);
  }
}

const run = (cmd, args) => {
  console.log(`test: ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
run('npx', ['vitest', 'run', ...process.argv.slice(2)]);
