import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the tuning files shipped with the receiver. */
export const DEFAULT_TUNING_DIR = fileURLToPath(new URL('../../tuning', import.meta.url));

/** The lists the processor and the signature generator are tuned with (receiver/tuning/*.txt). */
export interface Tuning {
  noiseUrls: RegExp[];
  libraryUrls: RegExp[];
  irrelevantFrames: RegExp[];
  messageRewrites: { pattern: RegExp; replacement: string }[];
}

export class TuningError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid tuning files:\n  ${problems.join('\n  ')}`);
    this.name = 'TuningError';
  }
}

/**
 * Reads the tuning files of `dir`, reporting every bad line at once (file:line: why).
 * `extraLibraryUrls` come from the `--library-url-patterns` option.
 */
export function loadTuning(dir: string = DEFAULT_TUNING_DIR, extraLibraryUrls: string[] = []): Tuning {
  const problems: string[] = [];
  const lines = (file: string): { text: string; where: string }[] => {
    let content: string;
    try {
      content = readFileSync(join(dir, file), 'utf8');
    } catch (err) {
      problems.push(`${file}: cannot read: ${(err as Error).message}`);
      return [];
    }
    return content
      .split(/\r?\n/)
      .map((text, i) => ({ text: text.trim(), where: `${file}:${i + 1}` }))
      .filter((l) => l.text !== '' && !l.text.startsWith('#'));
  };
  const regexList = (file: string, flags: string): RegExp[] =>
    lines(file).flatMap(({ text, where }) => {
      try {
        return [new RegExp(text, flags)];
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
        return [];
      }
    });
  const rewrites = lines('message-rewrites.txt').flatMap(({ text, where }) => {
    const m = /^\/(.+)\/([a-z]*)\s*=>\s?(.*)$/.exec(text);
    if (!m) {
      problems.push(`${where}: expected /regex/flags => replacement`);
      return [];
    }
    try {
      return [{ pattern: new RegExp(m[1]!, m[2]), replacement: m[3]!.trimEnd() }];
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      return [];
    }
  });
  const extra = extraLibraryUrls.flatMap((text) => {
    try {
      return [new RegExp(text, 'i')];
    } catch (err) {
      problems.push(`--library-url-patterns ${JSON.stringify(text)}: ${(err as Error).message}`);
      return [];
    }
  });
  const tuning: Tuning = {
    noiseUrls: regexList('noise-urls.txt', 'i'),
    libraryUrls: [...regexList('library-urls.txt', 'i'), ...extra],
    irrelevantFrames: regexList('irrelevant-frames.txt', ''),
    messageRewrites: rewrites,
  };
  if (problems.length) throw new TuningError(problems);
  return tuning;
}
