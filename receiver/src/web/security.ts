import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * Secure headers for pages and the API. The CSP allows no script at all (pages work without
 * JavaScript), styles only from our own stylesheet, and no framing; charts are inline SVG,
 * which needs no source.
 */
export function pageSecurityHeaders(options: { https?: boolean; underPath?: boolean } = {}): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
    // Served under a path, the host is shared with other tools: its subdomains are not ours to bind.
    strictTransportSecurity: options.https ? `max-age=15552000${options.underPath ? '' : '; includeSubDomains'}` : false,
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
  // A response with a stricter policy of its own (a file download's sandbox) keeps it.
  return async function pageHeaders(c, next) {
    let own: string | null = null;
    await headers(c, async () => {
      await next();
      own = c.res.headers.get('Content-Security-Policy');
    });
    if (own !== null && /\bsandbox\b/.test(own)) c.res.headers.set('Content-Security-Policy', own);
  };
}

/** Pages hold crash data: never cache them in shared caches, and revalidate in the browser. */
export function noStore(): MiddlewareHandler {
  return async function noStore(c, next) {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}

/**
 * A crash's file as a download, never something a browser renders: the bytes came from an
 * untrusted client. The report page's link and the API answer it alike.
 */
export function fileDownload(data: Uint8Array, filename: string): Response {
  return new Response(data as Uint8Array<ArrayBuffer>, {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
