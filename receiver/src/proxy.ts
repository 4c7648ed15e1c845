import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

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

/** Who sent the request: the first client a trusted proxy names in `X-Forwarded-For`, else the socket's address. */
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
  const host = hostOf(headerOf(req, 'x-forwarded-host'), req.headers.host, trustProxy);
  if (host) return host;
  // An HTTP/1.0 client may send no Host: the address it reached, as Hono builds a URL then.
  const local = req.socket?.localAddress ?? '';
  return local.includes(':') ? `[${local}]:${req.socket.localPort}` : local ? `${local}:${req.socket.localPort}` : '';
}

function clientOf(forwardedFor: string | undefined, req: IncomingMessage | undefined, trustProxy: boolean): string {
  return (trustProxy ? firstValue(forwardedFor) : undefined) ?? req?.socket?.remoteAddress ?? 'unknown';
}

function hostOf(forwardedHost: string | undefined, host: string | undefined, trustProxy: boolean): string | undefined {
  return (trustProxy ? firstValue(forwardedHost) : undefined) ?? host;
}

/** A header of a node:http request as one string (a repeated header's values joined). */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
