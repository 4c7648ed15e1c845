import type { DayCount } from '../index/crash-index.ts';
import { formatCount } from './format.ts';

/**
 * Charts drawn on the server as inline SVG: no script, no external image, and the CSP needs
 * nothing for them. Their colours come from the stylesheet (which follows dark mode); the
 * presentation attributes, not inline styles, are for a page without it.
 */

const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 24;

/** A small line of counts per day, with the numbers in its title for screen readers and hover. */
export function Sparkline(props: { days: DayCount[]; label?: string }) {
  const { days } = props;
  const max = Math.max(1, ...days.map((d) => d.count));
  const step = days.length > 1 ? SPARK_WIDTH / (days.length - 1) : SPARK_WIDTH;
  const points = days
    .map((d, i) => `${(i * step).toFixed(1)},${(SPARK_HEIGHT - 2 - (d.count / max) * (SPARK_HEIGHT - 4)).toFixed(1)}`)
    .join(' ');
  const total = days.reduce((s, d) => s + d.count, 0);
  const title = `${props.label ? `${props.label}: ` : ''}${formatCount(total)} ${total === 1 ? 'crash' : 'crashes'} from ${days[0]?.day ?? ''} to ${days.at(-1)?.day ?? ''}`;
  return (
    <svg class="spark" width={SPARK_WIDTH} height={SPARK_HEIGHT} viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`} role="img" aria-label={title}>
      <title>{title}</title>
      <polyline points={points} fill="none" stroke="#0b63c4" stroke-width="1.5" />
    </svg>
  );
}

const CHART_WIDTH = 720;
const CHART_HEIGHT = 160;
const CHART_PAD = { left: 40, bottom: 18, top: 8 };

/** Crashes per day as bars, with the busiest day's count on the axis and each bar's count in its title. */
export function DailyChart(props: { days: DayCount[]; label: string }) {
  const { days } = props;
  const max = Math.max(1, ...days.map((d) => d.count));
  const plotW = CHART_WIDTH - CHART_PAD.left;
  const plotH = CHART_HEIGHT - CHART_PAD.bottom - CHART_PAD.top;
  const barW = plotW / Math.max(1, days.length);
  return (
    <svg class="chart" width="100%" viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`} role="img" aria-label={props.label}>
      <title>{props.label}</title>
      <line x1={CHART_PAD.left} y1={CHART_PAD.top + plotH} x2={CHART_WIDTH} y2={CHART_PAD.top + plotH} stroke="#d8dde3" />
      <text x={CHART_PAD.left - 4} y={CHART_PAD.top + 8} text-anchor="end">{formatCount(max)}</text>
      <text x={CHART_PAD.left - 4} y={CHART_PAD.top + plotH} text-anchor="end">0</text>
      {days.map((d, i) => {
        const h = (d.count / max) * plotH;
        return (
          <rect x={(CHART_PAD.left + i * barW + 1).toFixed(1)} y={(CHART_PAD.top + plotH - h).toFixed(1)} width={Math.max(1, barW - 2).toFixed(1)}
            height={h.toFixed(1)} fill="#0b63c4">
            <title>{`${d.day}: ${formatCount(d.count)}`}</title>
          </rect>
        );
      })}
      <text x={CHART_PAD.left} y={CHART_HEIGHT - 4}>{days[0]?.day ?? ''}</text>
      <text x={CHART_WIDTH} y={CHART_HEIGHT - 4} text-anchor="end">{days.at(-1)?.day ?? ''}</text>
    </svg>
  );
}
