import type { Context, Hono } from 'hono';

/** Where the API answers methods it does not take with 405 rather than "no route". */
const API_PREFIX = '/api/';

/**
 * The methods some API route of `app` takes at `path` (`GET` adds `HEAD`, which Hono answers
 * with it); empty when no API route has that path.
 *
 * @example allowedMethods(app, '/api/apps') // ['GET', 'HEAD']
 */
export function allowedMethods(app: Hono, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    // Middleware (`ALL`) runs everywhere and says nothing about which routes exist.
    if (route.method === 'ALL' || !route.path.startsWith(API_PREFIX)) continue;
    if (routePattern(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** A route path (`/api/crashes/:id/files/:name`) as a pattern for whole request paths. */
function routePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * For the not-found handler: an API path that exists under other methods answers `OPTIONS`
 * with `204` and `Allow`, and any other method with `405`, `Allow` and the JSON error every API
 * error has; null when the path is not an API route at all. A script that sent `POST` where
 * `PUT` is wanted learns that, rather than "no route", which reads as a wrong address.
 */
export function wrongMethod(app: Hono, c: Context): Response | null {
  if (!c.req.path.startsWith(API_PREFIX)) return null;
  const allowed = allowedMethods(app, c.req.path);
  if (allowed.length === 0) return null;
  const allow = [...allowed, 'OPTIONS'].join(', ');
  if (c.req.method === 'OPTIONS') return c.body(null, 204, { allow });
  return c.json({ error: 'method_not_allowed', message: `${c.req.path} takes ${allow}, not ${c.req.method}` }, 405, { allow });
}
