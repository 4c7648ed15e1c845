import type { DayCount } from '../index/crash-index.ts';
import { formatCount } from './format.ts';

/**
 * Charts drawn on the server as inline SVG: no script, no external image, and the CSP needs
 * nothing for them. Their colours come from the stylesheet (which follows dark mode); the
 * presentation attributes, not inline styles, are for a page without it.
 */

const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 24;

/**
 * A small line of counts per day, with the numbers in its title for screen readers and hover.
 * The title says no name: the row's link beside it has said the signature or app already.
 */
export function Sparkline(props: { days: DayCount[] }) {
  const { days } = props;
  const max = Math.max(1, ...days.map((d) => d.count));
  const step = days.length > 1 ? SPARK_WIDTH / (days.length - 1) : SPARK_WIDTH;
  const points = days
    .map((d, i) => `${(i * step).toFixed(1)},${(SPARK_HEIGHT - 2 - (d.count / max) * (SPARK_HEIGHT - 4)).toFixed(1)}`)
    .join(' ');
  const total = days.reduce((s, d) => s + d.count, 0);
  const title = `${formatCount(total)} ${total === 1 ? 'crash' : 'crashes'} from ${days[0]?.day ?? ''} to ${days.at(-1)?.day ?? ''}`;
  return (
    <svg class="spark" width={SPARK_WIDTH} height={SPARK_HEIGHT} viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`} role="img" aria-label={title}>
      <title>{title}</title>
      <polyline points={points} fill="none" stroke="#0b63c4" stroke-width="1.5" />
    </svg>
  );
}

const CHART_WIDTH = 720;
/** The bars' height in pixels at any width: the chart stretches sideways only. */
const CHART_HEIGHT = 150;
const CHART_TOP = 4;

/**
 * Crashes per day as bars, each bar's count in its title; the busiest day's count and the first
 * and last days are HTML beside the bars, so they keep their size on a phone (SVG text shrank
 * with the chart to 5 px). The same counts follow as a table that opens, for screen readers
 * (which read the chart as one image) and for anyone who wants the numbers.
 */
export function DailyChart(props: { days: DayCount[]; label: string }) {
  const { days } = props;
  const max = Math.max(1, ...days.map((d) => d.count));
  const plotH = CHART_HEIGHT - CHART_TOP;
  const barW = CHART_WIDTH / Math.max(1, days.length);
  return (
    <>
      <div class="daily-chart">
        <div class="y-axis" aria-hidden="true">
          <span>{formatCount(max)}</span>
          <span>0</span>
        </div>
        <svg class="chart" width="100%" height={CHART_HEIGHT} viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={props.label}>
          <title>{props.label}</title>
          {days.map((d, i) => {
            const h = (d.count / max) * plotH;
            return (
              <rect x={(i * barW + 1).toFixed(1)} y={(CHART_HEIGHT - h).toFixed(1)} width={Math.max(1, barW - 2).toFixed(1)} height={h.toFixed(1)} fill="#0b63c4">
                <title>{`${d.day}: ${formatCount(d.count)}`}</title>
              </rect>
            );
          })}
          <line x1="0" y1={CHART_HEIGHT} x2={CHART_WIDTH} y2={CHART_HEIGHT} stroke="#d8dde3" vector-effect="non-scaling-stroke" />
        </svg>
        <div class="x-axis" aria-hidden="true">
          <span>{days[0]?.day ?? ''}</span>
          <span>{days.at(-1)?.day ?? ''}</span>
        </div>
      </div>
      <details class="chart-data">
        <summary>Crashes per day as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col" class="num">Crashes</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr>
                <th scope="row">{d.day}</th>
                <td class="num">{formatCount(d.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
