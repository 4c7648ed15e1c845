// Which X-Forwarded-For hop is the client, as the per-client submission limit counts it, when
// --trust-proxy names the proxies. The test client plays the proxy: its connection comes from
// loopback (127.0.0.1, ::1, or ::ffff:127.0.0.1 on a dual-stack socket), and it sends the
// X-Forwarded-For a proxy would have passed on, client's own claims included.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../receiver/src/config.ts';
import { CLI, startTestReceiver, tempDir, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';

const AUTH = { authorization: 'Bearer test-admin-token' };

/** `--trust-proxy` as the receiver reads it from its flag. */
const trusting = (text: string) => loadConfig({ 'trust-proxy': text }, {}).trustProxy;

let running: TestReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
});

/** A receiver that takes one submission a minute from each client. */
async function receiver(trust: string, host = '127.0.0.1'): Promise<TestReceiver> {
  const r = await startTestReceiver({ trustProxy: trusting(trust), host, clientRatePerMinute: 1 });
  running.push(r);
  return r;
}

/** Submits a crash to `base` with these headers; the answer's status, and where the receiver recorded it was sent. */
async function submit(base: string, headers: Record<string, string>): Promise<{ status: number; submittedTo?: string }> {
  const res = await submitCrash(`${base}/submit`, { ProductName: 'Shop' }, [], {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
  });
  if (res.status !== 200) return { status: res.status };
  const crash = (await (await fetch(`${base}/api/crashes/${res.crashId}`, { headers: AUTH })).json()) as { raw: { metadata: { submitted_to: string } } };
  return { status: res.status, submittedTo: crash.raw.metadata.submitted_to };
}

const via = (forwardedFor: string) => ({ 'x-forwarded-for': forwardedFor });

