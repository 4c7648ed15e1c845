import { type CountByValue, TOP_CRASHERS_LIMIT, type TopCrashersResult } from '../index/crash-index.ts';
import { Sparkline } from './charts.tsx';
import { appIdentity, appName, formatChange, formatCount, formatShare, href, valueLabel } from './format.ts';
import { filterParam, filterText, TOP_CRASHER_DAYS } from './params.ts';
import { BugLinks, StatusBadge } from './triage-view.tsx';
import { Time, TimeAgo } from './time.tsx';

/** The list lengths offered, as Socorro's Top 50 / 100 / 300. */
const LIMITS = [TOP_CRASHERS_LIMIT, 100, 300];

/** The signature page period that covers a top crashers period. */
export function signatureDaysFor(days: number): number {
  return days <= 1 ? 1 : days <= 7 ? 7 : 28;
}

function TopValues(props: { values: CountByValue[]; total: number }) {
  const shown = props.values.slice(0, 3);
  const more = props.values.length - shown.length;
  return (
    <>
      {shown.map((v, i) => (
        <span>
          {i > 0 && ', '}
          {valueLabel(v.value)} <span class="muted">{formatShare(props.total ? v.count / props.total : 0)}</span>
        </span>
      ))}
      {more > 0 && <span class="muted">{` +${more} more`}</span>}
    </>
  );
}

/**
 * An app set up here that has not crashed yet: said so, with what brings its crashes, rather
 * than a period with none (or "no such app", which is for typos).
 */
function NoCrashesYet(props: { guid: string; setUp: string[] }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>No crashes yet.</strong> {`This app is set up here (${props.setUp.join('; ')}), but no crash of it has been processed.`}
      </p>
      <p>
        Crashes appear here once the extension submits them: each page of the app declares{' '}
        <code>{`<meta name="socorrito:guid" content="${props.guid}">`}</code> and a <code>socorrito:submit-url</code> that is this
        receiver's <code>/submit</code>. A crash is listed here a moment after it arrives, once processed.
      </p>
    </div>
  );
}

