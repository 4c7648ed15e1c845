import { normalizeCrashId } from '../../../shared/src/crash-id.ts';
import { ANSWER_TIMEOUT_MS, apiEndpoint, type CliIo, TOKEN_HINT, UsageError, count, parseCommandArgs, receiverUrl, unreachable } from './usage.ts';

export const REPROCESS_HELP = `socorrito reprocess --url RECEIVER --token TOKEN (--app GUID [--release VERSION] | --crash ID ... | --all-apps)
  Processes again the crashes of an app (and release), e.g. after its source maps were uploaded
  late. GUID may also be an app key from the apps page (product:<ProductName>, - for unknown).
  --all-apps processes every stored crash again (after an upgrade; admin token).
  Exits 1 when nothing matched or a --crash ID is not stored. Token also from SOCORRITO_TOKEN.`;

/** What `POST /api/reprocess` answers. */
interface ReprocessAnswer {
  queued?: number;
  /** Still reading and queuing (202): a store of many crashes. */
  queuing?: boolean;
  crash_ids?: string[];
  unknown?: string[];
}

/** `socorrito reprocess`: asks a running receiver to queue crashes for processing again. */
export async function reprocessCommand(argv: string[], io: CliIo, fetchImpl: typeof fetch = fetch): Promise<number> {
  const { values } = parseCommandArgs('reprocess', argv, {
    url: { type: 'string' },
    token: { type: 'string' },
    app: { type: 'string' },
    release: { type: 'string' },
    crash: { type: 'string', multiple: true },
    'all-apps': { type: 'boolean' },
  });
  const all = values['all-apps'] === true;
  if (all && (values.app || values.release || values.crash?.length)) throw new UsageError(`reprocess: --all-apps takes no --app, --release or --crash\n\n${REPROCESS_HELP}`);
  const token = values.token ?? io.env.SOCORRITO_TOKEN ?? io.env.SOCORRITO_ADMIN_TOKEN;
  const missing = [!values.url && '--url', !token && '--token (or SOCORRITO_TOKEN)', !all && !values.app && !values.crash?.length && '--app, --crash or --all-apps'].filter(Boolean);
  if (missing.length) throw new UsageError(`reprocess: missing ${missing.join(', ')}\n\n${REPROCESS_HELP}`);
  const notIds = (values.crash ?? []).filter((id) => normalizeCrashId(id) === null);
  if (notIds.length) {
    throw new UsageError(`reprocess: not a crash ID (bp-<uuid> ending in the date): ${notIds.map((id) => JSON.stringify(id.slice(0, 60))).join(', ')}`);
  }
  const endpoint = apiEndpoint(receiverUrl('reprocess', values.url!), 'api/reprocess');
  const body = all ? { all: true } : values.crash?.length ? { crash_ids: values.crash } : { app: values.app, release: values.release };
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
  } catch (err) {
    io.err(unreachable('reprocess', endpoint, err));
    return 1;
  }
  const text = await response.text();
  const asked = all ? 'every app' : values.crash?.length ? 'the crash IDs given' : `app ${values.app}${values.release ? ` release ${values.release}` : ''}`;
  let answer: ReprocessAnswer | null = null;
  try {
    answer = JSON.parse(text) as ReprocessAnswer;
  } catch {
    // Not our receiver's JSON: reported below with the status.
  }
  const unknown = answer?.unknown ?? [];
  if (response.status === 404 && values.crash?.length && unknown.length) {
    io.err(`socorrito reprocess: no stored crash with ${unknown.length === 1 ? 'the ID' : 'any of the IDs'} ${unknown.join(', ')}; nothing to reprocess`);
    return 1;
  }
  if (response.status === 202 && answer?.queuing) {
    io.out(`queuing the crashes of ${asked} for processing; the receiver's log says how many when it is done (a line "reprocess: …: N crashes queued")`);
    return 0;
  }
  if (!response.ok || typeof answer?.queued !== 'number') {
    io.err(`socorrito reprocess: ${endpoint} answered ${response.status}: ${text.slice(0, 300)}`);
    if (response.status === 401) {
      io.err(`socorrito reprocess: ${TOKEN_HINT}`);
    }
    return 1;
  }
  if (answer.queued === 0) {
    io.err(`socorrito reprocess: no stored crash${all ? '' : ` of ${asked}`}; nothing to reprocess`);
    return 1;
  }
  io.out(`queued ${count(answer.queued, 'crash', 'crashes')} for processing${values.crash?.length ? '' : ` (${asked})`}`);
  if (unknown.length) {
    // Some IDs were queued; the others are named so a typo does not pass unnoticed.
    io.err(`socorrito reprocess: not stored here, not queued: ${unknown.join(', ')}`);
    return 1;
  }
  return 0;
}
