import { reportPageUrl } from '../../../shared/src/protocol.ts';
import { hopsOf } from '../forwarder/policy.ts';
import { errorConstructorFrames } from '../processor/signature.ts';
import type { ProcessedCrash, ProcessedFrame, RawCrash } from '../storage/types.ts';
import { appKey } from '../index/crash-index.ts';
import { appName, clip, formatCount, formatTime, href } from './format.ts';
import { link } from './links.ts';
import { filterParam } from './params.ts';
import { formatBytes } from '../text.ts';
import type { ForwardingStatus } from '../forwarder/status.ts';
import { Time, TimeAgo } from './time.tsx';

/**
 * Most characters of one value the report page shows; the raw JSON has it whole. A crash may
 * carry megabytes of annotations, and rendering them would hold up the server and the browser.
 */
export const REPORT_VALUE_CHARS = 20_000;

/** A value, cut at REPORT_VALUE_CHARS with a note saying how much more the raw JSON has. */
function Value(props: { text: string }) {
  if (props.text.length <= REPORT_VALUE_CHARS) return <>{props.text}</>;
  const shown = clip(props.text, REPORT_VALUE_CHARS);
  return (
    <>
      {shown}
      <span class="muted">{` (${formatCount(props.text.length - shown.length + 1)} more characters in the raw JSON)`}</span>
    </>
  );
}

/** Annotations shown in their own blocks rather than the table's one-line cells. */
const LONG_ANNOTATIONS = new Set(['JSStack']);

function position(file: string | null, line: number | null, column: number | null): string {
  if (!file) return '(unknown location)';
  return `${file}${line !== null ? `:${line}` : ''}${column !== null ? `:${column}` : ''}`;
}

/**
 * The original source around a frame's line. Its lines scroll sideways together, as one block
 * that the keyboard reaches in one stop (it has no link to be reached by).
 */
function SourceContext(props: { context: NonNullable<NonNullable<ProcessedFrame['original']>['context']>; file: string; line: number }) {
  const { pre, line, post } = props.context;
  const first = props.line - pre.length;
  return (
    <div class="context mono" role="region" tabindex={0} aria-label={`source of ${props.file} around line ${props.line}`}>
      {pre.map((text, i) => (
        <div>
          <span class="ln">{first + i}</span>
          {text}
        </div>
      ))}
      <div class="hit">
        {/* Said, not only shown by the highlight. */}
        <span class="vh">crash line </span>
        <span class="ln">{props.line}</span>
        {line}
      </div>
      {post.map((text, i) => (
        <div>
          <span class="ln">{props.line + 1 + i}</span>
          {text}
        </div>
      ))}
    </div>
  );
}

/**
 * Each frame's notes as the page writes them: a note every frame of one script shares (no map
 * for it) is written out at the first frame that has it, and referred to after.
 */
function frameNotes(frames: ProcessedFrame[]): string[][] {
  const first = new Map<string, number>();
  return frames.map((f, i) =>
    (f.notes ?? []).map((n) => {
      const at = first.get(n);
      if (at === undefined) first.set(n, i);
      return at === undefined ? `note: ${n}` : `note: as for frame #${at}`;
    }),
  );
}

/** Consecutive frames that are not the app's, at least this many, fold into one line (as Sentry folds them). */
const FOLDED_RUN = 3;

/**
 * The frames in the order shown: each app frame alone, and runs of library and noise frames
 * folded into one, unless a run is short. A frame that starts an asynchronous part is never
 * folded (its boundary line stays in sight); a run ends before it.
 */
export function frameRuns(frames: ProcessedFrame[]): { from: number; to: number; collapsed: boolean; label: string }[] {
  const runs: { from: number; to: number; collapsed: boolean; label: string }[] = [];
  let i = 0;
  while (i < frames.length) {
    let j = i;
    while (j < frames.length && frames[j]!.category !== 'app' && !frames[j]!.async) j++;
    if (j - i >= FOLDED_RUN) {
      const kinds = new Set(frames.slice(i, j).map((f) => f.category));
      runs.push({ from: i, to: j - 1, collapsed: true, label: kinds.size > 1 ? 'library and noise' : [...kinds][0]! });
      i = j;
    } else {
      runs.push({ from: i, to: i, collapsed: false, label: '' });
      i++;
    }
  }
  return runs;
}

