import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AuthVariables } from './auth.ts';
import { html } from 'hono/html';
import { BasePath, link } from './links.ts';
import { STYLESHEET_PATH } from './static.ts';
import { INVISIBLE, showInvisible } from '../../../shared/src/visible.ts';

export interface LayoutProps {
  title: string;
  /** The session's CSRF token for the logout form; null when there is no session (Bearer, login page). */
  csrfToken: string | null;
  /** Logged in with the viewer token: the top bar says the pages are read only. */
  readOnly?: boolean;
  /** The top bar's Apps and Search links; left out on the login page, where they lead back to it. */
  nav?: boolean;
  children?: Child;
}

/** The page frame: head, top bar (apps, search, log out), and the page. */
export function Layout(props: LayoutProps) {
  return html`<!DOCTYPE html>${(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        {/* Dark before the stylesheet arrives, for a reader who asked for dark. */}
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Socorrito`}</title>
        <link rel="stylesheet" href={link(STYLESHEET_PATH)} />
        {/* No favicon request (it would need a session). */}
        <link rel="icon" href="data:," />
      </head>
      <body>
        {/* For the keyboard: past the top bar's links in one step (shown when focused). */}
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={link('/')}>Socorrito</a>
          {props.nav !== false && (
            <>
              <a href={link('/')}>Apps</a>
              <a href={link('/search')}>Search</a>
            </>
          )}
          {props.readOnly && <span class="muted" title="logged in with the viewer token">read only</span>}
          {props.csrfToken !== null && (
            <form method="post" action={link('/logout')}>
              <input type="hidden" name="csrf" value={props.csrfToken} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  )}`;
}

/** Previous / next links keeping the other query parameters; lists are newest first unless `labels` say otherwise. */
export function Pager(props: { page: number; pages: number; link: (page: number) => string; labels?: [previous: string, next: string] }) {
  if (props.pages <= 1) return null;
  const [previous, next] = props.labels ?? ['← newer', 'older →'];
  return (
    <nav class="pager" aria-label="pages">
      {props.page > 1 ? <a href={props.link(props.page - 1)} rel="prev">{previous}</a> : <span class="muted">{previous}</span>}
      <span>
        page {props.page} of {props.pages}
      </span>
      {props.page < props.pages ? <a href={props.link(props.page + 1)} rel="next">{next}</a> : <span class="muted">{next}</span>}
    </nav>
  );
}

type PageEnv = { Variables: AuthVariables };

/** A report page in the layout, with the session's CSRF token for its forms. */
export function page(c: Context<PageEnv>, title: string, body: Child, status = 200): Promise<Response> {
  return htmlPage(
    c,
    <Layout title={title} csrfToken={c.get('csrfToken') ?? null} readOnly={c.get('role') === 'viewer'}>
      {body}
    </Layout>,
    status,
  );
}

/** What a form sends back: a `value` attribute, or the text of a textarea (both escaped, so without `"` or `<`). */
const FORM_VALUE = /(\svalue="[^"]*"|<textarea\b[^>]*>[^<]*<\/textarea>)/;

/**
 * Makes the characters that reorder or hide text visible in a rendered page. In form values
 * they become character references instead: the browser turns those back into the characters,
 * so a version or a note that has one is sent back as it is, not as the text `[U+202E]`.
 */
function showInvisibleInPage(html: string): string {
  return html
    .split(FORM_VALUE)
    .map((piece, i) => (i % 2 === 0 ? showInvisible(piece) : piece.replace(INVISIBLE, (ch) => `&#x${ch.charCodeAt(0).toString(16)};`)))
    .join('');
}

/**
 * Renders a page and answers it, with characters that reorder or hide text made visible. Its
 * links (`link()`) are under the request's `--public-url` path.
 */
export async function htmlPage(c: Context, markup: Child, status = 200): Promise<Response> {
  return c.html(showInvisibleInPage(await renderMarkup(markup, c.get('basePath') ?? '')), status as 200);
}

/** Renders markup with its links under `basePath`: a string, or a promise of one when a component is async. */
export function renderMarkup(markup: Child, basePath = ''): string | Promise<string> {
  const page = <BasePath.Provider value={basePath}>{markup}</BasePath.Provider>;
  return (page as unknown as { toString(): string | Promise<string> }).toString();
}

/** What went wrong, and the way back. */
function Problem(props: { title: string; lines: string[] }) {
  return (
    <>
      <h1>{props.title}</h1>
      <div class="error" role="alert">
        {props.lines.map((l) => (
          <div>{l}</div>
        ))}
      </div>
      <p>
        <a href={link('/')}>Back to the apps</a>
      </p>
    </>
  );
}

/** An HTML page saying what went wrong, for people (the API answers JSON). */
export function problemPage(c: Context<PageEnv>, status: 400 | 403 | 404 | 503, title: string, lines: string[]): Response | Promise<Response> {
  return page(c, title, <Problem title={title} lines={lines} />, status);
}
