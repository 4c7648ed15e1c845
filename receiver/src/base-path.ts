/**
 * The path the receiver is served under behind a reverse proxy: `--public-url
 * https://tools.example.com/crashes/` puts it at `/crashes`. The proxy usually strips that prefix
 * (`location /crashes/ { proxy_pass http://127.0.0.1:8000/; }`), so the receiver's routes stay at
 * `/`; every address it hands out (links, form actions, redirects, cookie paths) carries the
 * prefix, and a request that still carries it (a proxy that does not strip it, or someone
 * browsing to the receiver directly at `/crashes/`) is taken too.
 */

/**
 * The path of `--public-url` without its trailing slash: `''` when it has none.
 *
 * @example basePathOf('https://tools.example.com/crashes/') // '/crashes'
 * @example basePathOf('https://crashes.example.com')        // ''
 */
export function basePathOf(publicUrl: string | undefined): string {
  if (!publicUrl) return '';
  return (URL.parse(publicUrl)?.pathname ?? '').replace(/\/+$/, '');
}

/**
 * A request target with the base path taken off, when it starts with it at a segment boundary;
 * otherwise as it came. The query stays.
 *
 * @example withoutBasePath('/crashes/apps/x?days=7', '/crashes') // '/apps/x?days=7'
 * @example withoutBasePath('/crashes?next=%2F', '/crashes')     // '/?next=%2F'
 * @example withoutBasePath('/crashesfoo', '/crashes')           // '/crashesfoo'
 * @example withoutBasePath('http://h/crashes/submit', '/crashes') // 'http://h/submit'
 */
export function withoutBasePath(target: string, base: string): string {
  if (!base) return target;
  // The absolute form (`POST http://host/crashes/submit`, RFC 9112 §3.2.2) names the host too.
  if (!target.startsWith('/')) {
    const url = URL.parse(target);
    if (!url || !/^https?:$/.test(url.protocol)) return target;
    return `${url.origin}${withoutBasePath(`${url.pathname}${url.search}`, base)}`;
  }
  if (!target.startsWith(base)) return target;
  const rest = target.slice(base.length);
  if (rest === '') return '/';
  if (rest.startsWith('/')) return rest;
  if (rest.startsWith('?')) return `/${rest}`;
  return target;
}

/** The first segment of a path: `apps` for `/apps/:guid`, `''` for `/`. */
export function firstSegment(path: string): string {
  return path.split('/')[1] ?? '';
}
