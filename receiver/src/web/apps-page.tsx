import type { AppsResult } from '../index/crash-index.ts';
import { Sparkline } from './charts.tsx';
import { appIdentity, appName, formatCount, href } from './format.ts';
import { Pager } from './layout.tsx';
import { link } from './links.ts';

/** `/`: every app that has crashed or is set up here, busiest first, Socorro's product list with numbers; a page at a time. */
export function AppsPage(props: { result: AppsResult; rebuilding: boolean }) {
  const { apps, total, page, pages, limit } = props.result;
  const first = (page - 1) * limit + 1;
  return (
    <>
      <h1>Apps</h1>
      {props.rebuilding && <p class="notice">The crash index is being rebuilt from storage; counts are still growing.</p>}
      {total === 0 ? (
        <p class="muted">No processed crashes yet. Crashes sent to <code>POST /submit</code> show up here once processed.</p>
      ) : apps.length === 0 ? (
        <p>
          {`Page ${page} is past the last one (${pages}). `}
          <a href={link('/')}>First page</a>
        </p>
      ) : (
        <>
          {pages > 1 && <p class="muted">{`Apps ${formatCount(first)}–${formatCount(first + apps.length - 1)} of ${formatCount(total)}, busiest first.`}</p>}
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
          <Pager page={page} pages={pages} link={(p) => (p === 1 ? '/' : `/?page=${p}`)} labels={['← busier', 'quieter →']} />
        </>
      )}
    </>
  );
}
