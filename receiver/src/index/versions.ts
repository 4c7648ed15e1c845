/** Release order of app versions: `2.10.0` after `2.9.1`, `2.5.0` after `2.5.0-beta.1`. */

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** A version that counts up (`2.4.0`, `v10`, `2024.11.3`), not a build hash or a name. */
const NUMBERED = /^v?\d/i;

/**
 * Negative when `a` is an older release than `b`, positive when newer, 0 when the same. Numbered
 * versions come after (are newer than) ones that are not, such as commit hashes, which have no
 * order of their own.
 */
export function compareVersions(a: string, b: string): number {
  const numbered = Number(NUMBERED.test(a)) - Number(NUMBERED.test(b));
  if (numbered !== 0) return numbered;
  const [releaseA, preA] = split(a.replace(/^v(?=\d)/i, ''));
  const [releaseB, preB] = split(b.replace(/^v(?=\d)/i, ''));
  const byRelease = collator.compare(releaseA, releaseB);
  if (byRelease !== 0) return byRelease;
  // A pre-release (`-beta.1`) comes before its release.
  if (preA === preB) return collator.compare(a, b);
  if (preA === null) return 1;
  if (preB === null) return -1;
  return collator.compare(preA, preB);
}

/**
 * The newest of `versions` by release order, or, when none is numbered (commit hashes), `latest`
 * (the version of the newest crash); '' only when there is no other.
 */
export function newestVersion(versions: readonly string[], latest?: string): string | undefined {
  const numbered = versions.filter((v) => NUMBERED.test(v));
  if (numbered.length === 0) return latest ?? versions.find((v) => v !== '') ?? versions[0];
  return numbered.reduce((newest, v) => (compareVersions(v, newest) > 0 ? v : newest));
}

function split(version: string): [string, string | null] {
  const dash = version.indexOf('-');
  return dash < 0 ? [version, null] : [version.slice(0, dash), version.slice(dash + 1)];
}