describe('--trust-proxy naming the proxies', () => {
  it("counts a client on a private network by the address its proxy saw, whatever it forged before it", async () => {
    const r = await receiver('127.0.0.1');
    // Two "clients" that are one machine, 10.0.0.7 on the proxy's LAN, each sending its own X-Forwarded-For.
    expect((await submit(r.url, via('6.6.6.6, 10.0.0.7'))).status).toBe(200);
    expect((await submit(r.url, via('7.7.7.7, 10.0.0.7'))).status).toBe(429);
    expect((await submit(r.url, via('10.0.0.7'))).status).toBe(429);
    // Another machine on that LAN is another client.
    expect((await submit(r.url, via('6.6.6.6, 10.0.0.8'))).status).toBe(200);
  });

  it('without named proxies (--trust-proxy=true) still skips every private hop, as before', async () => {
    const r = await receiver('true');
    // The weakness naming the proxies closes: a private client's forged address is taken.
    expect((await submit(r.url, via('6.6.6.6, 10.0.0.7'))).status).toBe(200);
    expect((await submit(r.url, via('7.7.7.7, 10.0.0.7'))).status).toBe(200);
  });

  it('takes the first address before the named proxies, read from the end, and their X-Forwarded-Host', async () => {
    const r = await receiver('127.0.0.1, 10.0.0.0/8');
    const first = await submit(r.url, { ...via('203.0.113.9, 10.1.2.3'), 'x-forwarded-host': 'crashes.example' });
    expect(first).toEqual({ status: 200, submittedTo: 'crashes.example/submit' });
    // The same client through one proxy fewer, and with a forged address in front.
    expect((await submit(r.url, via('203.0.113.9'))).status).toBe(429);
    expect((await submit(r.url, via('6.6.6.6, 203.0.113.9, 10.200.0.1'))).status).toBe(429);
    expect((await submit(r.url, via('203.0.113.10, 10.0.0.1'))).status).toBe(200);
    // Text that is no address was written by the client: nothing before it counts, and the nearest proxy is the client.
    expect((await submit(r.url, via('203.0.113.11, unknown, 10.0.0.2'))).status).toBe(200);
    expect((await submit(r.url, via('203.0.113.12, unknown, 10.0.0.2'))).status).toBe(429);
  });

  it("takes Express's words: loopback for a proxy on this machine (IPv4 and IPv6), mixed with addresses and other words", async () => {
    for (const [named, host, base] of [['loopback', '127.0.0.1', (port: number) => `http://127.0.0.1:${port}`], ['loopback', '::1', (port: number) => `http://[::1]:${port}`]] as const) {
      const r = await receiver(named, host);
      expect((await submit(base(r.port), via('203.0.113.1'))).status, host).toBe(200);
      expect((await submit(base(r.port), via('203.0.113.2'))).status, host).toBe(200);
      expect((await submit(base(r.port), via('6.6.6.6, 203.0.113.1'))).status, host).toBe(429);
    }
    const mixed = await receiver('loopback,uniquelocal,198.51.100.9');
    // 198.51.100.9 (named) and 10.0.0.2 (uniquelocal) are skipped: the client is 203.0.113.3.
    expect((await submit(mixed.url, via('203.0.113.3, 198.51.100.9, 10.0.0.2'))).status).toBe(200);
    expect((await submit(mixed.url, via('203.0.113.3'))).status).toBe(429);
    // 169.254.0.1 is not named (linklocal is not given): it is the client, whatever it forwarded.
    expect((await submit(mixed.url, via('203.0.113.4, 169.254.0.1'))).status).toBe(200);
    expect((await submit(mixed.url, via('203.0.113.5, 169.254.0.1, 10.0.0.2'))).status).toBe(429);
  });

  it('reads an X-Forwarded-For entry with a port (as Azure writes it) as its address, not as the proxy', async () => {
    for (const trust of ['127.0.0.1,10.0.0.0/8', 'true']) {
      const r = await receiver(trust);
      expect((await submit(r.url, via('203.0.113.7:51234, 10.0.0.2'))).status, trust).toBe(200);
      // Another client through the same proxy is not counted as that proxy.
      expect((await submit(r.url, via('203.0.113.8:443, 10.0.0.2'))).status, trust).toBe(200);
      expect((await submit(r.url, via('[2001:db8:1::1]:443, 10.0.0.2'))).status, trust).toBe(200);
      // The same clients again, with another port or none: the same count.
      expect((await submit(r.url, via('203.0.113.7:60000, 10.0.0.3'))).status, trust).toBe(429);
      expect((await submit(r.url, via('203.0.113.8'))).status, trust).toBe(429);
      expect((await submit(r.url, via('[2001:db8:1::ffff]:80'))).status, trust).toBe(429);
    }
  });

  it('stops at an entry that names no address: the proxy that passed it on is the client, never an address written before it', async () => {
    for (const trust of ['127.0.0.1,10.0.0.0/8', 'true']) {
      const r = await receiver(trust);
      // 198.51.100.1 uses its one submission; a client hidden behind `_hidden` or `unknown` names it to be counted as it.
      expect((await submit(r.url, via('198.51.100.1, 10.0.0.2'))).status, trust).toBe(200);
      expect((await submit(r.url, via('198.51.100.1, _hidden, 10.0.0.2'))).status, trust).toBe(200);
      // That one was counted as 10.0.0.2, the proxy that wrote `_hidden`: so is every client it hides.
      expect((await submit(r.url, via('203.0.113.20, unknown, 10.0.0.2'))).status, trust).toBe(429);
      // Text nearest the receiver: the connection's own address (loopback) is the client.
      expect((await submit(r.url, via('198.51.100.1, unknown'))).status, trust).toBe(200);
      expect((await submit(r.url, via('198.51.100.2, host.example:80'))).status, trust).toBe(429);
    }
  });

  it('ignores the X-Forwarded-* headers of a connection that does not come from a named proxy', async () => {
    const r = await receiver('10.0.0.5, 192.168.0.0/16');
    const host = new URL(r.url).host;
    // 10.0.0.5 is in the header, but the connection comes from 127.0.0.1: the header is the client's.
    const first = await submit(r.url, { ...via('203.0.113.1, 10.0.0.5'), 'x-forwarded-host': 'crashes.example' });
    expect(first).toEqual({ status: 200, submittedTo: `${host}/submit` });
    expect((await submit(r.url, via('203.0.113.2, 10.0.0.5'))).status).toBe(429);
    expect((await submit(r.url, {})).status).toBe(429);
  });

  it('matches an IPv4 peer on a dual-stack socket (::ffff:127.0.0.1) by its IPv4 address and CIDR, and IPv6 peers by theirs', async () => {
    for (const named of ['127.0.0.1', '127.0.0.0/8', '::ffff:127.0.0.1']) {
      const r = await receiver(named, '::');
      const base = `http://127.0.0.1:${r.port}`;
      expect((await submit(base, via('203.0.113.1')))?.status, named).toBe(200);
      expect((await submit(base, via('203.0.113.2')))?.status, named).toBe(200);
      expect((await submit(base, via('6.6.6.6, 203.0.113.1')))?.status, named).toBe(429);
    }
    for (const named of ['::1', '::/120']) {
      const r = await receiver(named, '::1');
      const base = `http://[::1]:${r.port}`;
      expect((await submit(base, via('2001:db8:1::1'))).status, named).toBe(200);
      expect((await submit(base, via('2001:db8:2::1'))).status, named).toBe(200);
      // The same /64 is one client.
      expect((await submit(base, via('2001:db8:1::ffff'))).status, named).toBe(429);
    }
    const notNamed = await receiver('fd00::/8', '::1');
    expect((await submit(`http://[::1]:${notNamed.port}`, via('2001:db8:1::1'))).status).toBe(200);
    expect((await submit(`http://[::1]:${notNamed.port}`, via('2001:db8:2::1'))).status).toBe(429);
  });

  it('stops the start on a value that names no proxy, saying which and why', async () => {
    const dir = await tempDir();
    try {
      const serve = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dir.path, ...args], {
          env: { ...process.env, SOCORRITO_ADMIN_TOKEN: 'test-admin-token', ...env },
          encoding: 'utf8',
          timeout: 60_000,
        });
      const bad = serve(['--trust-proxy', '10.0.0.5,10.0.0.0/33,proxy.internal,fd00::/129']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--trust-proxy: expected true, false, or the proxies\' addresses and CIDRs');
      expect(bad.stderr).toContain('"10.0.0.0/33" has a prefix length that is not 0..32');
      expect(bad.stderr).toContain('"proxy.internal" is not an IP address or CIDR (a host name is not looked up: give its address)');
      expect(bad.stderr).toContain('"fd00::/129" has a prefix length that is not 0..128');
      expect(bad.stderr).not.toContain('"10.0.0.5"');
      expect(bad.stdout).not.toContain('listening on');

      const count = serve([], { SOCORRITO_TRUST_PROXY: '2' });
      expect(count.status).toBe(2);
      expect(count.stderr).toContain(
        'SOCORRITO_TRUST_PROXY: expected true, false, or the proxies\' addresses and CIDRs and the words loopback, linklocal, uniquelocal (10.0.0.5,192.168.0.0/16,loopback): "2" is not an IP address or CIDR (a hop count is not taken: name the proxies)',
      );

      const misspelt = serve(['--trust-proxy=loopbak,10.0.0.5']);
      expect(misspelt.status).toBe(2);
      expect(misspelt.stderr).toContain('--trust-proxy: ');
      expect(misspelt.stderr).toContain('"loopbak" is not an IP address or CIDR, nor one of those words (did you mean loopback?)');
      expect(misspelt.stdout).not.toContain('listening on');

      const hostile = serve(['--trust-proxy=<script>/8']);
      expect(hostile.status).toBe(2);
      expect(hostile.stderr).toContain('"<script>/8" is not an IP address or CIDR');
    } finally {
      await dir.cleanup();
    }
  });
});
