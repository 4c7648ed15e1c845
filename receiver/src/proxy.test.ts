import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from './config.ts';
import { clientKey, TrustedProxies } from './proxy.ts';

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
      "expected true, false, or the proxies' addresses and CIDRs (10.0.0.5,192.168.0.0/16): " +
        '"10.0.0.1/33" has a prefix length that is not 0..32; "10.0.0.1/x" has a prefix length that is not 0..32; ' +
        '"1.2.3" is not an IP address or CIDR; "lb.internal" is not an IP address or CIDR (a host name is not looked up: give its address); ' +
        '"3" is not an IP address or CIDR (a hop count is not taken: name the proxies); "fe80::1%eth0" is not an IP address or CIDR; ' +
        '"::/129" has a prefix length that is not 0..128; "10.0.0.0/8/8" is not an IP address or CIDR',
    );
    expect(() => TrustedProxies.parse(' , ')).toThrow('expected proxy addresses or CIDRs like 10.0.0.5,192.168.0.0/16, got " , "');
  });

  it('is what --trust-proxy reads when the value is not on or off', () => {
    const read = (text: string) => loadConfig({ 'trust-proxy': text }, {}).trustProxy;
    expect([read('true'), read('1'), read('on'), read('false'), read('0'), read('')]).toEqual([true, true, true, false, false, false]);
    expect(read('127.0.0.1')).toBeInstanceOf(TrustedProxies);
    expect(describeConfig(loadConfig({ 'trust-proxy': '127.0.0.1,fd00::/8' }, {}))).toContain('trust-proxy="127.0.0.1,fd00::/8"');
  });
});
