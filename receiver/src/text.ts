/**
 * `text` cut to `max` characters (whole code points, so no half of an emoji) with an ellipsis
 * when it was longer.
 *
 * @example clipText('abcdef', 3) // 'abc…'
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max).join('')}…`;
}
