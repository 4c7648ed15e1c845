import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from './config.ts';
import { clientKey, hopAddress, TrustedProxies } from './proxy.ts';

describe('clientKey', () => {
  it('counts an IPv6 client by its /64, whatever address in it it uses, and an IPv4 one by its address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('unknown')).toBe('unknown');
  });
});

describe('TrustedProxies', () => {
  it('matches addresses and CIDRs of both families, an IPv4-mapped IPv6 address as its IPv4 one and back', () => {
    const proxies = TrustedProxies.parse(' 10.0.0.5, 192.168.0.0/16 ,fd00::/8,::ffff:172.16.0.1,2001:db8::7,');
    for (const yes of ['10.0.0.5', '::ffff:10.0.0.5', '192.168.200.1', '::ffff:192.168.0.9', 'fd12:3456::1', '172.16.0.1', '2001:db8::7', 'fd00::1%eth0']) {
      expect(proxies.has(yes), yes).toBe(true);
    }
    for (const no of ['10.0.0.6', '::ffff:10.0.0.6', '192.169.0.1', 'fe80::1', '2001:db8::8', '172.16.0.2', 'unknown', '']) expect(proxies.has(no), no).toBe(false);
    expect(JSON.stringify(proxies)).toBe('"10.0.0.5,192.168.0.0/16,fd00::/8,::ffff:172.16.0.1,2001:db8::7"');
  });

  it('names every entry that is no address or CIDR, and why', () => {
    expect(() => TrustedProxies.parse('10.0.0.1/33, 10.0.0.1/x, 1.2.3, lb.internal, 3, fe80::1%eth0, ::/129, 10.0.0.0/8/8')).toThrow(
      "expected true, false, or the proxies' addresses and CIDRs and the words loopback, linklocal, uniquelocal (10.0.0.5,192.168.0.0/16,loopback): " +
        '"10.0.0.1/33" has a prefix length that is not 0..32; "10.0.0.1/x" has a prefix length that is not 0..32; ' +
        '"1.2.3" is not an IP address or CIDR; "lb.internal" is not an IP address or CIDR (a host name is not looked up: give its address); ' +
        '"3" is not an IP address or CIDR (a hop count is not taken: name the proxies); "fe80::1%eth0" is not an IP address or CIDR; ' +
        '"::/129" has a prefix length that is not 0..128; "10.0.0.0/8/8" is not an IP address or CIDR',
    );
    expect(() => TrustedProxies.parse(' , ')).toThrow('expected proxy addresses or CIDRs like 10.0.0.5,192.168.0.0/16, got " , "');
  });

  it("takes Express's words loopback, linklocal and uniquelocal, alone or mixed with addresses", () => {
    const words: [string, string[], string[]][] = [
      ['loopback', ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'], ['10.0.0.1', '::2', '169.254.1.1']],
      ['linklocal', ['169.254.0.1', '169.254.255.254', 'fe80::1', 'febf::1', 'fe80::1%eth0'], ['169.255.0.1', 'fec0::1', '127.0.0.1']],
      ['uniquelocal', ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fdff::1', '::ffff:10.0.0.1'], ['172.32.0.1', '11.0.0.1', 'fe00::1', '::1']],
    ];
    for (const [word, yes, no] of words) {
      const proxies = TrustedProxies.parse(word);
      for (const address of yes) expect(proxies.has(address), `${word} ${address}`).toBe(true);
      for (const address of no) expect(proxies.has(address), `${word} ${address}`).toBe(false);
    }
    const mixed = TrustedProxies.parse('loopback, 203.0.113.5,Uniquelocal');
    for (const yes of ['127.0.0.1', '::1', '203.0.113.5', '10.9.9.9', 'fd00::7']) expect(mixed.has(yes), yes).toBe(true);
    expect(mixed.has('203.0.113.6')).toBe(false);
    expect(JSON.stringify(mixed)).toBe('"loopback,203.0.113.5,Uniquelocal"');
  });

  it('names a misspelt word, the words it takes, and the one meant when it is close', () => {
    expect(() => TrustedProxies.parse('loopbak,link-local,10.0.0.5,localhost,unique_local,private')).toThrow(
      "expected true, false, or the proxies' addresses and CIDRs and the words loopback, linklocal, uniquelocal (10.0.0.5,192.168.0.0/16,loopback): " +
        '"loopbak" is not an IP address or CIDR, nor one of those words (did you mean loopback?); ' +
        '"link-local" is not an IP address or CIDR, nor one of those words (did you mean linklocal?); ' +
        '"localhost" is not an IP address or CIDR, nor one of those words; ' +
        '"unique_local" is not an IP address or CIDR, nor one of those words (did you mean uniquelocal?); ' +
        '"private" is not an IP address or CIDR, nor one of those words',
    );
  });

  it('is what --trust-proxy reads when the value is not on or off', () => {
    const read = (text: string) => loadConfig({ 'trust-proxy': text }, {}).trustProxy;
    expect([read('true'), read('1'), read('on'), read('false'), read('0'), read('')]).toEqual([true, true, true, false, false, false]);
    expect(read('127.0.0.1')).toBeInstanceOf(TrustedProxies);
    expect(describeConfig(loadConfig({ 'trust-proxy': '127.0.0.1,fd00::/8' }, {}))).toContain('trust-proxy="127.0.0.1,fd00::/8"');
    expect(read('loopback')).toBeInstanceOf(TrustedProxies);
    expect(describeConfig(loadConfig({ 'trust-proxy': 'loopback,10.0.0.5' }, {}))).toContain('trust-proxy="loopback,10.0.0.5"');
  });
});

describe('hopAddress', () => {
  it('reads an X-Forwarded-For entry with a port as its address, and a bare IPv6 address whole', () => {
    expect(hopAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(hopAddress('203.0.113.7:51234')).toBe('203.0.113.7');
    expect(hopAddress('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(hopAddress('[2001:db8::1]')).toBe('2001:db8::1');
    expect(hopAddress('[::ffff:192.0.2.1]:80')).toBe('::ffff:192.0.2.1');
    expect(hopAddress('203.0.113.7:_p1')).toBe('203.0.113.7');
    // Eight groups and a compressed run: one address each, the last group no port.
    expect(hopAddress('2001:db8::1:443')).toBe('2001:db8::1:443');
    expect(hopAddress('2001:db8:0:0:0:0:1:443')).toBe('2001:db8:0:0:0:0:1:443');
  });

  it('reads no address from text that names none, however close to one', () => {
    for (const entry of ['unknown', '_hidden', '_SEVKISEK', 'host.example', 'host.example:80', '203.0.113.7:65536', '203.0.113.7:', '203.0.113.7:x',
      '[203.0.113.7]:80', '[2001:db8::1]:', '[2001:db8::1]:99999', '[nothing]:80', '2001:db8::1]:443', '999.0.0.1:80', '203.0.113.7:80:80', '"[2001:db8::1]"', '']) {
      expect(hopAddress(entry), entry).toBeNull();
    }
  });
});
