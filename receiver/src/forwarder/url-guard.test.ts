import { describe, expect, it } from 'vitest';
import { checkAddress, checkTargetUrl, classifyAddress, ForwardRefused, guardedLookup } from './url-guard.ts';

const STRICT = { allowPrivate: false, allowHttp: false };
const OPEN = { allowPrivate: true, allowHttp: true };

function refusal(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof ForwardRefused) return err.code;
    throw err;
  }
}

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'], // Azure's wire server
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });
});

describe('checkAddress', () => {
  it('lets an operator allow private addresses but never metadata, unspecified or multicast ones', () => {
    expect(refusal(() => checkAddress('10.0.0.1', STRICT))).toBe('private_address');
    expect(refusal(() => checkAddress('10.0.0.1', OPEN))).toBeNull();
    expect(refusal(() => checkAddress('127.0.0.1', OPEN))).toBeNull();
    expect(refusal(() => checkAddress('169.254.169.254', OPEN))).toBe('metadata_address');
    expect(refusal(() => checkAddress('0.0.0.0', OPEN))).toBe('special_address');
    expect(() => checkAddress('0.0.0.0', OPEN)).toThrow(/is an unspecified address/);
    expect(refusal(() => checkAddress('ff02::1', OPEN))).toBe('special_address');
    expect(refusal(() => checkAddress('8.8.8.8', STRICT))).toBeNull();
  });
});

describe('checkTargetUrl', () => {
  it('accepts a public https URL without looking it up', () => {
    expect(checkTargetUrl('https://crashes.example.com/submit', STRICT).host).toBe('crashes.example.com');
    expect(checkTargetUrl('https://8.8.8.8/submit', STRICT).host).toBe('8.8.8.8');
  });

  it.each([
    ['http://crashes.example.com/submit', 'not_https'],
    ['file:///etc/passwd', 'not_https'],
    ['gopher://x.example/', 'not_https'],
    ['https://u:p@x.example/', 'credentials'],
    ['https://127.0.0.1/', 'private_address'],
    ['https://2130706433/', 'private_address'],
    ['https://0x7f.1/', 'private_address'],
    ['https://[::ffff:169.254.169.254]/', 'metadata_address'],
    ['https://localhost./', 'bad_url'],
    ['nonsense', 'bad_url'],
  ])('%s is refused as %s', (url, code) => {
    expect(refusal(() => checkTargetUrl(url, STRICT))).toBe(code);
  });

  it('allows http only when told to', () => {
    expect(refusal(() => checkTargetUrl('http://127.0.0.1:8000/submit', OPEN))).toBeNull();
    expect(refusal(() => checkTargetUrl('http://127.0.0.1:8000/submit', { allowPrivate: true, allowHttp: false }))).toBe('not_https');
  });
});

describe('guardedLookup', () => {
  const lookup = (host: string, policy = STRICT, all = false): Promise<unknown> =>
    new Promise((resolve, reject) =>
      guardedLookup(policy)(host, { all }, (err, address) => (err ? reject(err) : resolve(address))),
    );

  it('refuses a name that resolves to loopback', async () => {
    await expect(lookup('localhost')).rejects.toMatchObject({ name: 'ForwardRefused', code: 'private_address' });
  });

  it('answers in the form asked for when allowed', async () => {
    expect(await lookup('localhost', OPEN)).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(await lookup('localhost', OPEN, true)).toEqual(expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]));
  });
});
