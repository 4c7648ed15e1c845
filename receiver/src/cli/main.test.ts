import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import type { CliIo } from './usage.ts';

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), env: {} }, out, err };
}

describe('socorrito', () => {
  it('prints its version and commit with --version', async () => {
    const { io, out } = capture();
    expect(await main(['--version'], io)).toBe(0);
    expect(out).toEqual([expect.stringMatching(/^socorrito \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown)\)$/)]);
  });

  it('guesses the command meant by a typo, and guesses nothing for a word far from all', async () => {
    const typo = capture();
    expect(await main(['upload-sourcemap'], typo.io)).toBe(2);
    expect(typo.err[0]).toMatch(/^socorrito: unknown command "upload-sourcemap"; did you mean upload-sourcemaps\?\n/);
    const far = capture();
    expect(await main(['frobnicate'], far.io)).toBe(2);
    expect(far.err[0]).toMatch(/^socorrito: unknown command "frobnicate"\n/);
  });

  it('guesses the option meant by a typo in a command', async () => {
    const { io, err } = capture();
    expect(await main(['submit', '--urll', 'http://127.0.0.1:1'], io)).toBe(2);
    expect(err).toEqual(["socorrito: submit: unknown option --urll; did you mean --url? Run 'socorrito submit --help' for usage."]);
  });
});
