import { formatAgo, formatTime } from './format.ts';

/** `2026-11-29 07:30 UTC` as a day and a clock, each kept on one line (see the stylesheet's `time span`). */
function DayAndClock(props: { text: string }) {
  const space = props.text.indexOf(' ');
  return (
    <>
      <span>{props.text.slice(0, space)}</span> <span>{props.text.slice(space + 1)}</span>
    </>
  );
}

/**
 * A time as the pages write it (`2026-11-29 07:30 UTC`), in a `<time>` that gives browsers and
 * screen readers the ISO time. A narrow column breaks it between the day and the clock, never
 * inside the day (`2026-11-` / `29`).
 */
export function Time(props: { iso: string | null | undefined; seconds?: boolean }) {
  const text = formatTime(props.iso, props.seconds);
  const date = props.iso ? new Date(props.iso) : null;
  if (!date || Number.isNaN(date.getTime())) return <>{text}</>;
  return (
    <time datetime={date.toISOString()}>
      <DayAndClock text={text} />
    </time>
  );
}

/**
 * A time where people scan for recency (first and last seen, when a crash came): `3 h ago`, then
 * the exact time in brackets, in text rather than a tooltip, so screen readers, paper and a copy
 * keep it; tables put it on a line of its own. Older than 30 days, or ahead of `now` (clock
 * skew), it is the exact time alone, as Time writes it. `now` is the server's, once per page.
 */
export function TimeAgo(props: { iso: string | null | undefined; now: Date }) {
  const ago = formatAgo(props.iso, props.now);
  if (ago === null) return <Time iso={props.iso} />;
  return (
    <time class="ago" datetime={new Date(props.iso!).toISOString()}>
      <span>{ago}</span>{' '}
      <span class="exact">
        (<DayAndClock text={formatTime(props.iso)} />)
      </span>
    </time>
  );
}
