import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The stylesheet's colours against WCAG 2.2 AA, read as text: each badge's text on its
 * background. test/web/a11y.browser.test.ts checks what Chromium draws, page by page.
 */
const CSS = readFileSync(new URL('./style.css', import.meta.url), 'utf8');

/** `--name: #hex` from the first `:root` rule (the light colours). */
const ROOT = /:root\s*\{([^}]*)\}/.exec(CSS)?.[1] ?? '';
const VARS = Object.fromEntries([...ROOT.matchAll(/--([\w-]+):\s*(#[0-9a-f]{3,6})\b/gi)].map((m) => [m[1]!, m[2]!]));

/** A rule's declarations, `var(--x)` resolved, for a selector written exactly as in the file. */
function declarations(selector: string): Record<string, string> {
  const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rule = new RegExp(`(?:^|[}\\n])\\s*${escaped}\\s*\\{([^}]*)\\}`, 'm').exec(CSS);
  if (!rule) throw new Error(`no rule ${selector} in style.css`);
  return Object.fromEntries(
    rule[1]!
      .split(';')
      .map((d) => d.split(':').map((s) => s.trim()))
      .filter((d) => d.length === 2)
      .map(([k, v]) => [k!, v!.replace(/var\(--([\w-]+)\)/g, (_, name: string) => VARS[name] ?? name)]),
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

describe('style.css and WCAG 2.2 AA', () => {
  it('gives every badge text 4.5:1 against its background (1.4.3: badges are 11 px)', () => {
    const badges = ['new', 'app', 'library', 'noise', 'resolved', 'ignored', 'regressed'];
    const low = badges
      .map((b) => ({ b, d: declarations(`.badge.${b}`) }))
      .map(({ b, d }) => ({ badge: b, ratio: Math.round(contrast(d.color!, d.background!) * 100) / 100 }))
      .filter((x) => x.ratio < 4.5);
    // Were 2.24 (noise, #9aa3ad on #eef0f2) and 4.38 (resolved, #1a7f37 on #dff3e7).
    expect(low).toEqual([]);
  });
});
