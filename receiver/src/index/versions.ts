/** Release order of app versions: `2.10.0` after `2.9.1`, `2.5.0` after `2.5.0-beta.1`. */

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Negative when `a` is an older release than `b`, positive when newer, 0 when the same. */
export function compareVersions(a: string, b: string): number {
  const [releaseA, preA] = split(a);
  const [releaseB, preB] = split(b);
  const byRelease = collator.compare(releaseA, releaseB);
  if (byRelease !== 0) return byRelease;
  // A pre-release (`-beta.1`) comes before its release.
  if (preA === preB) return collator.compare(a, b);
  if (preA === null) return 1;
  if (preB === null) return -1;
  return collator.compare(preA, preB);
}

/** The newest of `versions` by release order ('' only when there is no other), or undefined. */
export function newestVersion(versions: readonly string[]): string | undefined {
  const named = versions.filter((v) => v !== '');
  if (named.length === 0) return versions[0];
  return named.reduce((newest, v) => (compareVersions(v, newest) > 0 ? v : newest));
}

function split(version: string): [string, string | null] {
  const dash = version.indexOf('-');
  return dash < 0 ? [version, null] : [version.slice(0, dash), version.slice(dash + 1)];
}
