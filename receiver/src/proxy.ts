import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * What a request says about its client when a proxy stands in front of the receiver. The
 * `X-Forwarded-*` headers are believed only with `--trust-proxy`: without a proxy that sets
 * them, any client could claim any address or host with them.
 */

/** The first of a header's comma-separated values (proxies append theirs). */
export function firstValue(header: string | undefined): string | undefined {
  return header?.split(',')[0]!.trim() || undefined;
}

/** Who sent the request: the first client a trusted proxy names in `X-Forwarded-For`, else the socket's address. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  const forwarded = trustProxy ? firstValue(c.req.header('x-forwarded-for')) : undefined;
  // app.request() in tests has no socket.
  return forwarded ?? (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** clientAddress for a request Hono has not seen yet (an `Expect: 100-continue` check). */
export function incomingClientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const header = req.headers['x-forwarded-for'];
  const forwarded = trustProxy ? firstValue(Array.isArray(header) ? header.join(',') : header) : undefined;
  return forwarded ?? req.socket?.remoteAddress ?? 'unknown';
}

/** The host (and port) the client addressed: a trusted proxy's `X-Forwarded-Host`, else `Host`. */
export function requestedHost(c: Context, trustProxy: boolean): string {
  return (trustProxy ? firstValue(c.req.header('x-forwarded-host')) : undefined) ?? c.req.header('host') ?? new URL(c.req.url).host;
}

/** requestedHost for a request Hono has not seen (the collector takes submissions straight from node:http). */
export function incomingRequestedHost(req: IncomingMessage, trustProxy: boolean): string {
  const header = req.headers['x-forwarded-host'];
  return (trustProxy ? firstValue(Array.isArray(header) ? header.join(',') : header) : undefined) ?? req.headers.host ?? '';
}
