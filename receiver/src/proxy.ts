import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';
import { classifyAddress } from './forwarder/url-guard.ts';
import { closest } from './text.ts';

/**
 * What a request says about its client when a proxy stands in front of the receiver. The
 * `X-Forwarded-*` headers are believed only with `--trust-proxy`: without a proxy that sets
 * them, any client could claim any address or host with them. Each question has two doors:
 * a Hono context, and a node:http request Hono has not seen (an `Expect: 100-continue` check,
 * a submission the collector takes directly).
 */

/**
 * Which peers are our proxies, as `--trust-proxy` says: none (`false`); every loopback, private
 * and link-local address (`true`, from any peer); or only the ones named (TrustedProxies).
 */
export type ProxyTrust = boolean | TrustedProxies;

/** Most characters of a refused entry quoted back in an error: a pasted file should not fill the log. */
const MAX_QUOTED_ENTRY = 60;

/**
 * The words Express's `trust proxy` knows, each the ranges it stands for (proxy-addr's): a proxy
 * on the same machine, on a link-local address, or on a private network.
 */
const PROXY_WORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
const WORD_LIST = Object.keys(PROXY_WORDS).join(', ');

/**
 * The proxies `--trust-proxy=10.0.0.5,192.168.0.0/16` names, by address or CIDR, IPv4 or IPv6,
 * or by one of Express's words (`loopback`, `linklocal`, `uniquelocal`), alone or mixed in.
 * An IPv4-mapped IPv6 address (`::ffff:10.0.0.5`, how a socket listening on `::` sees an IPv4
 * peer) matches its IPv4 form and the other way round: node:net's BlockList does the matching.
 *
 * @example TrustedProxies.parse('10.0.0.5, fd00::/8').has('::ffff:10.0.0.5') // true
 * @example TrustedProxies.parse('loopback,10.0.0.5').has('::1') // true
 */
export class TrustedProxies {
  readonly #list = new BlockList();

  private constructor(readonly entries: readonly string[]) {
    for (const entry of entries.flatMap((e) => PROXY_WORDS[e.toLowerCase()] ?? [e])) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(prefix), family);
    }
  }

  /**
   * A comma-separated list of addresses, CIDRs and words; throws an Error naming every entry that
   * is none of them (host names are not looked up: a proxy is known by the address it connects from).
   */
  static parse(text: string): TrustedProxies {
    const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
    if (!entries.length) throw new Error(`expected proxy addresses or CIDRs like 10.0.0.5,192.168.0.0/16, got ${JSON.stringify(text)}`);
    const problems = entries.map(entryProblem).filter((p): p is string => p !== null);
    if (problems.length) {
      throw new Error(`expected true, false, or the proxies' addresses and CIDRs and the words ${WORD_LIST} (10.0.0.5,192.168.0.0/16,loopback): ${problems.join('; ')}`);
    }
    return new TrustedProxies(entries);
  }

  has(address: string): boolean {
    const bare = address.replace(/%.*$/, '');
    const family = isIP(bare);
    return family !== 0 && this.#list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** As the start-up log shows it: the list as given. */
  toJSON(): string {
    return this.entries.join(',');
  }
}

/** Why one `--trust-proxy` entry is not an address, CIDR or word, or null. */
function entryProblem(entry: string): string | null {
  if (Object.hasOwn(PROXY_WORDS, entry.toLowerCase())) return null;
  const quoted = JSON.stringify(entry.slice(0, MAX_QUOTED_ENTRY));
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  // A zone (fe80::1%eth0) names an interface of this machine: the same address on another is another host.
  if (family === 0 || address.includes('%') || rest.length) {
    if (/^\d+$/.test(entry)) return `${quoted} is not an IP address or CIDR (a hop count is not taken: name the proxies)`;
    if (/^[a-z_-]+$/i.test(entry)) {
      const meant = closestWord(entry);
      // The message begins with the words taken (see parse), so they are not listed again for each entry.
      return `${quoted} is not an IP address or CIDR, nor one of those words${meant ? ` (did you mean ${meant}?)` : ''}`;
    }
    const hint = /[a-z]/i.test(entry) && !entry.includes(':') ? ' (a host name is not looked up: give its address)' : '';
    return `${quoted} is not an IP address or CIDR${hint}`;
  }
  const max = family === 4 ? 32 : 128;
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)) return `${quoted} has a prefix length that is not 0..${max}`;
  return null;
}

/** The proxy word `text` is a slip for (`link-local`, `loopbak`), or null. */
function closestWord(text: string): string | null {
  return closest(text.replace(/[_-]/g, ''), Object.keys(PROXY_WORDS));
}

/** The first of a header's comma-separated values (proxies append theirs). */
export function firstValue(header: string | undefined): string | undefined {
  return header?.split(',')[0]!.trim() || undefined;
}

/**
 * Who sent the request, as rate limits and memory shares count clients: with a trusted proxy,
 * the client `X-Forwarded-For` names (see clientOf), else the socket's address; an IPv6
 * address by its /64 (see clientKey).
 */
export function clientAddress(c: Context, trust: ProxyTrust = false): string {
  return clientOf(c.req.header('x-forwarded-for'), incomingOf(c), trust);
}

export function incomingClientAddress(req: IncomingMessage, trust: ProxyTrust = false): string {
  return clientOf(headerOf(req, 'x-forwarded-for'), req, trust);
}

/**
 * Whether this request's `X-Forwarded-*` headers are believed at all: with `--trust-proxy=true`
 * always, with named proxies only when the connection comes from one of them.
 */
export function believesForwarded(c: Context, trust: ProxyTrust = false): boolean {
  return believes(trust, incomingOf(c));
}