function Frame(props: { frame: ProcessedFrame; index: number; notes: string[]; open?: boolean }) {
  const f = props.frame;
  const o = f.original;
  const minified = `${f.function ?? '?'} @ ${position(f.url, f.line, f.column)}`;
  // V8 writes `async` into the name; the boundary line above the frame says it for every browser.
  const name = f.async ? f.function?.replace(/^async\s+/, '') : f.function;
  const head = (
    <>
      <span class="muted mono">{`#${props.index} `}</span>
      <span class={`badge ${f.category}`}>{f.category}</span>{' '}
      {o ? (
        <span class="mono">
          {/* The minified line below keeps the browser's name for an anonymous function. */}
          <strong>{o.function ?? (o.anonymous ? '<anonymous>' : name) ?? '?'}</strong> <span class="original-file">{position(o.file, o.line, o.column)}</span>
        </span>
      ) : (
        <span class="mono">
          <strong>{name ?? '?'}</strong> {position(f.url, f.line, f.column)}
        </span>
      )}
    </>
  );
  return (
    <li class={`frame ${f.category}`}>
      {f.async && <div class="async-boundary">async: the frames from here on ran earlier, before an await, a timer or an event</div>}
      {o?.context ? (
        <details open={props.open}>
          <summary>{head}</summary>
          <SourceContext context={o.context} file={o.file} line={o.line} />
        </details>
      ) : (
        <div>{head}</div>
      )}
      {o && <div class="minified mono">minified: {minified}</div>}
      {props.notes.map((n) => (
        <div class="minified">{n}</div>
      ))}
    </li>
  );
}

/** The id of the report page's forwarding section: the "Send again" form comes back to it. */
export const FORWARDING_SECTION_ID = 'forwarding';

/** Who is looking at the report page, as its forms need it. */
export interface ReportViewer {
  /** The session's CSRF token, which a form must send back; null without a session (a Bearer token). */
  csrfToken: string | null;
  /** Only the admin may send a crash again; a viewer reads. */
  admin: boolean;
}

/** Where a master receiver sent this crash, and how that went. */
function Forwarding(props: { status: ForwardingStatus; viewer?: ReportViewer }) {
  const f = props.status;
  // What the failed-forwards list holds, and so what can go again: a failure, or a refusal that
  // only URL mode being off made (turned back on, it goes).
  const again = f.state === 'failed' || (f.state === 'refused' && f.reason_code === 'url_mode_off');
  const csrf = props.viewer?.admin ? props.viewer.csrfToken : null;
  // When it can go: a refusal waits for the setting, a failure for the receiver.
  const when = f.state === 'refused' ? 'once forwarding by SubmitURL is on again' : 'once its receiver answers';
  const withheld = f.withheld
    ? [...f.withheld.annotations, ...f.withheld.files.map((n) => `file ${n}`), ...(f.withheld.url_query ? ['URL queries'] : [])]
    : [];
  return (
    // The "Send again" form's answer comes back here, and the browser focuses the section (tabindex
    // -1), as the signature page's status forms do: a keyboard user is where they were.
    <section id={FORWARDING_SECTION_ID} tabindex={-1} aria-label="Forwarding">
      <h2>Forwarding</h2>
      <dl class="kv forwarding">
        <dt>State</dt>
        <dd class={`state-${f.state}`}>
          {f.state}
          {f.reason ? ` — ${f.reason}` : ''}
        </dd>
        <dt>To</dt>
        <dd class="mono">{f.target ?? '—'} ({f.mode === 'registry' ? 'registered app' : 'the crash\'s SubmitURL'})</dd>
        {f.remote_crash_id && (
          <>
            <dt>Their crash ID</dt>
            <dd class="mono">
              {/* A registered receiver is the operator's choice: its report page is linked (a SubmitURL is anyone's). */}
              {f.mode === 'registry' && f.target ? (
                <a href={reportPageUrl(f.target, f.remote_crash_id)} rel="noreferrer">
                  {f.remote_crash_id}
                </a>
              ) : (
                f.remote_crash_id
              )}
            </dd>
          </>
        )}
        <dt>Attempts</dt>
        <dd>
          {f.attempts === 0 && f.last_error
            ? `none yet, waiting for its receiver (last error: ${f.last_error})`
            : `${f.attempts}${f.last_error ? ` (${f.state === 'forwarded' ? 'an earlier attempt failed' : 'last error'}: ${f.last_error})` : ''}`}
          {f.state === 'queued' && f.next_attempt_at ? `; next ${formatTime(f.next_attempt_at, true)}` : ''}
        </dd>
        {f.forwarded_at && (
          <>
            <dt>Forwarded</dt>
            <dd>
              <Time iso={f.forwarded_at} />
            </dd>
          </>
        )}
        <dt>Withheld</dt>
        <dd class="mono">{f.withheld === null ? (f.state === 'queued' ? 'not decided yet' : 'nothing was sent') : withheld.length ? withheld.join(', ') : 'nothing'}</dd>
      </dl>
      {again &&
        (csrf !== null ? (
          // A POST form with the session's CSRF token, as the triage forms; the answer is this page again.
          <form method="post" action={link(`/report/bp-${f.crash_id}/forwarding/retry`)} class="notice">
            <input type="hidden" name="csrf" value={csrf} />
            <button type="submit" class="primary">
              Send again
            </button>{' '}
            {when}; <code>POST /api/forwarding/failed/retry</code> sends every
            failed forward again.
          </form>
        ) : (
          // No button without a session (a Bearer token has no CSRF token to send) or for a viewer: say how, as the log line does.
          <p class="notice">
            To send it again {when}: <code>POST /api/crashes/bp-{f.crash_id}/forwarding/retry</code> with the admin token, or{' '}
            <code>POST /api/forwarding/failed/retry</code> for every failed forward.
          </p>
        ))}
    </section>
  );
}

