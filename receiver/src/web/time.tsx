import { formatTime } from './format.ts';

/**
 * A time as the pages write it (`2026-11-29 07:30 UTC`), in a `<time>` that gives browsers and
 * screen readers the ISO time. A narrow column breaks it between the day and the clock, never
 * inside the day (`2026-11-` / `29`).
 */
export function Time(props: { iso: string | null | undefined; seconds?: boolean }) {
  const text = formatTime(props.iso, props.seconds);
  const date = props.iso ? new Date(props.iso) : null;
  if (!date || Number.isNaN(date.getTime())) return <>{text}</>;
  const space = text.indexOf(' ');
  return (
    <time datetime={date.toISOString()}>
      <span>{text.slice(0, space)}</span> <span>{text.slice(space + 1)}</span>
    </time>
  );
}