/** `/apps/<guid>`: Socorro's Top Crashers for one app, a period and optionally a version and an environment. */
export function TopCrashersPage(props: {
  result: TopCrashersResult;
  /** A row's triage status; all open when absent. */
  status?: (row: { signature_id: string; signature: string }) => { status: string; regressed_at: string | null; bugs: string[] };
  /** Ignored signatures are listed (`?ignored=1`) rather than hidden. */
  showIgnored?: boolean;
  /** No crash of the app was ever processed, and the operator set it up so ("registered for forwarding", …). */
  noCrashesYet?: string[];
  /** The server's time, which first and last seen are told from (`3 h ago`). */
  now: Date;
}) {
  const r = props.result;
  const guid = r.app.guid;
  const ignored = props.showIgnored ? 1 : null;
  /** This page's address with some of its choices changed. */
  const here = (changes: { days?: number; limit?: number; ignored?: 1 | null }): string => {
    const limit = changes.limit ?? r.limit;
    return href.app(guid, {
      days: changes.days ?? r.period.days,
      version: filterParam(r.version),
      environment: filterParam(r.environment),
      limit: limit === TOP_CRASHERS_LIMIT ? null : limit,
      ignored: changes.ignored === undefined ? ignored : changes.ignored,
    });
  };
  const namedEnvironments = r.environments.filter((e) => e.value !== '');
  /** The filters as the title and the empty list say them. */
  const versionWords = r.version === null ? '' : r.version === '' ? 'without a version' : `of version ${r.version}`;
  const environmentWords = r.environment === null ? '' : r.environment === '' ? 'without an environment' : `in ${r.environment}`;
  const change = r.previous_total ? (r.total - r.previous_total) / r.previous_total : null;
  return (
    <>
      <h1>
        Top crashers · {appName(r.app)}
        {r.version !== null && ` ${r.version === '' ? '(no version)' : r.version}`}
        {r.environment !== null && ` · ${r.environment === '' ? 'no environment' : r.environment}`}
      </h1>
      <p class="muted mono">{appIdentity(guid)}</p>
      <nav class="tabs" aria-label="period">
        {TOP_CRASHER_DAYS.map((d) => (
          <a aria-current={d === r.period.days ? 'page' : undefined} href={here({ days: d })}>
            {d === 1 ? 'today (UTC)' : `${d} days`}
          </a>
        ))}
      </nav>
      <form class="filters" method="get" action={href.app(guid)}>
        <input type="hidden" name="days" value={String(r.period.days)} />
        {r.limit !== TOP_CRASHERS_LIMIT && <input type="hidden" name="limit" value={String(r.limit)} />}
        {ignored && <input type="hidden" name="ignored" value="1" />}
        <label>
          Version
          <select name="version">
            <option value="">all versions</option>
            {/* A version asked for that had no crash in the period is still the filter: shown, not dropped. */}
            {r.version !== null && !r.versions.some((v) => v.value === r.version) && (
              <option value={filterText(r.version)} selected>
                {`${valueLabel(r.version)} (0)`}
              </option>
            )}
            {/* "(none)" picks the crashes without a version. */}
            {r.versions.map((v) => (
              <option value={filterText(v.value)} selected={v.value === r.version}>
                {`${valueLabel(v.value)} (${formatCount(v.count)})`}
              </option>
            ))}
          </select>
        </label>
        {/* Shown once the app's pages declare environments (socorrito:environment). */}
        {(namedEnvironments.length > 0 || r.environment !== null) && (
          <label>
            Environment
            <select name="environment">
              <option value="">all environments</option>
              {r.environment !== null && !r.environments.some((e) => e.value === r.environment) && (
                <option value={filterText(r.environment)} selected>
                  {`${valueLabel(r.environment)} (0)`}
                </option>
              )}
              {/* "(none)" picks the crashes whose page declared no environment. */}
              {r.environments.map((e) => (
                <option value={filterText(e.value)} selected={e.value === r.environment}>
                  {`${valueLabel(e.value)} (${formatCount(e.count)})`}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit">Show</button>
        <a href={href.search({ app: guid, version: filterParam(r.version), environment: filterParam(r.environment), from: r.period.from.slice(0, 10) })}>
          Search these crashes
        </a>
      </form>
      <p>
        <strong>{formatCount(r.total)}</strong> {r.total === 1 ? 'crash' : 'crashes'} from <Time iso={r.period.from} /> to now; {formatCount(r.previous_total)} in the{' '}
        {r.period.days === 1 ? 'day' : `${r.period.days} days`} before, to the same time of day{change !== null && ` (${formatChange(change)})`}.
      </p>
      {r.hidden.signatures > 0 && (
        <p class="muted hidden-note">
          {`${formatCount(r.hidden.signatures)} ignored ${r.hidden.signatures === 1 ? 'signature' : 'signatures'} (${formatCount(r.hidden.count)} ${r.hidden.count === 1 ? 'crash' : 'crashes'}) hidden · `}
          <a href={here({ ignored: 1 })}>show ignored</a>
        </p>
      )}
      {props.showIgnored && (
        <p class="muted hidden-note">
          {'Ignored signatures are shown · '}
          <a href={here({ ignored: null })}>hide ignored</a>
        </p>
      )}
      {(r.signatures > Math.min(...LIMITS) || r.signatures > r.rows.length) && (
        <nav class="tabs" aria-label="rows">
          {`${formatCount(r.signatures)} signatures; show top `}
          {LIMITS.map((n) => (
            <a aria-current={n === r.limit ? 'page' : undefined} href={here({ limit: n })}>
              {String(n)}
            </a>
          ))}
        </nav>
      )}
      {props.noCrashesYet ? (
        <NoCrashesYet guid={guid} setUp={props.noCrashesYet} />
      ) : r.rows.length === 0 ? (
        <p class="muted">
          {`No crashes${versionWords && ` ${versionWords}`}${environmentWords && ` ${environmentWords}`} in this period.`}
        </p>
      ) : (
        // On a phone the table scrolls in its own region, named for screen readers; the page does not.
        <div class="table-scroll" role="region" aria-label="Top crashers">
          <table class="topcrashers">
            <thead>
              <tr>
                <th scope="col" class="num">#</th>
                <th scope="col">Signature</th>
                <th scope="col" class="num">Count</th>
                <th scope="col" class="num">Share</th>
                <th scope="col" class="num">Change</th>
                {/* Across environments even when the list is of one: "new" means new to the app. */}
                <th scope="col" class="wide-only" title={r.environment !== null ? 'in any environment' : undefined}>First seen{r.environment !== null ? ' (any env.)' : ''}</th>
                <th scope="col" class="wide-only" title={r.environment !== null ? 'in any environment' : undefined}>Last seen{r.environment !== null ? ' (any env.)' : ''}</th>
                <th scope="col" class="wide-only">Versions</th>
                <th scope="col" class="wide-only">Browsers</th>
                <th scope="col" class="wide-only">Per day</th>
              </tr>
            </thead>
            <tbody>
              {r.rows.map((row) => (
                <tr>
                  <td class="num">{row.rank}</td>
                  {/* The row's header: screen readers say the signature with each number in the row. */}
                  <th scope="row" class="sig">
                    <a href={href.signature(row.signature_id, { app: guid, environment: filterParam(r.environment), days: signatureDaysFor(r.period.days) })}>
                      {row.signature}
                    </a>{' '}
                    {row.is_new && <span class="badge new" title="first seen in this period">new</span>}{' '}
                    {props.status && <StatusBadge {...props.status(row)} />}
                    {props.status && <BugLinks bugs={props.status(row).bugs} />}
                  </th>
                  <td class="num">{formatCount(row.count)}</td>
                  <td class="num">{formatShare(row.share)}</td>
                  <td class={`num ${row.change === null ? '' : row.change > 0 ? 'up' : row.change < 0 ? 'down' : ''}`}>
                    {row.change === null ? <span class="muted">{row.previous_count ? '' : 'none before'}</span> : formatChange(row.change)}
                  </td>
                  <td class="wide-only">
                    <TimeAgo iso={row.first_seen} now={props.now} />
                  </td>
                  <td class="wide-only">
                    <TimeAgo iso={row.last_seen} now={props.now} />
                  </td>
                  <td class="wide-only">
                    <TopValues values={row.versions} total={row.count} />
                  </td>
                  <td class="wide-only">
                    <TopValues values={row.browsers} total={row.count} />
                  </td>
                  <td class="wide-only">
                    <Sparkline days={row.daily} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
