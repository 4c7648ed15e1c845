import type { AppsResult } from '../index/crash-index.ts';
import { Sparkline } from './charts.tsx';
import { appIdentity, appName, formatCount, href, query } from './format.ts';
import { Pager } from './layout.tsx';
import { link } from './links.ts';

/**
 * `/`: every app, Socorro's product list with numbers, a page at a time: busiest first, or by key
 * (`?order=key`, then `after=` the last key shown), which crashes arriving between two pages do
 * not reorder, so no app is shown twice or skipped. Apps set up here that have not crashed yet
 * are listed with 0 crashes.
 */
export function AppsPage(props: {
  result: AppsResult;
  /** Listed by key after this key ('' from the start); busiest first when undefined. */
  after?: string;
  /** `limit` as the address gave it, kept in the links. */
  limitGiven?: number;
  rebuilding: boolean;
}) {
  const { apps, total, page, pages, limit, next } = props.result;
  const byKey = props.after !== undefined;
  const first = (page - 1) * limit + 1;
  const limitParam = props.limitGiven ?? null;
  const busiestLink = (p: number): string => link(`/${query({ page: p === 1 ? null : p, limit: limitParam })}`);
  const keyLink = (after: string): string => link(`/${query({ order: 'key', after, limit: limitParam })}`);
  return (
    <>
      <h1>Apps</h1>
      {props.rebuilding && <p class="notice">The crash index is being rebuilt from storage; counts are still growing.</p>}
      {total > 0 && (
        <nav class="tabs" aria-label="order">
          <a aria-current={byKey ? undefined : 'page'} href={busiestLink(1)}>
            busiest first
          </a>
          <a aria-current={byKey ? 'page' : undefined} href={keyLink('')}>
            by key
          </a>
        </nav>
      )}
      {total === 0 ? (
        <p class="muted">No processed crashes yet. Crashes sent to <code>POST /submit</code> show up here once processed.</p>
      ) : apps.length === 0 ? (
        byKey ? (
          <p>
            {`No app comes after ${props.after} by key. `}
            <a href={keyLink('')}>First page</a>
          </p>
        ) : (
          <p>
            {`Page ${page} is past the last one (${pages}). `}
            <a href={busiestLink(1)}>First page</a>
          </p>
        )
      ) : (
        <>
          {byKey ? (
            <p class="muted">{`${formatCount(apps.length)} of ${formatCount(total)} apps by key${props.after ? `, after ${props.after}` : ''}.`}</p>
          ) : (
            pages > 1 && <p class="muted">{`Apps ${formatCount(first)}–${formatCount(first + apps.length - 1)} of ${formatCount(total)}, busiest first.`}</p>
          )}
          <div class="table-scroll" role="region" aria-label="Apps">
            <table>
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">GUID</th>
                  <th scope="col" class="num">24 hours</th>
                  <th scope="col" class="num">7 days</th>
                  <th scope="col" class="num">all</th>
                  <th scope="col">last 28 days</th>
                </tr>
              </thead>
              <tbody>
                {apps.map((a) => (
                  <tr>
                    <th scope="row">
                      {/* Named by its crashes' ProductName: one set up here that has none yet has no name. */}
                      <a href={href.app(a.guid)}>{a.total === 0 && a.product === '' ? '(no crashes yet)' : appName(a)}</a>
                    </th>
                    <td class={a.kind === 'guid' ? 'mono' : 'muted'}>{appIdentity(a.guid)}</td>
                    <td class="num">{formatCount(a.count_24h)}</td>
                    <td class="num">{formatCount(a.count_7d)}</td>
                    <td class="num">{formatCount(a.total)}</td>
                    <td>
                      <Sparkline days={a.daily} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {byKey ? (
            (props.after || next) && (
              <nav class="pager" aria-label="pages">
                {props.after ? <a href={keyLink('')}>← first</a> : <span class="muted">← first</span>}
                {next ? (
                  <a href={keyLink(next)} rel="next">
                    next →
                  </a>
                ) : (
                  <span class="muted">next →</span>
                )}
              </nav>
            )
          ) : (
            <Pager page={page} pages={pages} link={busiestLink} labels={['← busier', 'quieter →']} />
          )}
        </>
      )}
    </>
  );
}
