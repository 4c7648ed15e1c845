import { describe, expect, it } from 'vitest';
import { compareVersions, newestVersion } from './versions.ts';

describe('version order', () => {
  it('orders releases by their numbers, and a pre-release before its release', () => {
    const sorted = ['2.10.0', '2.5.0-beta.1', '10.0.3', '2.9.1', '2.5.0', '2.5.0-beta.2', '2.5.0-alpha', '1'].sort(compareVersions);
    expect(sorted).toEqual(['1', '2.5.0-alpha', '2.5.0-beta.1', '2.5.0-beta.2', '2.5.0', '2.9.1', '2.10.0', '10.0.3']);
  });

  it('puts numbered versions after ones that are not, such as commit hashes', () => {
    expect(['f00dbabe', '2024.11.3', 'abc1234', 'v1.0.1', '10', '9', '2024.2.10'].sort(compareVersions)).toEqual([
      'abc1234',
      'f00dbabe',
      'v1.0.1',
      '9',
      '10',
      '2024.2.10',
      '2024.11.3',
    ]);
  });

  it('finds the newest version, ignoring a missing one unless it is all there is, and takes the latest crash\'s among hashes', () => {
    expect(newestVersion(['2.4.0', '2.5.0-beta.1', '2.3.1', ''])).toBe('2.5.0-beta.1');
    expect(newestVersion(['f00dbabe', '2.0.0', 'abc1234'], 'abc1234')).toBe('2.0.0');
    expect(newestVersion(['f00dbabe', 'abc1234'], 'abc1234')).toBe('abc1234');
    expect(newestVersion([''])).toBe('');
    expect(newestVersion([])).toBeUndefined();
  });
});
