/** Small formatting helpers the pages share. Output is plain text; JSX escapes it. */
import { NO_APP, PRODUCT_APP_PREFIX } from '../index/crash-index.ts';
import { clipText } from '../text.ts';
import { link } from './links.ts';
import { filterText, NONE_FILTERS } from './params.ts';

/**
 * An app as pages name it, from its index key and product: the product name; for crashes with
 * neither WebAppGUID nor ProductName, "unknown app".
 */
export function appName(app: { guid: string; product: string }): string {
  if (app.guid === NO_APP) return '(unknown app)';
  return app.product || (app.guid.startsWith(PRODUCT_APP_PREFIX) ? app.guid.slice(PRODUCT_APP_PREFIX.length) : '(unnamed app)');
}

/** What identifies an app beside its name: its WebAppGUID, or why it has none. */
export function appIdentity(key: string): string {
  if (key === NO_APP) return 'no WebAppGUID or ProductName';
  if (key.startsWith(PRODUCT_APP_PREFIX)) return 'no WebAppGUID: grouped by ProductName';
  return key;
}

/** `2026-11-29 07:30 UTC` (with `seconds`, `07:30:12`) from an ISO time. */
export function formatTime(isoTime: string | null | undefined, seconds = false): string {
  if (!isoTime) return '—';
  const d = new Date(isoTime);
  if (Number.isNaN(d.getTime())) return isoTime;
  return `${d.toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ')} UTC`;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Past this, a time reads better as its date: "45 days ago" says less than 2026-10-15. */
const RELATIVE_MAX_MS = 30 * DAY_MS;

/**
 * How long before `now` a time was, as people scan lists for recency: `just now`, `5 min ago`,
 * `3 h ago`, `2 days ago`. Null when the time is better written out: older than 30 days, in the
 * future (a client's or a forwarding receiver's clock ahead of ours), missing or not a time.
 *
 * @example formatAgo('2026-11-29T07:30:00Z', new Date('2026-11-29T10:45:00Z')) // '3 h ago'
 */
export function formatAgo(isoTime: string | null | undefined, now: Date): string | null {
  if (!isoTime) return null;
  const ms = now.getTime() - new Date(isoTime).getTime();
  if (!(ms >= 0 && ms < RELATIVE_MAX_MS)) return null;
  if (ms < MINUTE_MS) return 'just now';
  if (ms < HOUR_MS) return `${Math.floor(ms / MINUTE_MS)} min ago`;
  if (ms < DAY_MS) return `${Math.floor(ms / HOUR_MS)} h ago`;
  const days = Math.floor(ms / DAY_MS);
  return `${days} ${days === 1 ? 'day' : 'days'} ago`;
}

/** One formatter for every number: `toLocaleString` builds a new one per call, which adds up. */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return COUNT_FORMAT.format(n);
}

export function formatShare(share: number): string {
  return `${(share * 100).toFixed(share >= 0.1 ? 1 : 2)}%`;
}

/** `+25%`, `−10%`, `±0%`; '' when there is nothing to compare with. */
export function formatChange(change: number | null): string {
  if (change === null) return '';
  const pct = Math.round(change * 100);
  if (pct === 0) return '±0%';
  return pct > 0 ? `+${pct}%` : `−${-pct}%`;
}


/** Characters of a message or signature a list shows; the report page shows all of it. */
export const LIST_TEXT_CHARS = 300;

/** `text` cut to `max` characters (whole code points) with an ellipsis when it was longer. */
export function clip(text: string, max = LIST_TEXT_CHARS): string {
  return clipText(text, max);
}

/** How an unknown ('') facet value reads. */
export function valueLabel(value: string): string {
  return value === '' ? '(none)' : value;
}

/**
 * The search value a breakdown row links to: a URL path the index cut short (it ends in `…`)
 * is searched by the part it kept, as a prefix; a version or environment as its filter spells
 * it (`(none)` for none, see filterText).
 */
export function facetFilterValue(param: string, value: string): string {
  if (NONE_FILTERS.includes(param)) return filterText(value);
  return param === 'url' && value.endsWith('…') ? `${value.slice(0, -1)}*` : value;
}

/** A query string from the set parameters only: `?days=7&version=1.2`. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

/** The page address of an app, a signature, a report, as a link on the page being rendered says it (see link()). */
export const href = {
  app: (guid: string, params: Record<string, string | number | null | undefined> = {}): string =>
    link(`/apps/${encodeURIComponent(guid)}${query(params)}`),
  signature: (id: string, params: Record<string, string | number | null | undefined> = {}): string =>
    link(`/signatures/${encodeURIComponent(id)}${query(params)}`),
  report: (crashId: string): string => link(`/report/bp-${crashId}`),
  search: (params: Record<string, string | number | null | undefined>): string => link(`/search${query(params)}`),
};
