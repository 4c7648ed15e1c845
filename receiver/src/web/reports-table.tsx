import type { CrashRow } from '../index/crash-index.ts';
import { clip, href, valueLabel } from './format.ts';
import { TimeAgo } from './time.tsx';

/**
 * A list of crashes, newest first: the signature page's and search's result table. Long messages
 * and signatures are clipped (LIST_TEXT_CHARS); the report page has them whole, and the browser,
 * OS and page that a phone leaves out.
 */
export function ReportsTable(props: { items: CrashRow[]; showSignature: boolean; now: Date }) {
  return (
    <div class="table-scroll" role="region" aria-label="Crashes">
      <table class="reports">
        <thead>
          <tr>
            <th scope="col">Crash</th>
            <th scope="col">Date</th>
            {props.showSignature && <th scope="col">Signature</th>}
            <th scope="col">Message</th>
            <th scope="col">Version</th>
            <th scope="col" class="wide-only">Browser</th>
            <th scope="col" class="wide-only">OS</th>
            <th scope="col" class="wide-only">Page</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((r) => (
            <tr>
              <th scope="row" class="mono">
                <a href={href.report(r.crash_id)}>{r.crash_id.slice(0, 8)}…</a>
              </th>
              <td>
                <TimeAgo iso={r.submitted_at} now={props.now} />
              </td>
              {props.showSignature && (
                <td class="sig">
                  <a href={href.signature(r.signature_id)}>{clip(r.signature)}</a>
                </td>
              )}
              <td class="sig">
                {r.error_type && <strong>{r.error_type}: </strong>}
                {clip(r.error_message)}
              </td>
              <td>
                {valueLabel(r.version)}
                {r.environment && <span class="muted">{` · ${r.environment}`}</span>}
              </td>
              <td class="wide-only">{valueLabel(r.browser)}</td>
              <td class="wide-only">{valueLabel(r.os)}</td>
              <td class="mono wide-only">{r.url_path}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
