import { createCrashId } from '../../../shared/src/crash-id.ts';
import { Annotation, type Annotations } from '../../../shared/src/protocol.ts';
import { validateAppGuid } from '../symbols/validate.ts';
import { malformed, SubmissionRejected } from './errors.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Throttler } from './throttler.ts';

/**
 * What the collector decides about a decoded submission: the GUID rule, the app's rate, then the
 * throttle rules; an accepted crash gets its ID here.
 */
export type Verdict = { accept: false; rule: string } | { accept: true; rule: string; crashId: string; receivedAt: Date };

export interface Judge {
  throttler: Throttler;
  appLimiter: RateLimiter;
  now: () => Date;
}

/** Decides on a submission's annotations; throws SubmissionRejected for a bad GUID or an app over its rate. */
export function decide(annotations: Annotations, judge: Judge): Verdict {
  // The GUID names the app's source maps, index entry and forwarding: one rule for it everywhere.
  const guid = annotations[Annotation.WebAppGUID];
  if (guid !== undefined) {
    try {
      validateAppGuid(guid);
    } catch (err) {
      throw malformed('invalid_guid', `WebAppGUID ${JSON.stringify(guid.slice(0, 60))}: ${(err as Error).message}`);
    }
  }
  const app = guid || annotations[Annotation.ProductName] || 'unknown';
  const appWait = judge.appLimiter.enabled ? judge.appLimiter.take(app) : 0;
  if (appWait) {
    throw new SubmissionRejected(429, 'app_rate_limited', `too many submissions for this app; retry in ${appWait}s`, {
      retryAfterSeconds: appWait,
    });
  }
  const decision = judge.throttler.throttle(annotations);
  if (!decision.accept) return { accept: false, rule: decision.rule };
  const receivedAt = judge.now();
  return { accept: true, rule: decision.rule, crashId: createCrashId(receivedAt), receivedAt };
}
