import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.ts';

describe('start-up log of the configuration', () => {
  const logged = (flags: Record<string, string>): string[] => describeConfig(loadConfig(flags, {}));

  it('says the admin token is generated when unset, and an unset upload token is none', () => {
    const lines = logged({});
    expect(lines).toContain('admin-token=(generated)');
    expect(lines).toContain('upload-token=(none)');
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
});
