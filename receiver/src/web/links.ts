/**
 * Addresses the pages, redirects and cookies give out, under the path `--public-url` serves the
 * receiver at (`/crashes`; see base-path.ts). Routes stay at `/`: only what reaches the browser
 * carries the path. The `servedUnder` middleware puts the path on each request; `under(c, …)`
 * reads it in handlers, and `link(…)` while a page renders (htmlPage provides it there).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { createContext, useContext } from 'hono/jsx';

declare module 'hono' {
  interface ContextVariableMap {
    /** The `--public-url` path (`/crashes`), or '' (set by `servedUnder`). */
    basePath: string;
  }
}

/** Puts the `--public-url` path on every request after it. */
export function servedUnder(basePath: string): MiddlewareHandler {
  return async function servedUnder(c, next) {
    c.set('basePath', basePath);
    await next();
  };
}

/**
 * A receiver path as a redirect or a cookie must name it. Routes mounted without `servedUnder`
 * (unit tests of one part) get the path as it is.
 *
 * @example under(c, '/login?next=%2F') // '/crashes/login?next=%2F' behind --public-url https://host/crashes/
 */
export function under(c: Context, path: string): string {
  return `${c.get('basePath') ?? ''}${path}`;
}

/** The path of the page being rendered; null outside a render. */
export const BasePath = createContext<string | null>(null);

/**
 * A receiver path as a link, form action or asset URL on the page being rendered says it. Throws
 * outside a render rather than hand out an address that lost the path.
 *
 * @example <a href={link('/search')}>Search</a> // href="/crashes/search"
 */
export function link(path: string): string {
  const base = useContext(BasePath);
  if (base === null) throw new Error(`link(${JSON.stringify(path)}) outside a page render: use under(c, path) in a handler`);
  return `${base}${path}`;
}
