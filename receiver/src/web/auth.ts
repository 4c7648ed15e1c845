import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import { serializeSigned } from 'hono/utils/cookie';
import { RateLimiter } from '../collector/rate-limit.ts';
import { believesForwarded, clientAddress, firstValue, type ProxyTrust, requestedHost, TrustedProxies } from '../proxy.ts';
import { problemPage } from './layout.tsx';
import { under } from './links.ts';

/** The session cookie: `<expires ms>.<random>`, HMAC-signed with a key made from the admin token. */
export const SESSION_COOKIE = 'socorrito_session';
/** The login form's double-submit CSRF cookie, valid for the login form only. */
export const LOGIN_CSRF_COOKIE = 'socorrito_login';
export const LOGIN_CSRF_MAX_AGE_S = 60 * 60;
/** Methods that change nothing, so need no CSRF check. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthOptions {
  /** The admin token (DESIGN.md): it may do everything. */
  token: string;
  /** A token that may read every page and the API and change nothing; logging in with it too. */
  viewerToken?: string;
  /** How long a login lasts. */
  sessionMs: number;
  /** Mark cookies `Secure` even when the request reached us over http (TLS ends at a proxy). */
  secureCookies?: boolean;
  /** Believe a proxy's `X-Forwarded-Proto: https` when deciding whether cookies are `Secure`. */
  trustProxy?: ProxyTrust;
  now?: () => Date;
  /**
   * Where sessions ended by logging out are kept until they would have expired, so a copy of
   * the cookie stops working too, across restarts. Without it, only in memory.
   */
  endedFile?: string;
}

/**
 * Who a request is: `admin` may do everything; `viewer` (the viewer token, or a session logged in
 * with it) may read everything and change nothing; `upload` may upload source maps and reprocess
 * but read no crash.
 */
export type Role = 'admin' | 'viewer' | 'upload';

/** What the auth middleware puts on the context for pages: the token forms must echo back, and the role. */
export type AuthVariables = { csrfToken: string | null; role?: Role; uploadApp?: string };

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  // Digests of both, so the time taken says nothing of the secret's length either.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The token from `Authorization: Bearer <token>`, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

function hmac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/**
 * Sessions signed with a key derived from the admin token: changing the token logs everyone
 * out, and nothing needs to be stored on the server.
 */
export class Sessions {
  readonly #key: string;
  /**
   * A viewer session ends in `.v<tag>`, the tag made from the viewer token: changing or removing
   * that token ends every viewer session, as changing the admin token ends all of them.
   */
  readonly #viewerTag: string | null;
  readonly #options: AuthOptions;
  /** Sessions logged out of, with when they would have expired. */
  readonly #ended = new Map<string, number>();

  constructor(options: AuthOptions) {
    this.#options = options;
    this.#key = hmac(options.token, 'socorrito session key v1');
    this.#viewerTag = options.viewerToken ? `v${hmac(this.#key, `viewer ${options.viewerToken}`).slice(0, 16)}` : null;
    if (options.endedFile) {
      try {
        const saved = JSON.parse(readFileSync(options.endedFile, 'utf8')) as unknown;
        if (Array.isArray(saved)) for (const s of saved) if (typeof s === 'string') this.#ended.set(s, Number(s.split('.')[0]));
      } catch {
        // None yet, or unreadable: sessions logged out of before are then valid until they expire.
      }
    }
  }

  #now(): number {
    return (this.#options.now?.() ?? new Date()).getTime();
  }

  /** Whether a viewer token may log in too. */
  get viewerTokenSet(): boolean {
    return this.#options.viewerToken !== undefined;
  }