/** `/report/<crash id>`: one crash, everything we know about it. */
export function ReportPage(props: {
  raw: RawCrash;
  processed: ProcessedCrash | null;
  forwarding?: ForwardingStatus | null;
  /** Who is looking: the forwarding section's "Send again" button is the admin's. */
  viewer?: ReportViewer;
  /** The server's time, which the received time is told from (`3 h ago`). */
  now: Date;
}) {
  const { raw, processed: p } = props;
  const id = raw.crash_id;
  const a = raw.annotations;
  const happened = happenedAt(a.CrashTime);
  const type = p?.error_type ?? a.JSErrorType ?? 'Error';
  const message = p?.error_message ?? a.JSErrorMessage ?? '';
  const annotationNames = Object.keys(a).sort();
  // The app's own frame nearest the error shows its source open, as Sentry opens the first
  // in-app frame (and so it prints): where it was thrown, past a custom error's constructor,
  // which Firefox's stack starts in and the signature passes over too.
  const thrownAt = p ? errorConstructorFrames(p.frames, type).skip : 0;
  const openFrame = p?.frames.findIndex((f, i) => i >= thrownAt && f.category === 'app' && f.original?.context) ?? -1;
  return (
    <>
      <p class="muted mono">bp-{id}</p>
      <h1>{type}</h1>
      <p class="error-message" id="error-message">
        <Value text={message} />
      </p>
      {p ? (
        <p>
          Signature: <a class="sig" href={href.signature(p.signature_id, { app: appKey(p.app_guid, p.product), environment: filterParam(p.environment ?? null) })}>{p.signature}</a>
        </p>
      ) : (
        <p class="notice">Not processed yet: the stack is not symbolicated and the crash has no signature. The annotations below are as received.</p>
      )}
      <p>
        <a href={link(`/api/crashes/bp-${id}`)}>Raw JSON</a>
        {p && (
          <>
            {' · '}
            <a href={href.search({ signature: p.signature })}>More crashes with this signature</a>
          </>
        )}
      </p>
      <dl class="kv">
        {happened && (
          <>
            <dt>Happened</dt>
            <dd>
              <Time iso={happened} /> (the browser's clock)
            </dd>
          </>
        )}
        <dt>Received</dt>
        <dd>
          <TimeAgo iso={raw.submitted_at} now={props.now} />
          {/* Another receiver passed it on (its ForwardHops counts how many did). */}
          {hopsOf(a) > 0 && ` from ${hopsOf(a) === 1 ? 'another receiver' : `${hopsOf(a)} receivers`} that forwarded it`}
        </dd>
        <dt>App</dt>
        <dd>
          {p ? <a href={href.app(appKey(p.app_guid, p.product))}>{appName({ guid: appKey(p.app_guid, p.product), product: p.product ?? '' })}</a> : (a.ProductName ?? '—')}{' '}
          {(p?.version ?? a.Version) && <span>{p?.version ?? a.Version}</span>}
        </dd>
        {(p?.environment || a.Environment !== undefined) && (
          <>
            <dt>Environment</dt>
            <dd>
              {p?.environment ? (
                <a href={href.app(appKey(p.app_guid, p.product), { environment: filterParam(p.environment) })}>{p.environment}</a>
              ) : (
                <>
                  <Value text={a.Environment!} />
                  {p && <span class="muted"> (left out: not an environment name, see the notes)</span>}
                </>
              )}
            </dd>
          </>
        )}
        <dt>Page</dt>
        <dd class="mono">{a.URL === undefined ? '—' : <Value text={a.URL} />}</dd>
        <dt>Browser</dt>
        <dd>{p?.browser ? `${p.browser.name} ${p.browser.version}` : a.UserAgent === undefined ? '—' : <Value text={a.UserAgent} />}</dd>
        <dt>OS</dt>
        <dd>{p?.os ?? '—'}</dd>
        <dt>Mechanism</dt>
        <dd>{p?.mechanism ?? a.JSMechanism ?? '—'}</dd>
        {p && (
          <>
            <dt>Processed</dt>
            <dd>
              <Time iso={p.processed_at} />
            </dd>
          </>
        )}
      </dl>

      {p && (
        <>
          <h2>Stack</h2>
          {p.frames.length === 0 ? (
            <p class="muted">{a.JSStack?.trim() ? 'No frames could be read from the stack.' : 'The error came without a stack: the browser gives none for some errors (a failed fetch in Firefox, a module that did not load).'}</p>
          ) : (
            <ol class="frames" start={0}>
              {((notes) =>
                frameRuns(p.frames).map((run) =>
                  run.collapsed ? (
                    <li class="frame-run">
                      <details>
                        <summary>{`${run.to - run.from + 1} ${run.label} frames, #${run.from}–#${run.to}`}</summary>
                        <ol class="frames">
                          {p.frames.slice(run.from, run.to + 1).map((f, k) => (
                            <Frame frame={f} index={run.from + k} notes={notes[run.from + k]!} />
                          ))}
                        </ol>
                      </details>
                    </li>
                  ) : (
                    <Frame frame={p.frames[run.from]!} index={run.from} notes={notes[run.from]!} open={run.from === openFrame} />
                  ),
                ))(frameNotes(p.frames))}
            </ol>
          )}
          <h2>Processing notes</h2>
          {p.notes.length === 0 && !p.signature_notes?.length && !p.processing_error ? (
            <p class="muted">None.</p>
          ) : (
            <ul class="notes">
              {p.processing_error && <li class="error">processing failed: {p.processing_error}</li>}
              {p.notes.map((n) => (
                <li>{n}</li>
              ))}
              {p.signature_notes?.map((n) => (
                <li>signature: {n}</li>
              ))}
            </ul>
          )}
        </>
      )}

      {props.forwarding && <Forwarding status={props.forwarding} viewer={props.viewer} />}

      <h2>Annotations</h2>
      <table class="annotations">
        <tbody>
          {annotationNames.map((name) => (
            <tr>
              <th scope="row" class="mono">
                {name}
              </th>
              <td class="mono">
                {LONG_ANNOTATIONS.has(name) ? (
                  <pre>
                    <Value text={a[name]!} />
                  </pre>
                ) : (
                  <Value text={a[name]!} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Files</h2>
      {raw.files.length === 0 ? (
        <p class="muted">No files came with this crash.</p>
      ) : (
        <table class="files">
          <thead>
            <tr>
              <th scope="col">Part</th>
              <th scope="col">File name</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Type</th>
            </tr>
          </thead>
          <tbody>
            {raw.files.map((f) => (
              <tr>
                <th scope="row" class="mono">
                  <a href={link(`/report/bp-${id}/files/${encodeURIComponent(f.name)}`)} download>
                    {f.name}
                    <span class="vh"> (download)</span>
                  </a>
                </th>
                <td class="mono">{f.filename}</td>
                <td class="num">{formatBytes(f.size)}</td>
                <td class="mono">{f.contentType}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Collector metadata</h2>
      <dl class="kv mono">
        {Object.entries(raw.metadata).map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </>
        ))}
      </dl>
    </>
  );
}

/**
 * When the error happened, from the report's `CrashTime` (seconds since the epoch, as the
 * browser's clock had it); null when it is missing or not such a number. A report that waited
 * in the browser's queue arrives later than this.
 */
function happenedAt(crashTime: string | undefined): string | null {
  if (!crashTime || !/^\d{1,12}$/.test(crashTime)) return null;
  const date = new Date(Number(crashTime) * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

