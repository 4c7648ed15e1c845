/**
 * Characters that reorder or hide text: C0 and C1 controls (but tab and line breaks), the
 * Unicode bidi controls, and the invisible ones that split a word (zero-width space, word
 * joiner, byte order mark) or a line (U+2028, U+2029). Escaping keeps crash data from becoming
 * markup; these would still let it pose as other text (`https://evil.example/\u202Emoc.elgoog`
 * reads as a google.com link, `goo\u200Bgle` as google). The zero-width joiners stay: emoji and
 * Persian text need them.
 */
export const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * Shows each character that reorders or hides text as a visible `[U+202E]`: the report pages,
 * and the extension's popup and options page, show crash data so.
 *
 * @example showInvisible('moc.elgoog\u202E') // 'moc.elgoog[U+202E]'
 */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => `[U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
