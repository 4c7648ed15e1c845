/**
 * Why a submission was not accepted. At the HTTP edge each becomes its status and a one-line
 * answer in Antenna's style: `Discarded=malformed_no_boundary: <reason>`.
 */
export class SubmissionRejected extends Error {
  constructor(
    readonly status: 400 | 408 | 413 | 415 | 429 | 503,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'SubmissionRejected';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}

export const malformed = (code: string, message: string, cause?: unknown): SubmissionRejected =>
  new SubmissionRejected(400, `malformed_${code}`, message, { cause });

export const tooLarge = (code: string, message: string): SubmissionRejected =>
  new SubmissionRejected(413, code, message);

/** Seconds a client is asked to wait before retrying when storage cannot write. */
export const STORAGE_RETRY_AFTER_SECONDS = 60;

/** A crash that could not be stored (a full disk): the client keeps it and retries. */
export const storageUnavailable = (err: unknown): SubmissionRejected =>
  new SubmissionRejected(
    503,
    'storage_unavailable',
    `could not store the crash (${(err as NodeJS.ErrnoException).code ?? (err as Error).name}); keep it and retry later`,
    { cause: err, retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS },
  );

/** The data dir's disk is under the free space kept (--min-free-disk): refused before it is full. */
export const lowDisk = (message: string): SubmissionRejected =>
  new SubmissionRejected(503, 'low_disk', `${message}; keep the crash and retry later`, { retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS });

/** A client over its submission rate, told when to come back. */
export const clientRateLimited = (waitSeconds: number): SubmissionRejected =>
  new SubmissionRejected(429, 'client_rate_limited', `too many submissions from this client; retry in ${waitSeconds}s`, {
    retryAfterSeconds: waitSeconds,
  });
