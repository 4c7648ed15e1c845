import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { classifyAddress } from '../forwarder/url-guard.ts';
import { ByteLruCache } from './cache.ts';

/** Why a script or map was not fetched: a short code shown in frame notes. */
export class RemoteFetchRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteFetchRefused';
  }
}

export interface RemoteFetchOptions {
  /** Origins (`https://shop.example`) we may fetch from; `*` allows any. Empty: fetching is off. */
  allowedOrigins: string[];
  /** Allow loopback and private addresses (only for tests and closed networks). */
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
  /** Byte budget of fetched texts kept, and how long they stay valid. */
  cacheBytes: number;
  cacheTtlMs: number;
}

export const REMOTE_FETCH_DEFAULTS = {
  maxBytes: 20 * 1024 * 1024,
  timeoutMs: 10_000,
  cacheBytes: 64 * 1024 * 1024,
  cacheTtlMs: 10 * 60_000,
};

/**
 * Fetches an app's scripts and maps from its own origin, for when nothing was uploaded. Only
 * allowed origins, only http(s), never loopback/private/link-local addresses unless allowed
 * (checked on the resolved address the socket connects to, so DNS cannot point us inside),
 * with a size cap, a timeout and a cache (failures are cached too, so a broken origin is not
 * hammered by every crash).
 */
export class RemoteFetcher {
  readonly #cache: ByteLruCache<{ at: number; text?: string; error?: RemoteFetchRefused }>;

  constructor(
    private readonly options: RemoteFetchOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.#cache = new ByteLruCache(options.cacheBytes);
  }

  async fetchText(url: string): Promise<string> {
    const cached = this.#cache.get(url);
    if (cached && this.now() - cached.at < this.options.cacheTtlMs) {
      if (cached.error) throw cached.error;
      return cached.text!;
    }
    try {
      const text = await this.#fetch(url);
      this.#cache.set(url, { at: this.now(), text }, text.length + url.length);
      return text;
    } catch (err) {
      const refused = err instanceof RemoteFetchRefused ? err : new RemoteFetchRefused('fetch_failed', `could not fetch ${url}`);
      this.#cache.set(url, { at: this.now(), error: refused }, url.length + 64);
      throw refused;
    }
  }

  #fetch(url: string): Promise<string> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new RemoteFetchRefused('bad_url', 'not a URL'));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return Promise.reject(new RemoteFetchRefused('not_http', 'only http(s) is fetched'));
    const allowed = this.options.allowedOrigins;
    if (!allowed.includes('*') && !allowed.includes(parsed.origin)) {
      return Promise.reject(new RemoteFetchRefused('origin_not_allowed', `${parsed.origin} is not an allowed origin`));
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const allowPrivate = this.options.allowPrivate;
    if (isIP(host) && refusedAddress(host, allowPrivate)) {
      return Promise.reject(new RemoteFetchRefused('private_address', `${host} is a loopback, private or metadata address`));
    }
    const guardedLookup = (hostname: string, opts: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void): void => {
      dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        const list = addresses as LookupAddress[];
        const bad = list.some((a) => refusedAddress(a.address, allowPrivate));
        if (bad) return callback(new RemoteFetchRefused('private_address', `${hostname} resolves to a loopback, private or metadata address`), '');
        if ((opts as { all?: boolean }).all) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      });
    };
    return new Promise((resolve, reject) => {
      const request = (parsed.protocol === 'https:' ? httpsRequest : httpRequest)(
        parsed,
        { method: 'GET', lookup: guardedLookup as never, timeout: this.options.timeoutMs, headers: { accept: '*/*', 'user-agent': 'socorrito-symbolicator' } },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(new RemoteFetchRefused(`http_${response.statusCode}`, `answered ${response.statusCode}`));
            return;
          }
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > this.options.maxBytes) {
            response.destroy();
            reject(new RemoteFetchRefused('too_large', `larger than ${this.options.maxBytes} bytes`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.maxBytes) {
              response.destroy();
              reject(new RemoteFetchRefused('too_large', `larger than ${this.options.maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          response.on('error', () => reject(new RemoteFetchRefused('fetch_failed', 'connection failed')));
        },
      );
      const deadline = setTimeout(() => request.destroy(new RemoteFetchRefused('timeout', `no answer in ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      request.on('timeout', () => request.destroy(new RemoteFetchRefused('timeout', `no answer in ${this.options.timeoutMs} ms`)));
      request.on('error', (err) => reject(err instanceof RemoteFetchRefused ? err : new RemoteFetchRefused('fetch_failed', 'connection failed')));
      request.on('close', () => clearTimeout(deadline));
      request.end();
    });
  }
}

/**
 * Whether a source fetch may not connect to `address`: a cloud metadata service never; anything
 * but a public address (loopback, private, link-local, reserved, in every IPv4 and IPv6 spelling:
 * `::ffff:a.b.c.d`, `::a.b.c.d`, NAT64, 6to4) unless allowed. The forwarder's classification, so
 * the two cannot drift apart; text that is not an address counts as not public.
 */
export function refusedAddress(address: string, allowPrivate: boolean): boolean {
  const kind = classifyAddress(address);
  return kind === 'metadata' || (!allowPrivate && kind !== 'public');
}
