import type { CountByValue } from './crash-index.ts';

/**
 * Page URL paths as breakdowns group them: a segment that is an ID reads as a placeholder, so
 * `/products/1432` and `/products/88` are one row, `/products/<n>`, and a search for that
 * pattern finds both. Paths are collapsed when the index is asked, not when it is written, so
 * these rules can change without a rebuild.
 */

/** Each placeholder and the segments it stands for, tried in order. */
const ID_SEGMENTS: [placeholder: string, segment: RegExp][] = [
  ['<n>', /^\d+$/],
  ['<uuid>', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  // Hashes, ObjectIds, ULIDs, random tokens: long and with a digit. Words and slugs are
  // shorter, have no digit, or have separators.
  ['<id>', /^(?=[a-z]*\d)[a-z0-9]{16,}$/i],
];

export function isPlaceholder(segment: string): boolean {
  return ID_SEGMENTS.some(([placeholder]) => placeholder === segment);
}

/**
 * The path with its ID segments replaced by placeholders.
 *
 * @example collapsePath('/orders/0f8fad5b-d9cb-469f-a165-70867728950e/items/3') // '/orders/<uuid>/items/<n>'
 */
export function collapsePath(path: string): string {
  return path
    .split('/')
    .map((segment) => ID_SEGMENTS.find(([, id]) => id.test(segment))?.[0] ?? segment)
    .join('/');
}

/** Whether a `url` filter is a pattern (has a placeholder segment) rather than a path. */
export function isPathPattern(path: string): boolean {
  return path.split('/').some(isPlaceholder);
}

/** The start of a pattern before its first placeholder: `/products/` of `/products/<n>/reviews`. */
export function literalStart(pattern: string): string {
  const segments = pattern.split('/');
  return segments
    .slice(0, segments.findIndex(isPlaceholder))
    .map((s) => `${s}/`)
    .join('');
}

/** Path counts summed by collapsed path (in no particular order). */
export function collapseCounts(values: CountByValue[]): CountByValue[] {
  const sums = new Map<string, number>();
  for (const { value, count } of values) {
    const path = collapsePath(value);
    sums.set(path, (sums.get(path) ?? 0) + count);
  }
  return [...sums].map(([value, count]) => ({ value, count }));
}
