#!/usr/bin/env node
// `npm test`: makes sure the browsers the end-to-end tests drive are installed, then type-checks
// and runs the whole suite. Browser tests never skip: without a browser they fail loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

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

// Vitest's own summary, plus a JSON report for the closing line CI tools read.
const report = 'test-artifacts/vitest-report.json';
mkdirSync('test-artifacts', { recursive: true });
rmSync(report, { force: true });
console.log(`test: npx vitest run ${process.argv.slice(2).join(' ')}`);
const vitest = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
process.exit(vitest.status ?? 1);
