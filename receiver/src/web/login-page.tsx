import { link } from './links.ts';

/** `/login`: the admin token (or the viewer token) in a form; a hidden double-submit token guards against login CSRF. */
export function LoginPage(props: { csrf: string; next: string; error: string | null; viewerTokenSet?: boolean }) {
  return (
    <section class="login">
      <h1>Log in</h1>
      <p class="muted">
        Enter the receiver's admin token (<code>SOCORRITO_ADMIN_TOKEN</code>, or the one printed at start and kept in{' '}
        <code>&lt;data-dir&gt;/admin-token</code>)
        {props.viewerTokenSet ? ', or the viewer token you were given, to read the reports without changing anything.' : '.'}
      </p>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      <form method="post" action={link('/login')}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label>
          {props.viewerTokenSet ? 'Token' : 'Admin token'}
          <input type="password" name="token" autocomplete="current-password" required autofocus />
        </label>
        <button class="primary" type="submit">
          Log in
        </button>
      </form>
    </section>
  );
}
