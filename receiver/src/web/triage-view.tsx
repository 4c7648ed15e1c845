import { type CarriedFrom, MAX_BUG_URL_CHARS, type SignatureStatus } from '../triage/signature-status.ts';
import { MAX_NOTE_CHARS } from '../triage/status-input.ts';
import { formatTime } from './format.ts';
import { link } from './links.ts';
import { Time } from './time.tsx';

/** A row's badge in top crashers: resolved, ignored or regressed; nothing for an open signature. */
export function StatusBadge(props: { status: string; regressed_at: string | null }) {
  if (props.status === 'resolved') return <span class="badge resolved" title="resolved: a new crash reopens it">resolved</span>;
  if (props.status === 'ignored') return <span class="badge ignored" title="ignored: hidden by default, never alerts">ignored</span>;
  if (props.regressed_at) return <span class="badge regressed" title={`resolved, then crashed again at ${formatTime(props.regressed_at)}`}>regressed</span>;
  return null;
}

/**
 * A bug link's short name for lists: `#12` for a GitHub, GitLab or Gitea issue or pull request,
 * `bug 7` for Bugzilla, the key for Jira and Linear (`APP-12`), else the host.
 *
 * @example bugLabel('https://github.com/shop/web/issues/12') // '#12'
 */
export function bugLabel(url: string): string {
  const u = URL.parse(url);
  if (!u) return url.slice(0, 40);
  const issue = /\/(?:issues|pull|merge_requests)\/(\d+)\/?$/.exec(u.pathname);
  if (issue) return `#${issue[1]}`;
  const bugzilla = /\/show_bug\.cgi$/.test(u.pathname) ? u.searchParams.get('id') : null;
  if (bugzilla && /^\d+$/.test(bugzilla)) return `bug ${bugzilla}`;
  const key = /\/(?:browse|issue)\/([A-Z][A-Z0-9_]*-\d+)(?:\/|$)/.exec(u.pathname);
  if (key) return key[1]!;
  return u.host;
}

/** A row's bug links in top crashers. */
export function BugLinks(props: { bugs: string[] }) {
  return (
    <>
      {props.bugs.map((url) => (
        <>
          {' '}
          <a class="bug" href={url} title={url} rel="noopener noreferrer">
            {/* "#12" alone does not say what it is. */}
            <span class="vh">filed as </span>
            {bugLabel(url)}
          </a>
        </>
      ))}
    </>
  );
}

function describe(entry: SignatureStatus | null, ignoredByDefault: string | null): string {
  if (!entry) return ignoredByDefault ? `Ignored by default: ${ignoredByDefault}` : 'Open';
  if (entry.status === 'resolved') {
    const how = entry.by_version != null ? ` in the next release after ${entry.by_version || '(no version)'}` : '';
    return `Resolved${how} at ${formatTime(entry.at)}`;
  }
  if (entry.status === 'ignored') return `Ignored since ${formatTime(entry.at)}`;
  // Reopened by hand, or a note kept with an open signature.
  if (!entry.regressed_at) return 'Open';
  return `Regressed at ${formatTime(entry.regressed_at)}${entry.resolved_at ? ` (resolved at ${formatTime(entry.resolved_at)})` : ''}`;
}

/** The id of the signature page's status section, which its forms return to (`#triage`). */
export const TRIAGE_SECTION_ID = 'triage';

/** The status buttons, each left out when the signature already has the status it leads to. */
const BUTTONS: { value: string; label: string; shownUnless: string; hint?: string }[] = [
  { value: 'resolved', label: 'Resolve', shownUnless: 'resolved' },
  { value: 'resolved_next_release', label: 'Resolve in next release', shownUnless: 'resolved', hint: 'only crashes from a version not seen so far reopen it' },
  { value: 'ignored', label: 'Ignore', shownUnless: 'ignored' },
  { value: 'open', label: 'Reopen', shownUnless: 'open' },
];

/**
 * The signature page's status line and its buttons: one POST form, each button a status, with
 * the session's CSRF token (as the logout form) and the page to come back to.
 */
