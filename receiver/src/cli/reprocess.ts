import { type CliIo, UsageError, parseCommandArgs } from './usage.ts';

export const REPROCESS_HELP = `socorrito reprocess --url RECEIVER --token TOKEN --app GUID [--release VERSION] [--crash ID ...]
  Processes again the crashes of an app (and release), e.g. after its source maps were uploaded
  late. Token also from SOCORRITO_TOKEN.`;

/** `socorrito reprocess`: asks a running receiver to queue crashes for processing again. */
export async function reprocessCommand(argv: string[], io: CliIo, fetchImpl: typeof fetch = fetch): Promise<number> {
  const { values } = parseCommandArgs('reprocess', argv, {
    url: { type: 'string' },
    token: { type: 'string' },
    app: { type: 'string' },
    release: { type: 'string' },
    crash: { type: 'string', multiple: true },
  });
  const token = values.token ?? io.env.SOCORRITO_TOKEN ?? io.env.SOCORRITO_ADMIN_TOKEN;
  const missing = [!values.url && '--url', !token && '--token (or SOCORRITO_TOKEN)', !values.app && !values.crash?.length && '--app or --crash'].filter(Boolean);
  if (missing.length) throw new UsageError(`reprocess: missing ${missing.join(', ')}\n\n${REPROCESS_HELP}`);
  const endpoint = new URL('/api/reprocess', values.url).href;
  const body = values.crash?.length ? { crash_ids: values.crash } : { app: values.app, release: values.release };
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  } catch (err) {
    io.err(`socorrito reprocess: could not reach ${endpoint}: ${(err as Error).cause ?? (err as Error).message}`);
    return 1;
  }
  const text = await response.text();
  if (!response.ok) {
    io.err(`socorrito reprocess: ${endpoint} answered ${response.status}: ${text.slice(0, 300)}`);
    return 1;
  }
  const { queued } = JSON.parse(text) as { queued: number };
  io.out(`queued ${queued} crashes for processing${values.app ? ` (app ${values.app}${values.release ? ` release ${values.release}` : ''})` : ''}`);
  return 0;
}
