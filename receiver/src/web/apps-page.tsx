import type { AppSummary } from '../index/crash-index.ts';
import { Sparkline } from './charts.tsx';
import { appIdentity, appName, formatCount, href } from './format.ts';

/** `/`: every app that has crashed, busiest first, Socorro's product list with numbers. */
export function AppsPage(props: { apps: AppSummary[]; rebuilding: boolean }) {
  return (
    <>
      <h1>Apps</h1>
      {props.rebuilding && <p class="notice">The crash index is being rebuilt from storage; counts are still growing.</p>}
      {props.apps.length === 0 ? (
        <p class="muted">No processed crashes yet. Crashes sent to <code>POST /submit</code> show up here once processed.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>App</th>
              <th>GUID</th>
              <th class="num">24 hours</th>
              <th class="num">7 days</th>
              <th class="num">all</th>
              <th>last 28 days</th>
            </tr>
          </thead>
          <tbody>
            {props.apps.map((a) => (
              <tr>
                <td>
                  <a href={href.app(a.guid)}>{appName(a)}</a>
                </td>
                <td class={a.kind === 'guid' ? 'mono' : 'muted'}>{appIdentity(a.guid)}</td>
                <td class="num">{formatCount(a.count_24h)}</td>
                <td class="num">{formatCount(a.count_7d)}</td>
                <td class="num">{formatCount(a.total)}</td>
                <td>
                  <Sparkline days={a.daily} label={appName(a)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