export function StatusPanel(props: {
  signatureId: string;
  entry: SignatureStatus | null;
  /** Why it is ignored though nobody triaged it (see ignoredByDefault), or null. */
  ignoredByDefault: string | null;
  /** Bug or issue links filed for it. */
  bugs: string[];
  /** The signature its state came from when reprocessing regrouped that one's crashes under it. */
  carriedFrom?: CarriedFrom | null;
  csrfToken: string | null;
  back: string;
  readOnly?: boolean;
}) {
  const canEdit = !props.readOnly && props.csrfToken !== null;
  const bugsAction = link(`/signatures/${encodeURIComponent(props.signatureId)}/bugs`);
  const status = props.entry?.status ?? (props.ignoredByDefault ? 'ignored' : 'open');
  return (
    // A form's answer comes back to #triage, and the browser focuses the section (tabindex -1): a
    // keyboard user's next Tab is in its form again, and a screen reader says the status it now has.
    <section
      id={TRIAGE_SECTION_ID}
      class={`triage ${props.entry?.regressed_at ? 'regressed' : status}`}
      tabindex={-1}
      aria-label="Status"
      aria-describedby="triage-status"
    >
      <p id="triage-status">
        <strong class="status">{describe(props.entry, props.ignoredByDefault)}</strong>
        {props.entry?.note && <span class="muted"> — {props.entry.note}</span>}
      </p>
      {props.carriedFrom && (
        // Says why a signature nobody triaged has a status (and bugs): the same bug under its old name.
        <p class="muted">
          Carried over from{' '}
          <a href={link(`/signatures/${encodeURIComponent(props.carriedFrom.signature_id)}`)}>{props.carriedFrom.signature}</a> on <Time iso={props.carriedFrom.at} />,
          when reprocessing moved its crashes to this signature.
        </p>
      )}
      {props.readOnly ? (
        <p class="muted">You are logged in with the viewer token, which reads only: changing the status needs the admin token.</p>
      ) : props.csrfToken === null ? (
        // Without a session (a Bearer token) there is no CSRF token, and a form would be refused.
        <p class="muted">
          To change it, log in, or use <code>{`PUT /api/signatures/${props.signatureId}/status`}</code>.
        </p>
      ) : (
        <form method="post" action={link(`/signatures/${encodeURIComponent(props.signatureId)}/status`)} class="filters">
          <input type="hidden" name="csrf" value={props.csrfToken} />
          <input type="hidden" name="next" value={props.back} />
          <label>
            Note
            <input type="text" name="note" maxlength={MAX_NOTE_CHARS} value={props.entry?.note ?? ''} />
          </label>
          {/* First, so Enter in the note saves it rather than pressing a status button. */}
          <button type="submit" name="status" value="keep" title="keep the status, change the note">
            Save note
          </button>
          {BUTTONS.filter((b) => b.shownUnless !== status).map((b) => (
            <button type="submit" name="status" value={b.value} aria-describedby={b.hint ? `hint-${b.value}` : undefined}>
              {b.label}
            </button>
          ))}
        </form>
      )}
      {/* Shown, not in a title that touch and keyboard users never see. */}
      {canEdit &&
        BUTTONS.filter((b) => b.hint && b.shownUnless !== status).map((b) => (
          <p class="muted hint" id={`hint-${b.value}`}>
            {`${b.label}: ${b.hint}.`}
          </p>
        ))}
      <div class="bugs">
        <strong>Bugs</strong>
        {props.bugs.length === 0 && <span class="muted"> none filed</span>}
        {canEdit ? (
          <>
            {/* A form per link to remove, apart from the one to add: Enter in the field adds, never removes. */}
            <ul>
              {props.bugs.map((url) => (
                <li>
                  <a href={url} rel="noopener noreferrer">
                    {url}
                  </a>{' '}
                  <form method="post" action={bugsAction} class="inline">
                    <input type="hidden" name="csrf" value={props.csrfToken!} />
                    <input type="hidden" name="next" value={props.back} />
                    {/* Each says which link it removes. */}
                    <button type="submit" name="remove" value={url} aria-label={`Remove ${bugLabel(url)}`}>
                      Remove
                    </button>
                  </form>
                </li>
              ))}
            </ul>
            <form method="post" action={bugsAction} class="filters">
              <input type="hidden" name="csrf" value={props.csrfToken!} />
              <input type="hidden" name="next" value={props.back} />
              <label>
                Link a bug or issue
                <input type="url" name="add" maxlength={MAX_BUG_URL_CHARS} placeholder="https://github.com/you/app/issues/12" />
              </label>
              <button type="submit">Add bug</button>
            </form>
          </>
        ) : (
          <ul>
            {props.bugs.map((url) => (
              <li>
                <a href={url} rel="noopener noreferrer">
                  {url}
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
