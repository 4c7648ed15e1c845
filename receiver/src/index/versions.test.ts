import { describe, expect, it } from 'vitest';
import { compareVersions, newestVersion } from './versions.ts';

describe('version order', () => {
  it('orders releases by their numbers, and a pre-release before its release', () => {
    const sorted = ['2.10.0', '2.5.0-beta.1', '10.0.3', '2.9.1', '2.5.0', '2.5.0-beta.2', '2.5.0-alpha', '1'].sort(compareVersions);
    expect(sorted).toEqual(['1', '2.5.0-alpha', '2.5.0-beta.1', '2.5.0-beta.2', '2.5.0', '2.9.1', '2.10.0', '10.0.3']);
  });

  it('finds the newest version, ignoring a missing one unless it is all there is', () => {
    expect(newestVersion(['2.4.0', '2.5.0-beta.1', '2.3.1', ''])).toBe('2.5.0-beta.1');
    expect(newestVersion([''])).toBe('');
    expect(newestVersion([])).toBeUndefined();
  });
});
