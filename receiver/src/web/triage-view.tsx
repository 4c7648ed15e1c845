import type { SignatureStatus } from '../triage/signature-status.ts';
import { MAX_NOTE_CHARS } from '../triage/status-input.ts';
import { formatTime } from './format.ts';

/** A row's badge in top crashers: resolved, ignored or regressed; nothing for an open signature. */
export function StatusBadge(props: { status: string; regressed_at: string | null }) {
  if (props.status === 'resolved') return <span class="badge resolved" title="resolved: a new crash reopens it">resolved</span>;
  if (props.status === 'ignored') return <span class="badge ignored" title="ignored: hidden by default, never alerts">ignored</span>;
  if (props.regressed_at) return <span class="badge regressed" title={`resolved, then crashed again at ${formatTime(props.regressed_at)}`}>regressed</span>;
  return null;
}

function describe(entry: SignatureStatus | null, ignoredByDefault: string | null): string {
  if (!entry) return ignoredByDefault ? `Ignored by default: ${ignoredByDefault}` : 'Open';
  if (entry.status === 'resolved') {
    const how = entry.by_version != null ? ` in the next release after ${entry.by_version || '(no version)'}` : '';
    return `Resolved${how} at ${formatTime(entry.at)}`;
  }
  if (entry.status === 'ignored') return `Ignored since ${formatTime(entry.at)}`;
  if (!entry.regressed_at) return `Open (reopened at ${formatTime(entry.at)})`;
  return `Regressed at ${formatTime(entry.regressed_at)}${entry.resolved_at ? ` (resolved at ${formatTime(entry.resolved_at)})` : ''}`;
}

/** The status buttons, each left out when the signature already has the status it leads to. */
const BUTTONS: { value: string; label: string; shownUnless: string; title?: string }[] = [
  { value: 'resolved', label: 'Resolve', shownUnless: 'resolved' },
  { value: 'resolved_next_release', label: 'Resolve in next release', shownUnless: 'resolved', title: 'only crashes from a version not seen so far reopen it' },
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
  csrfToken: string | null;
  back: string;
  readOnly?: boolean;
}) {
  const status = props.entry?.status ?? (props.ignoredByDefault ? 'ignored' : 'open');
  return (
    <section class={`triage ${props.entry?.regressed_at ? 'regressed' : status}`}>
      <p>
        <strong class="status">{describe(props.entry, props.ignoredByDefault)}</strong>
        {props.entry?.note && <span class="muted"> — {props.entry.note}</span>}
      </p>
      {props.readOnly ? (
        <p class="muted">You are logged in with the viewer token, which reads only: changing the status needs the admin token.</p>
      ) : props.csrfToken === null ? (
        // Without a session (a Bearer token) there is no CSRF token, and a form would be refused.
        <p class="muted">
          To change it, log in, or use <code>{`PUT /api/signatures/${props.signatureId}/status`}</code>.
        </p>
      ) : (
        <form method="post" action={`/signatures/${encodeURIComponent(props.signatureId)}/status`} class="filters">
          <input type="hidden" name="csrf" value={props.csrfToken} />
          <input type="hidden" name="next" value={props.back} />
          <label>
            Note
            <input type="text" name="note" maxlength={MAX_NOTE_CHARS} value={props.entry?.note ?? ''} />
          </label>
          {BUTTONS.filter((b) => b.shownUnless !== status).map((b) => (
            <button type="submit" name="status" value={b.value} title={b.title}>
              {b.label}
            </button>
          ))}
        </form>
      )}
    </section>
  );
}
