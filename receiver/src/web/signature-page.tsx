import type { CountByValue, SignatureSummary } from '../index/crash-index.ts';
import { DailyChart } from './charts.tsx';
import { FacetHeader } from './facet-header.tsx';
import { facetFilterValue, formatCount, formatShare, href, query, valueLabel } from './format.ts';
import { Pager } from './layout.tsx';
import { link } from './links.ts';
import { filterParam, filterText, NONE_FILTERS, type SearchForm, SIGNATURE_DAYS } from './params.ts';
import { ReportsTable } from './reports-table.tsx';
import type { CarriedFrom, MovedTo, SignatureStatus } from '../triage/signature-status.ts';
import { StatusPanel } from './triage-view.tsx';
import { Time, TimeAgo } from './time.tsx';

/** Each breakdown, its title, and the search field its values pick (app and environment: this page's filters). */
const FACET_TITLES: [keyof SignatureSummary['facets'], string, keyof SearchForm][] = [
  ['version', 'Version', 'version'],
  ['environment', 'Environment', 'environment'],
  ['browser_version', 'Browser', 'browser'],
  ['os', 'OS', 'os'],
  ['url_path', 'Page URL path', 'url'],
  ['mechanism', 'Mechanism', 'mechanism'],
  ['app', 'App', 'app'],
];
/** Values listed per facet; the rest are summed into one line. */
const FACET_ROWS = 10;

