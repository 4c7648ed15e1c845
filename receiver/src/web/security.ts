import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/**
 * Secure headers for pages and the API. The CSP allows no script at all (pages work without
 * JavaScript), styles only from our own stylesheet, and no framing; charts are inline SVG,
 * which needs no source.
 */
export function pageSecurityHeaders(options: { https?: boolean } = {}): MiddlewareHandler {
  return secureHeaders({
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
    strictTransportSecurity: options.https ? 'max-age=15552000; includeSubDomains' : false,
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
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
