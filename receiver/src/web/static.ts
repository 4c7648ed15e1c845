import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

/** The one stylesheet, read once at start. */
const STYLESHEET = readFileSync(new URL('./style.css', import.meta.url), 'utf8');
export const STYLESHEET_PATH = '/static/socorrito.css';
const STYLESHEET_MAX_AGE_S = 3600;

/** `GET /static/socorrito.css`: needed by the login page, so served without a session. */
export function staticRoutes(): Hono {
  const routes = new Hono();
  routes.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': `public, max-age=${STYLESHEET_MAX_AGE_S}` }),
  );
  return routes;
}
