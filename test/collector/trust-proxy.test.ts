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
      expect(count.stderr).toContain('SOCORRITO_TRUST_PROXY: expected true, false, or the proxies\' addresses and CIDRs (10.0.0.5,192.168.0.0/16): "2" is not an IP address or CIDR (a hop count is not taken: name the proxies)');

      const hostile = serve(['--trust-proxy=<script>/8']);
      expect(hostile.status).toBe(2);
      expect(hostile.stderr).toContain('"<script>/8" is not an IP address or CIDR');
    } finally {
      await dir.cleanup();
    }
  });
});
