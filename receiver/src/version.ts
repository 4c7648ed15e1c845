import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `/__version__` says: a deployment sets SOCORRITO_COMMIT and SOCORRITO_BUILD; a git checkout knows its commit. */
export function readVersion(): { source: string; version: string; commit: string; build: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    source: process.env.SOCORRITO_SOURCE ?? 'socorrito',
    version: pkg.version,
    commit: process.env.SOCORRITO_COMMIT ?? checkoutCommit(fileURLToPath(new URL('../../.git', import.meta.url))) ?? 'unknown',
    build: process.env.SOCORRITO_BUILD ?? 'local',
  };
}

/** The commit a git checkout is at, read from its files (no git needed); null when there is none. */
export function checkoutCommit(gitDir: string): string | null {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    if (!/^refs\/[\w./-]+$/.test(ref) || ref.includes('..')) return null;
    let hash: string | undefined;
    try {
      hash = readFileSync(join(gitDir, ref), 'utf8').trim();
    } catch {
      // Packed: "<hash> <ref>" lines.
      hash = readFileSync(join(gitDir, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`))?.slice(0, 40);
    }
    return hash && /^[0-9a-f]{40}$/.test(hash) ? hash : null;
  } catch {
    return null;
  }
}
