import { type Context, Hono } from 'hono';
import { RateLimiter } from '../collector/rate-limit.ts';
import { clientAddress } from '../proxy.ts';
import { deleteCookie } from 'hono/cookie';
import {
  type AuthVariables,
  checkLoginCsrf,
  issueLoginCsrf,
  LOGIN_CSRF_COOKIE,
  originAdvice,
  type OriginOptions,
  type RequireAuthOptions,
  safeNext,
  sameOriginRequest,
  type Sessions,
  uploadTokenOf,
} from './auth.ts';
import { htmlPage, Layout } from './layout.tsx';
import { LoginPage } from './login-page.tsx';
import { under } from './links.ts';

/** Login attempts one client address may make per minute (guessing a weak token stays slow). */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

export interface LoginOptions extends OriginOptions, Pick<RequireAuthOptions, 'uploadToken' | 'appTokens'> {
  sessions: Sessions;
  attemptsPerMinute?: number;
}

/**
 * `GET/POST /login` (no session needed) and `POST /logout` (needs one: mount it behind the
 * auth middleware, which also checks its origin; the form's CSRF token is checked here).
 */
export function loginRoutes(options: LoginOptions): { open: Hono; guarded: Hono<{ Variables: AuthVariables }> } {
  const { sessions } = options;
  const open = new Hono();
  const attempts = new RateLimiter(options.attemptsPerMinute ?? LOGIN_ATTEMPTS_PER_MINUTE);
  const form = (c: Context, next: string, error: string | null, status: number): Promise<Response> =>
    htmlPage(
      c,
      <Layout title="Log in" csrfToken={null} nav={false}>
        <LoginPage csrf={issueLoginCsrf(c, sessions.secure(c))} next={next} error={error} viewerTokenSet={sessions.viewerTokenSet} />
      </Layout>,
      status,
    );

  open.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await sessions.current(c)) return c.redirect(under(c, next), 303);
    return form(c, next, null, 200);
  });

  open.post('/login', async (c) => {
    const wait = attempts.take(clientAddress(c, options.trustProxy));
    if (wait) {
      c.header('Retry-After', String(wait));
      return form(c, '/', `Too many login attempts; try again in ${wait} s.`, 429);
    }
    const body = await c.req.parseBody();
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined);
    const fromUs = sameOriginRequest(c, options);
    if (!fromUs || !checkLoginCsrf(c, typeof body.csrf === 'string' ? body.csrf : undefined)) {
      const advice = fromUs ? null : originAdvice(c, options);
      return form(c, next, advice ?? 'The form expired or came from another site. Please try again.', 403);
    }
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const role = token ? sessions.roleOf(token) : null;
    if (!role) {
      const tokens = sessions.viewerTokenSet ? 'the admin token or the viewer token' : 'the admin token';
      // An upload token pasted from the build machine's settings: say what it is, not just "wrong".
      const upload = token ? uploadTokenOf(token, options) : undefined;
      if (upload) {
        const which = upload.app ? `an upload token of the app ${upload.app}` : 'the upload token (--upload-token)';
        return form(c, next, `That is ${which}: it only uploads source maps and asks for reprocessing, and opens no page. Log in with ${tokens}.`, 401);
      }
      return form(c, next, sessions.viewerTokenSet ? 'That is neither the admin token nor the viewer token.' : 'That is not the admin token.', 401);
    }
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: under(c, '/login'), secure: sessions.secure(c), httpOnly: true, sameSite: 'Strict' });
    await sessions.start(c, role);
    return c.redirect(under(c, next), 303);
  });

  const guarded = new Hono<{ Variables: AuthVariables }>();
  guarded.post('/logout', async (c) => {
    const body = await c.req.parseBody();
    const expected = c.get('csrfToken');
    // Bearer clients have no session to end; cookie clients must echo the form's token.
    if (expected !== null && body.csrf !== expected) return c.json({ error: 'csrf', message: 'missing or wrong CSRF token' }, 403);
    await sessions.end(c);
    return c.redirect(under(c, '/login'), 303);
  });
  return { open, guarded };
}
