import { describe, expect, it } from 'vitest';
import { showInvisible } from './visible.ts';

describe('showInvisible', () => {
  it('shows bidi controls, zero-width characters and C0/C1 controls as [U+…], and keeps tabs, line breaks and joiners', () => {
    expect(showInvisible('https://evil.example/\u202Emoc.elgoog')).toBe('https://evil.example/[U+202E]moc.elgoog');
    expect(showInvisible('goo\u200Bgle\u0000\u0085')).toBe('goo[U+200B]gle[U+0000][U+0085]');
    expect(showInvisible('a\tb\nc\r\nd \u200D')).toBe('a\tb\nc\r\nd \u200D');
  });
});