function FacetTable(props: {
  title: string;
  values: CountByValue[];
  total: number;
  /** A value's link; null when no filter picks it out (a "(none)" other than version and environment). */
  link: (value: string) => string | null;
  label?: (value: string) => string;
}) {
  const shown = props.values.slice(0, FACET_ROWS);
  const rest = props.values.slice(FACET_ROWS).reduce((s, v) => s + v.count, 0);
  return (
    <section class="facet">
      <h3>{props.title}</h3>
      <table>
        <FacetHeader columns={[props.title, 'Crashes', 'Share']} />
        <tbody>
          {shown.map((v) => {
            const share = props.total ? v.count / props.total : 0;
            const label = props.label?.(v.value) ?? valueLabel(v.value);
            const to = props.link(v.value);
            return (
              <tr>
                <th scope="row" class="sig">
                  {to === null ? label : <a href={to}>{label}</a>}
                </th>
                <td class="num">{formatCount(v.count)}</td>
                <td class="num">{formatShare(share)}</td>
                <td>
                  <svg width="60" height="8" aria-hidden="true">
                    <rect width={Math.max(1, Math.round(share * 60))} height="8" fill="#0b63c4" opacity="0.4" />
                  </svg>
                </td>
              </tr>
            );
          })}
          {rest > 0 && (
            <tr>
              <th scope="row" class="muted">{`${props.values.length - FACET_ROWS} more`}</th>
              <td class="num">{formatCount(rest)}</td>
              <td class="num">{formatShare(props.total ? rest / props.total : 0)}</td>
              <td />
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/**
 * Where reprocessing moved crashes of a signature (a minified signature whose maps came late, say,
 * which a "new signature" alert linked to), each linked; `all` when none of them is left here.
 */
export function MovedNotice(props: { moved: MovedTo; all: boolean; app?: string | null; environment?: string | null }) {
  return (
    <p class="notice" id="moved-to">
      {props.all ? 'Its crashes are no longer here: reprocessing moved them to ' : 'Reprocessing moved some of its crashes to '}
      {props.moved.map((m, i) => (
        <>
          {i > 0 && ', '}
          <a class="sig" href={href.signature(m.signature_id, { app: props.app, environment: props.environment })}>
            {m.signature}
          </a>{' '}
          (<Time iso={m.at} />)
        </>
      ))}
      .
    </p>
  );
}

/** `/signatures/<id>`: Socorro's Signature report. */
export function SignaturePage(props: {
  summary: SignatureSummary;
  appName: string | null;
  /** The names of the apps in the App breakdown, by key (GUID). */
  appNames: ReadonlyMap<string, string>;
  /** Resolved / ignored state and the form to change it; absent without triage. */
  triage?: { entry: SignatureStatus | null; ignoredByDefault: string | null; bugs: string[]; carriedFrom?: CarriedFrom | null; csrfToken: string | null; back: string; readOnly?: boolean };
  /** Where reprocessing moved crashes of this signature, newest first. */
  movedTo?: MovedTo;
  /** The server's time, which first and last seen and the reports' dates are told from (`3 h ago`). */
  now: Date;
}) {
  const s = props.summary;
  const moved = props.movedTo ?? [];
  const environment = filterParam(s.environment);
  const base = { app: s.app, environment, days: s.period.days };
  const searchBase = { signature: s.signature, app: s.app, environment, from: s.period.from.slice(0, 10) };
  const pageFilter = (param: keyof SearchForm): param is 'app' | 'environment' => param === 'app' || param === 'environment';
  return (
    <>
      <p class="muted">Signature</p>
      <h1 class="sig">{s.signature}</h1>
      {moved.length > 0 && <MovedNotice moved={moved} all={s.total === 0} app={s.app} environment={environment} />}
      {props.triage && <StatusPanel signatureId={s.signature_id} {...props.triage} />}
      <nav class="tabs" aria-label="period">
        {SIGNATURE_DAYS.map((d) => (
          <a aria-current={d === s.period.days ? 'page' : undefined} href={href.signature(s.signature_id, { ...base, days: d })}>
            {d === 1 ? 'today (UTC)' : `${d} days`}
          </a>
        ))}
        {s.app && (
          <span>
            {' '}
            · app <a href={href.app(s.app, { environment })}>{props.appName || s.app}</a> (
            <a href={href.signature(s.signature_id, { ...base, app: null })}>all apps</a>)
          </span>
        )}
        {s.environment !== null && (
          <span>
            {' '}
            · environment <strong>{valueLabel(s.environment)}</strong> (<a href={href.signature(s.signature_id, { ...base, environment: null })}>all environments</a>)
          </span>
        )}
      </nav>
      <dl class="kv">
        <dt>Crashes in period</dt>
        <dd>
          <strong>{formatCount(s.count)}</strong> since <Time iso={s.period.from} />
        </dd>
        <dt>All time</dt>
        <dd>{formatCount(s.total)}</dd>
        <dt>First seen</dt>
        <dd>
          <TimeAgo iso={s.first_seen} now={props.now} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <TimeAgo iso={s.last_seen} now={props.now} />
        </dd>
        <dt>Search</dt>
        <dd>
          <a href={href.search(searchBase)}>these crashes</a> · <a href={link(`/api/signatures/${encodeURIComponent(s.signature_id)}${query(base)}`)}>JSON</a>
        </dd>
      </dl>
      <h2>Crashes per day</h2>
      <DailyChart days={s.daily} label={`Crashes per day with this signature, ${s.daily[0]?.day ?? ''} to ${s.daily.at(-1)?.day ?? ''}`} />
      <h2>Breakdowns</h2>
      <div class="grid">
        {FACET_TITLES.map(([facet, title, param]) => (
          <FacetTable
            title={title}
            values={s.facets[facet]}
            total={s.count}
            link={(v) =>
              v === '' && !NONE_FILTERS.includes(param)
                ? null
                : pageFilter(param)
                  ? href.signature(s.signature_id, { ...base, [param]: param === 'environment' ? filterText(v) : v })
                  : href.search({ ...searchBase, [param]: facetFilterValue(param, v) })
            }
            label={param === 'app' ? (v) => props.appNames.get(v) ?? v : undefined}
          />
        ))}
      </div>
      <h2>Reports</h2>
      {s.reports.items.length === 0 && s.reports.total > 0 ? (
        <p class="muted">
          {`Page ${s.reports.page} is past the last one (${s.reports.pages}). `}
          <a href={href.signature(s.signature_id, base)}>First page</a>
        </p>
      ) : s.reports.items.length === 0 ? (
        <p class="muted">No reports in this period.</p>
      ) : (
        <>
          <ReportsTable items={s.reports.items} showSignature={false} now={props.now} />
          <Pager page={s.reports.page} pages={s.reports.pages} link={(p) => href.signature(s.signature_id, { ...base, page: p })} />
        </>
      )}
    </>
  );
}
