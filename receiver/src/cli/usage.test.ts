import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { permissionProblem } from './main.ts';
import { closest } from '../text.ts';
import { apiEndpoint, parseCommandArgs, unreachable } from './usage.ts';

describe('unreachable', () => {
  it('says a receiver gave no answer in time, not that it could not be reached', async () => {
    const silent = createServer(() => undefined); // takes connections, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/submit`;
    try {
      const timedOut = await fetch(url, { signal: AbortSignal.timeout(200) }).catch((err: unknown) => err);
      expect(unreachable('submit', url, timedOut)).toBe(`socorrito submit: no answer from ${url} in time; is it a receiver, and is it overloaded?`);
    } finally {
      silent.close();
    }
    const refused = await fetch(url).catch((err: unknown) => err);
    expect(unreachable('submit', url, refused)).toMatch(/could not reach .*ECONNREFUSED; is the receiver running there\?/);
  });
});

describe('closest', () => {
  it('takes a near word, a unique prefix, and refuses ties and far words', () => {
    expect(closest('prot', ['port', 'host'])).toBe('port');
    expect(closest('data-dri', ['data-dir', 'demo'])).toBe('data-dir');
    expect(closest('retention', ['retention-days', 'demo'])).toBe('retention-days');
    expect(closest('DEMO', ['demo'])).toBe('demo');
    expect(closest('max', ['max-files', 'max-annotations'])).toBeNull();
    expect(closest('hast', ['host', 'hist'])).toBeNull();
    expect(closest('zzzz', ['port', 'host'])).toBeNull();
    expect(closest('', ['port'])).toBeNull();
  });
});

describe('apiEndpoint', () => {
  it('keeps a path the receiver is behind, and leaves off /submit, the query and the fragment', () => {
    const at = (url: string): string => apiEndpoint(new URL(url), 'api/sourcemaps');
    expect(at('http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000/api/sourcemaps');
    expect(at('https://example.com/crashes')).toBe('https://example.com/crashes/api/sourcemaps');
    expect(at('https://example.com/crashes/')).toBe('https://example.com/crashes/api/sourcemaps');
    expect(at('https://example.com/crashes/submit?x=1#y')).toBe('https://example.com/crashes/api/sourcemaps');
    expect(at('http://127.0.0.1:8000/submit/')).toBe('http://127.0.0.1:8000/api/sourcemaps');
  });
});

describe('permission errors', () => {
  it('are one line naming the file and what to do', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/data/forward-apps.json'"), { code: 'EACCES', syscall: 'open', path: '/data/forward-apps.json' });
    expect(permissionProblem(err)).toMatch(/^cannot open \/data\/forward-apps\.json: permission denied for .+; run the command as the receiver's user, or give that user the file \(chown\), then try again$/);
    expect(permissionProblem(new Error('other'))).toBeNull();
  });
});

describe('on/off options with a value', () => {
  const options = { replace: { type: 'boolean' }, 'no-replace': { type: 'boolean' }, gzip: { type: 'boolean' }, url: { type: 'string' } } as const;
  it('takes --x=false as --no-x (or as nothing), --x=true as --x, and refuses other values', () => {
    expect(parseCommandArgs('upload-sourcemaps', ['--replace=false'], options).values).toEqual({ 'no-replace': true });
    expect(parseCommandArgs('upload-sourcemaps', ['--replace=yes', '--gzip=0'], options).values).toEqual({ replace: true });
    expect(parseCommandArgs('upload-sourcemaps', ['--url=--replace=false'], options).values).toEqual({ url: '--replace=false' });
    expect(parseCommandArgs('upload-sourcemaps', ['--no-replace=false'], options).values).toEqual({ replace: true });
    expect(parseCommandArgs('upload-sourcemaps', ['--no-replace=true'], options).values).toEqual({ 'no-replace': true });
    // After --, nothing is an option.
    expect(parseCommandArgs('upload-sourcemaps', ['--', '--replace=false'], options, true).positionals).toEqual(['--replace=false']);
    expect(() => parseCommandArgs('upload-sourcemaps', ['--replace=maybe'], options)).toThrow(/upload-sourcemaps: Option '--replace' does not take an argument/);
  });

  it('lets the last of several words on one option say', () => {
    expect(parseCommandArgs('submit', ['--gzip', '--gzip=false'], options).values).toEqual({});
    expect(parseCommandArgs('submit', ['--gzip=false', '--gzip'], options).values).toEqual({ gzip: true });
    expect(parseCommandArgs('upload-sourcemaps', ['--replace', '--no-replace'], options).values).toEqual({ 'no-replace': true });
    expect(parseCommandArgs('upload-sourcemaps', ['--no-replace', '--url=u', '--replace=true'], options).values).toEqual({ url: 'u', replace: true });
    expect(parseCommandArgs('upload-sourcemaps', ['--replace=false', '--no-replace=false'], options).values).toEqual({ replace: true });
    const apps = { 'keep-copy': { type: 'boolean' }, 'no-keep-copy': { type: 'boolean' } } as const;
    expect(parseCommandArgs('apps', ['--no-keep-copy', '--keep-copy'], apps).values).toEqual({ 'keep-copy': true });
  });
});
