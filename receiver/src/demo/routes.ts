import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import { under } from '../web/links.ts';
import type { BuiltDemo } from './build.ts';

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The demo's own Content-Security-Policy: it shares its origin (and the session cookie) with the
 * report pages, so it may load and run only its own files and talk only to this receiver. The
 * extension's hook runs in the page's world by the browser's hand and needs no allowance.
 */
const DEMO_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const DEMO_HEADERS = { 'Content-Security-Policy': DEMO_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin' };

/**
 * `/demo/`: the demo app. Its page names this receiver's `/submit` as its submit URL: under
 * --public-url (its path included) when set, else at the address the browser used, so it works
 * on any host and port.
 */
export function demoRoutes(demo: BuiltDemo, publicUrl?: string): Hono {
  const routes = new Hono();
  routes.get('/demo', (c) => c.redirect(under(c, '/demo/')));
  routes.get('/demo/', (c) => {
    const receiver = publicUrl ?? new URL(c.req.url).origin;
    const html = demo.indexTemplate
      .replaceAll('{{SUBMIT_URL}}', escapeAttribute(`${receiver}/submit`))
      .replaceAll('{{RECEIVER}}', escapeAttribute(`${receiver}/`));
    return c.html(html, 200, { ...DEMO_HEADERS, 'Cache-Control': 'no-store' });
  });
  // The bug behind "Refresh stock": the API answers an HTML error page instead of JSON.
  routes.get('/demo/api/inventory', (c) => c.html('<!doctype html><title>Oops</title><h1>Something went wrong</h1>', 200, DEMO_HEADERS));
  routes.get('/demo/assets/:name', async (c) => {
    const path = demo.files.get(`assets/${c.req.param('name')}`);
    if (!path) return c.text('Not found\n', 404);
    const type = TYPES[path.split('.').pop()!] ?? 'application/octet-stream';
    return c.body(await readFile(path), 200, { ...DEMO_HEADERS, 'Content-Type': type, 'Cache-Control': 'public, max-age=31536000, immutable' });
  });
  return routes;
}
