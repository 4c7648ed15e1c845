import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The stylesheet's badge colours against WCAG 2.2 AA, read as text, in the light colours and in
 * dark mode's: every badge, also those no test page shows. test/web/a11y.browser.test.ts checks
 * what Chromium draws, page by page.
 */
const CSS = readFileSync(new URL('./style.css', import.meta.url), 'utf8');

/** The rules inside `@media (prefers-color-scheme: dark) { … }` (one level of braces deep). */
const DARK = /@media \(prefers-color-scheme: dark\) \{((?:[^{}]*\{[^}]*\})*)\s*\}/.exec(CSS)?.[1] ?? '';

/** The rules of `css` outside any @media block. */
const TOP_LEVEL = CSS.replace(/@media[^{]*\{(?:[^{}]*\{[^}]*\})*\s*\}/g, '');

/** `--name: #hex` from a `:root` rule. */
function variables(css: string): Record<string, string> {
  const root = /:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
  return Object.fromEntries([...root.matchAll(/--([\w-]+):\s*(#[0-9a-f]{3,6})\b/gi)].map((m) => [m[1]!, m[2]!]));
}

/** A rule's declarations for a selector written exactly as in `css` ({} when it has none). */
function declarations(css: string, selector: string): Record<string, string> {
  const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rule = new RegExp(`(?:^|[}\\n])\\s*${escaped}\\s*\\{([^}]*)\\}`, 'm').exec(css);
  return Object.fromEntries(
    (rule?.[1] ?? '')
      .split(';')
      .map((d) => d.split(':').map((s) => s.trim()))
      .filter((d) => d.length === 2),
  );
}

function luminance(hex: string): number {
  const h = hex.length === 4 ? hex.replace(/^#(.)(.)(.)$/, '#$1$1$2$2$3$3') : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two colours. */
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const BADGES = ['new', 'app', 'library', 'noise', 'resolved', 'ignored', 'regressed'];

/** Each badge's text colour on its background, below 4.5:1; dark mode's rules and colours over the light ones when `dark`. */
function lowBadges(dark: boolean): { badge: string; ratio: number }[] {
  const vars = { ...variables(TOP_LEVEL), ...(dark ? variables(DARK) : {}) };
  const resolve = (value: string | undefined) => (value ?? '').replace(/var\(--([\w-]+)\)/g, (_, name: string) => vars[name] ?? name);
  return BADGES.map((badge) => {
    const d = { ...declarations(TOP_LEVEL, `.badge.${badge}`), ...(dark ? declarations(DARK, `.badge.${badge}`) : {}) };
    return { badge, ratio: Math.round(contrast(resolve(d.color), resolve(d.background)) * 100) / 100 };
  }).filter((x) => !(x.ratio >= 4.5));
}

describe('style.css and WCAG 2.2 AA', () => {
  it('gives every badge text 4.5:1 against its background (1.4.3: badges are 11 px)', () => {
    // Were 2.24 (noise, #9aa3ad on #eef0f2) and 4.38 (resolved, #1a7f37 on #dff3e7).
    expect(lowBadges(false)).toEqual([]);
  });

  it('does so in dark mode too', () => {
    expect(DARK).toContain('.badge.library');
    expect(lowBadges(true)).toEqual([]);
  });
});
