import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_NAME, Throttler } from './throttler.ts';

describe('Throttler', () => {
  it('accepts everything with no rules', () => {
    const t = new Throttler();
    expect(t.throttle({ ProductName: 'X' })).toEqual({ accept: true, rule: DEFAULT_RULE_NAME });
  });

  it('lets the first matching rule decide, with exact, regex and presence conditions', () => {
    const t = new Throttler([
      { name: 'drop_test', if: { Version: '/-test$/' }, action: 'reject' },
      { name: 'drop_shop_nightly', if: { ProductName: 'Shop', ReleaseChannel: '*' }, action: 'reject' },
      { name: 'keep_shop', if: { ProductName: 'Shop' }, action: 'accept' },
    ]);
    expect(t.throttle({ ProductName: 'Shop', Version: '1.0-test' }).rule).toBe('drop_test');
    expect(t.throttle({ ProductName: 'Shop', ReleaseChannel: 'nightly' })).toEqual({ accept: false, rule: 'drop_shop_nightly' });
    expect(t.throttle({ ProductName: 'Shop' })).toEqual({ accept: true, rule: 'keep_shop' });
    expect(t.throttle({ ProductName: 'Other' }).rule).toBe(DEFAULT_RULE_NAME);
    expect(t.counts.get('drop_test')).toEqual({ accepted: 0, rejected: 1 });
  });

  it('samples by rate with the given random source', () => {
    const values = [0.05, 0.5, 0.09, 0.95];
    const t = new Throttler([{ name: 'tenth', action: 'sample', rate: 0.1 }], () => values.shift()!);
    expect([1, 2, 3, 4].map(() => t.throttle({}).accept)).toEqual([true, false, true, false]);
  });

  it('reports every problem in a rules file at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'throttle-'));
    const path = join(dir, 'rules.json');
    await writeFile(path, JSON.stringify([{ name: 'bad name!', action: 'maybe' }, { name: 's', action: 'sample' }, { name: 'r', action: 'reject', if: { A: '/(/' } }]));
    const err = await Throttler.fromFile(path).catch((e: Error) => e);
    await rm(dir, { recursive: true, force: true });
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/rule 1: "name"/);
    expect(message).toMatch(/rule 1: "action"/);
    expect(message).toMatch(/rule 2: a sample rule needs "rate"/);
    expect(message).toMatch(/rule 3: condition A/);
  });
});
