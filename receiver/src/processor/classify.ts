import type { ProcessedFrame } from '../storage/types.ts';
import type { Tuning } from './tuning.ts';

/** Noise: extensions, the browser's own code, built-ins (and frames with no URL at all). */
export function isNoiseUrl(url: string | null, tuning: Tuning): boolean {
  return url === null || tuning.noiseUrls.some((re) => re.test(url));
}

/**
 * A frame's category: noise by URL; library when its original file (or URL) is a package
 * folder or a CDN; else app.
 */
export function classifyFrame(frame: Pick<ProcessedFrame, 'url' | 'original'>, tuning: Tuning): ProcessedFrame['category'] {
  if (isNoiseUrl(frame.url, tuning)) return 'noise';
  const where = frame.original?.file ?? frame.url!;
  if (tuning.libraryUrls.some((re) => re.test(where))) return 'library';
  if (frame.original && tuning.libraryUrls.some((re) => re.test(frame.url!))) return 'library';
  return 'app';
}