  /** Whom a token is for: the admin token, the viewer token, or neither (null). */
  roleOf(given: string): 'admin' | 'viewer' | null {
    if (sameSecret(given, this.#options.token)) return 'admin';
    if (this.#options.viewerToken && sameSecret(given, this.#options.viewerToken)) return 'viewer';
    return null;
  }


  /** The role of a session `current()` returned. */
  sessionRole(session: string): 'admin' | 'viewer' {
    return session.split('.').length > 2 ? 'viewer' : 'admin';
  }

  /** Sets a new session cookie on the response, for the role the token given at login had. */
  async start(c: Context, role: 'admin' | 'viewer' = 'admin'): Promise<void> {
    const expires = this.#now() + this.#options.sessionMs;
    const tag = role === 'viewer' ? this.#viewerTag : null;
    if (role === 'viewer' && !tag) throw new Error('no viewer token is set');
    await setSignedCookie(c, SESSION_COOKIE, `${expires}.${randomBytes(12).toString('base64url')}${tag ? `.${tag}` : ''}`, this.#key, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: this.secure(c),
      path: cookiePath(c),
      maxAge: Math.floor(this.#options.sessionMs / 1000),
    });
  }

  /** A `Cookie` header value holding a session that ends at `expiresAt` (ms), for tests and scripts. */
  async cookieFor(expiresAt: number): Promise<string> {
    const cookie = await serializeSigned(SESSION_COOKIE, `${expiresAt}.${randomBytes(12).toString('base64url')}`, this.#key);
    return cookie.split(';')[0]!;
  }

  /** Logs out: the cookie is deleted, and the session refused from now on, in any copy of it. */
  async end(c: Context): Promise<void> {
    const session = await this.current(c);
    if (session) {
      const now = this.#now();
      for (const [s, expires] of this.#ended) if (!(expires > now)) this.#ended.delete(s);
      this.#ended.set(session, Number(session.split('.')[0]));
      if (this.#options.endedFile) {
        const temp = `${this.#options.endedFile}.${randomBytes(4).toString('hex')}.tmp`;
        await writeFile(temp, JSON.stringify([...this.#ended.keys()]), { mode: 0o600 });
        await rename(temp, this.#options.endedFile);
      }
    }
    deleteCookie(c, SESSION_COOKIE, { path: cookiePath(c), secure: this.secure(c), httpOnly: true, sameSite: 'Strict' });
  }

  /** Whether cookies get the `Secure` attribute: https requests (as a trusted proxy says), or a public https URL. */
  secure(c: Context): boolean {
    if (this.#options.secureCookies === true || isHttps(c)) return true;
    return believesForwarded(c, this.#options.trustProxy) && firstValue(c.req.header('x-forwarded-proto'))?.toLowerCase() === 'https';
  }

  /** The session's value when the request carries a valid, unexpired session cookie. */
  async current(c: Context): Promise<string | null> {
    const value = await getSignedCookie(c, this.#key, SESSION_COOKIE);
    if (!value) return null;
    const [expiresText, , tag, ...rest] = value.split('.');
    const expires = Number(expiresText);
    if (rest.length || (tag !== undefined && tag !== this.#viewerTag)) return null;
    return Number.isFinite(expires) && expires > this.#now() && !this.#ended.has(value) ? value : null;
  }

  /** The CSRF token of a session: forms that change state send it back. */
  csrfToken(session: string): string {
    return hmac(this.#key, `csrf ${session}`);
  }
}

/**
 * The session cookie's Path: the `--public-url` path (`/crashes`, which also covers `/crashes/…`),
 * so other tools behind the same proxy never see it; `/` without one.
 */
function cookiePath(c: Context): string {
  return under(c, '') || '/';
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

/** Where our pages may be served from, besides the address a request names itself (its `Host`). */
export interface OriginOptions {
  /** The origin of `--public-url`. */
  publicOrigin?: string;
  /**
   * `--trust-proxy`: believe `X-Forwarded-Proto` and `X-Forwarded-Host`, which a TLS-terminating
   * proxy sets to what the browser used (from a named proxy only, when it names them). Without
   * it anyone could claim any origin with them.
   */
  trustProxy?: ProxyTrust;
}

/** `host` or `host:port`, a bracketed IPv6 address included; nothing a URL could read a path from. */
const HOST_PATTERN = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The origin the browser used, as a proxy reports it: `X-Forwarded-Proto` and
 * `X-Forwarded-Host` (first value of each; each falls back to how the request reached us).
 *
 * @example
 *   // X-Forwarded-Proto: https, Host: crashes.example.com
 *   forwardedOrigin(c) // 'https://crashes.example.com'
 */
export function forwardedOrigin(c: Context): string | null {
  const proto = firstValue(c.req.header('x-forwarded-proto'))?.toLowerCase() ?? new URL(c.req.url).protocol.slice(0, -1);
  const host = requestedHost(c, true);
  if ((proto !== 'http' && proto !== 'https') || !HOST_PATTERN.test(host)) return null;
  return URL.parse(`${proto}://${host}`)?.origin ?? null;
}

/**
 * True when a state-changing request comes from our own pages: its `Origin` (or, without one,
 * `Sec-Fetch-Site`) says same-origin. Browsers send at least one of them on every POST.
 */
export function sameOriginRequest(c: Context, options: OriginOptions = {}): boolean {
  const origin = c.req.header('origin');
  if (origin) {
    return (
      origin === new URL(c.req.url).origin ||
      (options.publicOrigin !== undefined && origin === options.publicOrigin) ||
      (believesForwarded(c, options.trustProxy) && origin === forwardedOrigin(c))
    );
  }
  const site = c.req.header('sec-fetch-site');
  return site === 'same-origin' || site === 'none';
}

/**
 * What to do about a request `sameOriginRequest` refused, when its `Origin` names our own host
 * (the `Host` or `X-Forwarded-Host` it came with) with another scheme or port: the receiver
 * does not know the address people browse to, as behind a TLS-terminating proxy. Otherwise null.
 */
export function originAdvice(c: Context, options: OriginOptions = {}): string | null {
  const origin = URL.parse(c.req.header('origin') ?? '');
  if (!origin) return null;
  const hosts = [new URL(c.req.url).hostname, URL.parse(`http://${requestedHost(c, true)}`)?.hostname];
  if (!hosts.includes(origin.hostname)) return null;
  if (options.trustProxy instanceof TrustedProxies && !believesForwarded(c, options.trustProxy)) {
    // The proxy's own address is not told to whoever opened the page.
    return 'The request did not come from a proxy --trust-proxy names, so its X-Forwarded-Proto and X-Forwarded-Host were not believed. Add the address the proxy connects from to --trust-proxy (or set --public-url).';
  }
  return (
    `This page was opened at ${origin.origin}, but the receiver takes its address to be ${options.publicOrigin ?? new URL(c.req.url).origin}. ` +
    'Set --public-url to the address users browse to (or --trust-proxy behind a proxy that sets X-Forwarded-Proto).'
  );
}

export interface RequireAuthOptions extends OriginOptions {
  sessions: Sessions;
  /**
   * A second, narrower token for build machines: it may upload and list source maps and ask
   * for reprocessing, nothing else (no crash data, no settings).
   */
  uploadToken?: string;
  /** Upload tokens tied to one app (see app-tokens.ts): the upload token's scope, for that app only. */
  appTokens?: { appOf(token: string): string | null };
  /** Wrong tokens one client may send per minute before every token it sends is answered 429 (as logins are limited). */
  wrongTokensPerMinute?: number;
}

/** Wrong `Authorization: Bearer` tokens one client may send a minute: guessing a weak token stays slow. */
export const WRONG_TOKENS_PER_MINUTE = 30;

/** What the upload token may do: `METHOD path`. */
const UPLOAD_SCOPE = new Set(['POST /api/sourcemaps', 'GET /api/sourcemaps', 'POST /api/reprocess']);

const READ_ONLY = 'the viewer token may only read; changes need the admin token';

/**
 * Lets a request through with a valid `Authorization: Bearer <token>` or session cookie: the
 * admin token's for anything, the viewer token's for reading only (403 otherwise, logout aside),
 * the upload token's for its UPLOAD_SCOPE. Without one, `/api/*` answers 401 JSON and pages
 * redirect to `/login?next=…`. A cookie only counts for a state-changing request that comes from
 * our own origin (CSRF).
 */
export function requireAuth(options: RequireAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const { sessions } = options;
  const wrongTokens = new RateLimiter(options.wrongTokensPerMinute ?? WRONG_TOKENS_PER_MINUTE);
  return async function auth(c, next) {
    const isApi = c.req.path === '/api' || c.req.path.startsWith('/api/');
    // Another scheme (a proxy's Basic auth passed through) is not ours to judge: the session decides.
    const header = c.req.header('authorization');
    if (header !== undefined && /^\s*bearer\b/i.test(header)) {
      // A client that sent too many wrong tokens is told to wait whatever it sends now: answering
      // a right one would tell a guesser it found it.
      const client = clientAddress(c, options.trustProxy);
      const waitSeconds = wrongTokens.wait(client);
      if (waitSeconds) {
        return c.json({ error: 'too_many_wrong_tokens', message: `too many wrong tokens from this address; try again in ${waitSeconds} s` }, 429, {
          'retry-after': String(waitSeconds),
        });
      }
      const given = bearerToken(header);
      const upload = given ? uploadTokenOf(given, options) : undefined;
      if (upload !== undefined) {
        if (!UPLOAD_SCOPE.has(`${c.req.method} ${c.req.path}`)) {
          if (opensPage(c, isApi)) return uploadTokenPage(c, upload.app);
          const message = upload.app
            ? `this upload token may only upload source maps of app ${upload.app} and reprocess its crashes`
            : 'the upload token may only upload source maps and reprocess; use the admin token';
          return c.json({ error: 'forbidden', message }, 403);
        }
        c.set('csrfToken', null);
        c.set('role', 'upload');
        if (upload.app) c.set('uploadApp', upload.app);
        return next();
      }
      const role = given ? sessions.roleOf(given) : null;
      if (!role) {
        wrongTokens.take(client);
        return unauthorized(c, isApi, 'wrong or malformed Authorization header');
      }
      if (role === 'viewer' && !SAFE_METHODS.has(c.req.method)) return c.json({ error: 'forbidden', message: READ_ONLY }, 403);
      c.set('csrfToken', null);
      c.set('role', role);
      return next();
    }
    const session = await sessions.current(c);
    if (session) {
      if (!SAFE_METHODS.has(c.req.method) && !sameOriginRequest(c, options)) {
        const advice = originAdvice(c, options);
        const message = advice ? `cross-site request refused. ${advice}` : 'cross-site request refused';
        if (!isApi) return problemPage(c, 403, 'Cross-site request refused', [message]);
        return c.json({ error: 'csrf', message }, 403);
      }
      const role = sessions.sessionRole(session);
      // A viewer may still log out.
      if (role === 'viewer' && !SAFE_METHODS.has(c.req.method) && c.req.path !== '/logout') {
        if (!isApi) return problemPage(c, 403, 'Read only', [`You are logged in with the viewer token: ${READ_ONLY}.`]);
        return c.json({ error: 'forbidden', message: READ_ONLY }, 403);
      }
      c.set('csrfToken', sessions.csrfToken(session));
      c.set('role', role);
      return next();
    }
    if (!isApi && SAFE_METHODS.has(c.req.method)) {
      const url = new URL(c.req.url);
      return c.redirect(under(c, `/login?next=${encodeURIComponent(url.pathname + url.search)}`), 302);
    }
    // A crash sent to a wrong address (//submit, /SUBMIT) is no matter of logging in: a client
    // told "401, log in" would think submissions need a token.
    if (!isApi && c.req.method === 'POST' && /^\s*multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) {
      return c.text(`Discarded=wrong_path: crashes are submitted with POST to ${under(c, '/submit')}, not to ${JSON.stringify(c.req.path.slice(0, 100))}\n`, 404, {
        'access-control-allow-origin': '*',
      });
    }
    return unauthorized(c, isApi, `log in at ${under(c, '/login')} or send Authorization: Bearer <admin token> (or the viewer token, to read)`);
  };
}

/** A page opened (GET, HEAD), not an API call: whoever opens one reads the answer in a browser. */
function opensPage(c: Context, isApi: boolean): boolean {
  return !isApi && (c.req.method === 'GET' || c.req.method === 'HEAD');
}

/**
 * Whether `token` is an upload token: `app` is the app of a per-app token, null for
 * --upload-token's; undefined when it is neither.
 */
export function uploadTokenOf(token: string, options: Pick<RequireAuthOptions, 'uploadToken' | 'appTokens'>): { app: string | null } | undefined {
  if (options.uploadToken && sameSecret(token, options.uploadToken)) return { app: null };
  const app = options.appTokens?.appOf(token) ?? null;
  return app ? { app } : undefined;
}

/**
 * An upload token sent to open a page (a header extension set to a CI token, say): a person is
 * told, as a page, what the token is for and how to read crashes instead. `app` is the app of a
 * per-app token, null for --upload-token's.
 */
function uploadTokenPage(c: Context, app: string | null): Response | Promise<Response> {
  const what = app
    ? `The token sent is an upload token of the app ${app}: it may only upload source maps of that app and ask for its crashes to be reprocessed`
    : 'The token sent is the upload token (--upload-token): it may only upload source maps and ask for crashes to be reprocessed';
  return problemPage(c, 403, 'This token only uploads source maps', [
    `${what} (socorrito upload-sourcemaps, POST ${under(c, '/api/sourcemaps')}); it opens no page.`,
    `To read crashes, log in at ${under(c, '/login')} with the admin token or the viewer token, or send one of those as Authorization: Bearer instead.`,
  ]);
}

function unauthorized(c: Context, isApi: boolean, message: string): Response {
  const headers = { 'WWW-Authenticate': 'Bearer realm="socorrito"' };
  if (isApi) return c.json({ error: 'unauthorized', message }, 401, headers);
  return c.text(`401 Unauthorized: ${message}\n`, 401, headers);
}

/**
 * Where to go after logging in: only a path on this site, never `//evil.example`. Browsers drop
 * tabs and line breaks from a URL and read `\` as `/`, so `/<TAB>/evil.example` is off-site too:
 * anything with control characters or whitespace is refused, and the rest must stay on this
 * origin when read the way a browser reads it, and still start with one slash once its dot
 * segments are resolved.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || /[\u0000-\u0020\u007f\\]/.test(next)) return '/';
  const here = 'http://socorrito.invalid';
  let url: URL;
  try {
    url = new URL(next, here);
  } catch {
    return '/';
  }
  if (url.origin !== here) return '/';
  // Dot segments resolve away: `/.//evil.example` becomes `//evil.example`, off-site again.
  const path = url.pathname.replace(/^\/+/, '/');
  return `${path}${url.search}${url.hash}`;
}

/**
 * The double-submit token for the login form, set as a cookie scoped to /login. An existing one
 * is kept, so two login tabs (or a stray request that lands on /login) do not spoil each other.
 */
export function issueLoginCsrf(c: Context, secure: boolean): string {
  const existing = getCookie(c, LOGIN_CSRF_COOKIE);
  const value = existing && /^[A-Za-z0-9_-]{24}$/.test(existing) ? existing : randomBytes(18).toString('base64url');
  setCookie(c, LOGIN_CSRF_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    path: under(c, '/login'),
    maxAge: LOGIN_CSRF_MAX_AGE_S,
  });
  return value;
}

/** True when the login form's hidden token matches its cookie. */
export function checkLoginCsrf(c: Context, fromForm: string | undefined): boolean {
  const fromCookie = getCookie(c, LOGIN_CSRF_COOKIE);
  return Boolean(fromCookie && fromForm && sameSecret(fromCookie, fromForm));
}
