import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export interface AuthOptions {
  token: string;
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token from `Authorization: Bearer <token>`, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** Requires the admin token as a Bearer header on API routes; answers 401 JSON otherwise. */
export function requireApiToken(options: AuthOptions): MiddlewareHandler {
  return async function apiAuth(c, next) {
    const given = bearerToken(c.req.header('authorization'));
    if (!given || !sameSecret(given, options.token)) {
      return c.json({ error: 'unauthorized', message: 'send Authorization: Bearer <admin token>' }, 401, {
        'WWW-Authenticate': 'Bearer realm="socorrito"',
      });
    }
    await next();
  };
}
