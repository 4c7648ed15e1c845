import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { eitherSignal } from '../deadline.ts';

/** Largest answer read from a receiver we forward to; a collector's answer is one short line. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Why URL mode will not send a crash somewhere; `code` is machine-readable. */
export class ForwardRefused extends Error {
  constructor(
    readonly code: 'bad_url' | 'not_https' | 'credentials' | 'private_address' | 'metadata_address' | 'special_address',
    message: string,
  ) {
    super(message);
    this.name = 'ForwardRefused';
  }
}

/** What URL mode may reach; both off by default. */
export interface TargetPolicy {
  /** Loopback, private, link-local, shared and documentation ranges (tests, closed networks). */
  allowPrivate: boolean;
  /** Plain http. */
  allowHttp: boolean;
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved' | 'metadata' | 'unspecified' | 'multicast';

/** Cloud instance metadata services: refused in URL mode even when private addresses are allowed. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '169.254.169.123', '100.100.100.200', '168.63.129.16', 'fd00:ec2::254']);

function v4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** The 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail), or null. */
function v6Bytes(text: string): number[] | null {
  let s = text.toLowerCase().replace(/%.*$/, '');
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = v4Bytes(dotted[1]!);
    if (!v4) return null;
    tail = v4;
    s = s.slice(0, -dotted[1]!.length) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function classifyV4(b: number[]): AddressClass {
  const [a, c] = [b[0]!, b[1]!];
  if (METADATA_ADDRESSES.has(b.join('.'))) return 'metadata';
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168)) return 'private';
  if (a === 100 && c >= 64 && c <= 127) return 'private'; // shared address space (carrier NAT)
  if (a === 169 && c === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  if (a === 192 && c === 0 && (b[2] === 0 || b[2] === 2)) return 'reserved';
  if ((a === 198 && (c === 18 || c === 19)) || (a === 198 && c === 51 && b[2] === 100) || (a === 203 && c === 0 && b[2] === 113)) {
    return 'reserved';
  }
  return 'public';
}

/** What kind of address `ip` is; IPv6 forms that embed an IPv4 address are judged by it. */
export function classifyAddress(ip: string): AddressClass {
  if (isIP(ip) === 4) return classifyV4(v4Bytes(ip)!);
  const b = v6Bytes(ip);
  if (!b) return 'reserved';
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  if (hex === 'fd000ec2000000000000000000000254') return 'metadata';
  if (zero(0, 16)) return 'unspecified';
  if (zero(0, 15) && b[15] === 1) return 'loopback';
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.slice(12)); // ::ffff:a.b.c.d
  if (zero(0, 12)) return classifyV4(b.slice(12)); // deprecated ::a.b.c.d
  if (hex.startsWith('0064ff9b')) return classifyV4(b.slice(12)); // NAT64
  if (hex.startsWith('2002')) return classifyV4(b.slice(2, 6)); // 6to4
  if ((b[0]! & 0xfe) === 0xfc) return 'private'; // unique local fc00::/7
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private'; // old site-local
  if (b[0] === 0xff) return 'multicast';
  if (hex.startsWith('20010db8') || hex.startsWith('0100000000000000')) return 'reserved';
  return 'public';
}

/** Throws `ForwardRefused` when URL mode may not connect to `ip`. */
export function checkAddress(ip: string, policy: TargetPolicy, host = ip): void {
  const kind = classifyAddress(ip);
  if (kind === 'public') return;
  const where = host === ip ? ip : `${host} (${ip})`;
  if (kind === 'metadata') throw new ForwardRefused('metadata_address', `${where} is a cloud metadata address`);
  const a = /^[aeiou]/.test(kind) ? 'an' : 'a';
  if (kind === 'unspecified' || kind === 'multicast') throw new ForwardRefused('special_address', `${where} is ${a} ${kind} address`);
  if (!policy.allowPrivate) {
    throw new ForwardRefused('private_address', `${where} is ${a} ${kind} address; URL mode forwards only to public addresses`);
  }
}

/**
 * The checks URL mode makes before any connection: a parseable https URL (http only when
 * allowed), no credentials, and, when the host is an address literal, an allowed address.
 * Names are checked after DNS resolution by `guardedLookup`, on the address actually used.
 */
export function checkTargetUrl(text: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ForwardRefused('bad_url', 'SubmitURL is not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new ForwardRefused('not_https', `SubmitURL must be https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) throw new ForwardRefused('credentials', 'SubmitURL must not carry a user name or password');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) checkAddress(host, policy);
  if (host === '' || host.endsWith('.')) {
    // A trailing dot is the same name, but an unusual spelling of it: refuse rather than reason about it.
    throw new ForwardRefused('bad_url', 'SubmitURL has no usable host name');
  }
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves the name and refuses the connection when any
 * address it resolves to is not allowed. The check is on the addresses the socket then
 * connects to, so a name that resolves differently a second time (DNS rebinding) gains nothing.
 */
export function guardedLookup(policy: TargetPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      try {
        if (addresses.length === 0) throw new ForwardRefused('bad_url', `${hostname} has no address`);
        for (const a of addresses) checkAddress(a.address, policy, hostname);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, []);
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * A `fetch` for `submitCrash` that posts with node:http(s): it never follows redirects, reads at
 * most `MAX_ANSWER_BYTES` of the answer, checks every resolved address against `policy` (when
 * given: URL mode), and can be aborted by `stop`. `onHeaders` sees the answer's headers (for
 * Retry-After).
 */
export function forwardingFetch(options: {
  policy: TargetPolicy | null;
  stop?: AbortSignal;
  onHeaders?: (headers: http.IncomingHttpHeaders) => void;
}): typeof fetch {
  const post = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
    if (!client) return Promise.reject(new ForwardRefused('bad_url', `cannot forward over ${url.protocol}`));
    const body = Buffer.from(init.body as Uint8Array);
    const signals = eitherSignal([init.signal, options.stop].filter((s): s is AbortSignal => !!s));
    const done = new Promise<Response>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: { ...(init.headers as Record<string, string>), 'content-length': String(body.length) },
          agent: false,
          lookup: options.policy ? (guardedLookup(options.policy) as never) : undefined,
          signal: signals.signal,
        },
        (res) => {
          options.onHeaders?.(res.headers);
          const chunks: Buffer[] = [];
          let size = 0;
          const finish = (): void => {
            const status = res.statusCode ?? 599;
            const okStatus = status >= 200 && status <= 599 ? status : 599;
            const nullBody = [204, 205, 304].includes(okStatus);
            resolve(new Response(nullBody ? null : Buffer.concat(chunks).toString('utf8'), { status: okStatus }));
          };
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
            else {
              res.destroy();
              finish();
            }
          });
          res.on('end', finish);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    return done.finally(() => signals.clear());
  };
  return post as typeof fetch;
}