/** The host (and port) the client addressed: a trusted proxy's `X-Forwarded-Host`, else `Host`. */
export function requestedHost(c: Context, trust: ProxyTrust = false): string {
  return hostOf(c.req.header('x-forwarded-host'), c.req.header('host'), believes(trust, incomingOf(c))) ?? new URL(c.req.url).host;
}

export function incomingRequestedHost(req: IncomingMessage, trust: ProxyTrust = false): string {
  // A request line in absolute form (`POST http://host/submit`) names the host itself (RFC 9112 §3.2.2).
  const absolute = /^https?:\/\//i.test(req.url ?? '') ? URL.parse(req.url!)?.host : undefined;
  const host = hostOf(headerOf(req, 'x-forwarded-host'), absolute || req.headers.host, believes(trust, req));
  if (host && HOST_PATTERN.test(host)) return host;
  // No Host (an HTTP/1.0 client), or one that names no host: the address it reached.
  const local = req.socket?.localAddress ?? '';
  return local.includes(':') ? `[${local}]:${req.socket.localPort}` : local ? `${local}:${req.socket.localPort}` : '';
}

/** A host name or IP address with an optional port, as a Host header may carry it. */
const HOST_PATTERN = /^(?:[A-Za-z0-9._~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** An address our own proxies would have under `--trust-proxy=true`: loopback, private (carrier NAT included), link-local, unspecified. */
function isPrivateHop(address: string): boolean {
  const kind = classifyAddress(address);
  return kind === 'loopback' || kind === 'private' || kind === 'link-local' || kind === 'unspecified';
}

/** The node:http request behind a Hono context; app.request() in tests has none. */
function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

function believes(trust: ProxyTrust, req: IncomingMessage | undefined): boolean {
  if (!(trust instanceof TrustedProxies)) return trust;
  const peer = req?.socket?.remoteAddress;
  return peer !== undefined && trust.has(peer);
}

/**
 * Each proxy appends the address it was reached from, and a client can only add to the front:
 * so the client is the first address, read from the end, that is not one of our proxies. With
 * named proxies those are the named ones, and the header counts only when the connection comes
 * from one of them. With `--trust-proxy=true` every private hop is taken for a proxy, so a client
 * on a private network (a LAN, a VPN) is skipped too and the address it forged before its own
 * is taken: only named proxies tell such a client apart.
 *
 * An entry with a port (`203.0.113.7:51234`, `[2001:db8::1]:443`, as Azure's proxies write it)
 * counts as its address (see hopAddress). An entry that names no address (`unknown`, an RFC 7239
 * obfuscated `_hidden`, any other text) ends the reading: a proxy would not name its client there,
 * or a client wrote it, and what stands before it is unchecked text in which a client can name
 * anyone, another client included. So the last address read before it, the proxy that passed it
 * on, is the client: the clients it hides share its count, and none is counted as someone else.
 *
 * @example clientOf('6.6.6.6, 198.51.100.7, 10.0.0.1', …) // '198.51.100.7' (6.6.6.6 is the client's claim)
 * @example clientOf('6.6.6.6, 10.9.9.9', peer 10.0.0.1, proxies 10.0.0.1) // '10.9.9.9', where `true` says '6.6.6.6'
 * @example clientOf('198.51.100.7, unknown, 10.0.0.2', peer 10.0.0.1, proxies 10.0.0.0/8) // '10.0.0.2'
 */
function clientOf(forwardedFor: string | undefined, req: IncomingMessage | undefined, trust: ProxyTrust): string {
  const peer = req?.socket?.remoteAddress ?? 'unknown';
  if (trust instanceof TrustedProxies) {
    if (!forwardedFor || !trust.has(peer)) return clientKey(peer);
    let client = peer;
    for (const address of addressesFromEnd(forwardedFor)) {
      client = address;
      if (!trust.has(client)) break;
    }
    return clientKey(client);
  }
  if (trust && forwardedFor) {
    const hops = [...addressesFromEnd(forwardedFor)];
    const outside = hops.find((hop) => !isPrivateHop(hop));
    if (outside) return clientKey(outside);
    if (hops.length) return clientKey(hops[0]!);
  }
  return clientKey(peer);
}

/** The addresses of an `X-Forwarded-For`, nearest first, up to the first entry that names none. */
function* addressesFromEnd(forwardedFor: string): Generator<string> {
  const entries = forwardedFor.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (let i = entries.length - 1; i >= 0; i--) {
    const address = hopAddress(entries[i]!);
    if (address === null) return;
    yield address;
  }
}

/**
 * The address an `X-Forwarded-For` entry names, or null: an address as it is, or one with a port
 * (`203.0.113.7:51234`, `[2001:db8::1]:443`, or RFC 7239's obfuscated port `_p1`). A bare IPv6
 * address is read whole: `2001:db8::1:443` is one address, not `2001:db8::1` and a port.
 *
 * @example hopAddress('[2001:db8::1]:443') // '2001:db8::1'
 * @example hopAddress('_hidden') // null
 */
export function hopAddress(entry: string): string | null {
  if (isIP(entry) !== 0) return entry;
  const withPort = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}|_[A-Za-z0-9._-]+))?$/.exec(entry);
  if (!withPort) return null;
  const [, v6, v4, port] = withPort;
  if (port !== undefined && /^\d/.test(port) && Number(port) > 65_535) return null;
  if (v6 !== undefined) return isIP(v6) === 6 ? v6 : null;
  // A bare IPv4 address was taken above: here it has a port.
  return port !== undefined && isIP(v4!) === 4 ? v4! : null;
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

function hostOf(forwardedHost: string | undefined, host: string | undefined, believed: boolean): string | undefined {
  return (believed ? firstValue(forwardedHost) : undefined) ?? host;
}

/** A header of a node:http request as one string (a repeated header's values joined). */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
