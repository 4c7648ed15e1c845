import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context } from 'hono';
import { classifyAddress } from './forwarder/url-guard.ts';

/**
 * What a request says about its client when a proxy stands in front of the receiver. The
 * `X-Forwarded-*` headers are believed only with `--trust-proxy`: without a proxy that sets
 * them, any client could claim any address or host with them. Each question has two doors:
 * a Hono context, and a node:http request Hono has not seen (an `Expect: 100-continue` check,
 * a submission the collector takes directly).
 */

/** The first of a header's comma-separated values (proxies append theirs). */
export function firstValue(header: string | undefined): string | undefined {
  return header?.split(',')[0]!.trim() || undefined;
}

/**
 * Who sent the request, as rate limits and memory shares count clients: with a trusted proxy,
 * the client `X-Forwarded-For` names (see clientOf), else the socket's address; an IPv6
 * address by its /64 (see clientKey).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  // app.request() in tests has no socket.
  return clientOf(c.req.header('x-forwarded-for'), (c.env as { incoming?: IncomingMessage } | undefined)?.incoming, trustProxy);
}

export function incomingClientAddress(req: IncomingMessage, trustProxy: boolean): string {
  return clientOf(headerOf(req, 'x-forwarded-for'), req, trustProxy);
}

/** The host (and port) the client addressed: a trusted proxy's `X-Forwarded-Host`, else `Host`. */
export function requestedHost(c: Context, trustProxy: boolean): string {
  return hostOf(c.req.header('x-forwarded-host'), c.req.header('host'), trustProxy) ?? new URL(c.req.url).host;
}

export function incomingRequestedHost(req: IncomingMessage, trustProxy: boolean): string {
  // A request line in absolute form (`POST http://host/submit`) names the host itself (RFC 9112 §3.2.2).
  const absolute = /^https?:\/\//i.test(req.url ?? '') ? URL.parse(req.url!)?.host : undefined;
  const host = hostOf(headerOf(req, 'x-forwarded-host'), absolute || req.headers.host, trustProxy);
  if (host && HOST_PATTERN.test(host)) return host;
  // No Host (an HTTP/1.0 client), or one that names no host: the address it reached.
  const local = req.socket?.localAddress ?? '';
  return local.includes(':') ? `[${local}]:${req.socket.localPort}` : local ? `${local}:${req.socket.localPort}` : '';
}

/** A host name or IP address with an optional port, as a Host header may carry it. */
const HOST_PATTERN = /^(?:[A-Za-z0-9._~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Each proxy appends the address it was reached from, and a client can only add to the front:
 * so the client is the last address that is not one of the private hops (our proxies), read from
 * the end. Behind private proxies only, the last address.
 *
 * @example clientOf('6.6.6.6, 198.51.100.7, 10.0.0.1', …) // '198.51.100.7' (6.6.6.6 is the client's claim)
 */
/** An address our own proxies would have: loopback, private (carrier NAT included), link-local, unspecified. */
function isProxyHop(address: string): boolean {
  const kind = classifyAddress(address);
  return kind === 'loopback' || kind === 'private' || kind === 'link-local' || kind === 'unspecified';
}

function clientOf(forwardedFor: string | undefined, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    const hops = forwardedFor.split(',').map((hop) => hop.trim()).filter((hop) => isIP(hop) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) if (!isProxyHop(hops[i]!)) return clientKey(hops[i]!);
    if (hops.length) return clientKey(hops.at(-1)!);
  }
  return clientKey(req?.socket?.remoteAddress ?? 'unknown');
}

/**
 * The key a client is counted by: an IPv4 address as it is (an IPv4-mapped IPv6 one too), an
 * IPv6 address by its first 64 bits, since a home or a server is given a whole /64 and may
 * use any address in it (counted one by one, each would get its own rate and memory share).
 *
 * @example clientKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 * @example clientKey('::ffff:192.0.2.7') // '192.0.2.7'
 */
export function clientKey(address: string): string {
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const groups = (text: string | undefined): string[] => (text ? text.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const front = groups(head);
  const back = groups(tail);
  const all = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

function hostOf(forwardedHost: string | undefined, host: string | undefined, trustProxy: boolean): string | undefined {
  return (trustProxy ? firstValue(forwardedHost) : undefined) ?? host;
}

/** A header of a node:http request as one string (a repeated header's values joined). */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
