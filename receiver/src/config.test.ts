import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, envName, loadConfig, OPTIONS, optionsHelp, shown } from './config.ts';

describe('start-up log of the configuration', () => {
  const logged = (flags: Record<string, string>): string[] => describeConfig(loadConfig(flags, {}));

  it('says an unset admin token is the one in the data dir (made there on first start), and an unset upload token is none', () => {
    const lines = logged({});
    expect(lines).toContain('admin-token=(in the data dir)');
    expect(lines).toContain('upload-token=(none)');
  });

  it('shows sizes and durations as one would type them, and a value of no whole unit as it is', () => {
    const lines = logged({ 'max-body-bytes': '8MiB', 'forward-timeout': '90s', 'max-annotation-bytes': '1000000' });
    expect(lines).toContain('max-body-bytes=8MiB');
    expect(lines).toContain('forward-timeout=90s');
    expect(lines).toContain('max-annotation-bytes=1000000');
  });

  it('never prints a token that is set', () => {
    const lines = logged({ 'admin-token': 'admin-secret-value', 'upload-token': 'upload-secret-value' });
    expect(lines).toContain('admin-token=(set)');
    expect(lines).toContain('upload-token=(set)');
    expect(lines.join(' ')).not.toMatch(/secret-value/);
  });
});

describe('tokens', () => {
  it('refuses an admin or upload token under 16 characters, naming both', () => {
    const err = (() => {
      try {
        loadConfig({ 'upload-token': 'short' }, { SOCORRITO_ADMIN_TOKEN: 'short' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/SOCORRITO_ADMIN_TOKEN.*use at least 16 characters/);
    expect(problems).toMatch(/--upload-token.*use at least 16 characters/);
    expect(loadConfig({ 'admin-token': 'sixteen-chars-ok' }, {}).adminToken).toBe('sixteen-chars-ok');
  });

  it('refuses tokens with white space, the same token for both roles, and a first retry wait longer than the longest', () => {
    const problems = (flags: Record<string, string>): string[] => {
      try {
        loadConfig(flags, {});
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ 'admin-token': ' '.repeat(16) })).toEqual([expect.stringMatching(/--admin-token: must not contain spaces/)]);
    expect(problems({ 'admin-token': 'same-token-for-both', 'upload-token': 'same-token-for-both' })).toEqual([expect.stringMatching(/must differ/)]);
    expect(problems({ 'forward-retry-initial': '1h', 'forward-retry-max': '1m' })).toEqual([expect.stringMatching(/--forward-retry-initial must not be longer/)]);
    expect(problems({ 'forward-retry-initial': '1m', 'forward-retry-max': '1h' })).toEqual([]);
    // One client may hold a quarter of the memory budget: the largest body must fit in that.
    expect(problems({ 'max-pending-bytes': '100MiB' })).toEqual([expect.stringMatching(/--max-pending-bytes must be at least 4 times/)]);
    expect(problems({ 'max-pending-bytes': '100MiB', 'max-decompressed-bytes': '25MiB' })).toEqual([]);
  });

  it('refuses an empty host (it would listen on every interface) or data dir (the current one), and a shutdown timeout of 0', () => {
    let err: unknown;
    try {
      loadConfig({ 'data-dir': ' ', 'shutdown-timeout-ms': '0' }, { SOCORRITO_HOST: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/SOCORRITO_HOST.*must not be empty/);
    expect(problems).toMatch(/--data-dir.*must not be empty/);
    expect(problems).toMatch(/--shutdown-timeout-ms/);
  });
});

describe('serve --help', () => {
  it('lists every option with its variable, and each default as shown parses back to itself', () => {
    const help = optionsHelp();
    for (const o of Object.values(OPTIONS) as { flag: string; default: unknown; parse(text: string): unknown }[]) {
      expect(help).toContain(`--${o.flag}  (${envName(o.flag)}, default `);
      if (typeof o.default === 'number') expect(o.parse(shown(o as never)), o.flag).toBe(o.default);
    }
    // Sizes and durations in their largest whole unit, as one would type them.
    expect(help).toContain('--max-body-bytes  (SOCORRITO_MAX_BODY_BYTES, default 20MiB)');
    expect(help).toContain('--forward-give-up-after  (SOCORRITO_FORWARD_GIVE_UP_AFTER, default 3d)');
  });
});
