import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeSubmission, parseSubmitResponse, withSubmitPath } from '../../../shared/src/protocol.ts';
import { clipText } from '../text.ts';
import { deadline } from '../deadline.ts';
import { type CliIo, UsageError, parseCommandArgs, receiverUrl, unreachable } from './usage.ts';

export const SUBMIT_HELP = `socorrito submit --url URL [--field Key=Value ...] [--file name=path ...] [--gzip]
  Sends one crash the way a Breakpad client does and prints its crash ID.`;

export interface SubmitFile {
  name: string;
  filename: string;
  data: Uint8Array;
  /** application/octet-stream when not given. */
  contentType?: string;
}

/** Submits one crash; returns the crash ID, or throws with the collector's reason. */
export async function submitCrash(
  url: string,
  fields: Record<string, string>,
  files: SubmitFile[],
  options: { gzip?: boolean; fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ crashId: string | null; status: number; body: string }> {
  // Let Request serialize the form so we get its boundary, then send the bytes ourselves.
  const request = new Request(url, { method: 'POST', body: encodeSubmission(fields, files) });
  let body: Uint8Array = new Uint8Array(await request.arrayBuffer());
  const headers: Record<string, string> = { 'content-type': request.headers.get('content-type')! };
  if (options.gzip) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  const call = deadline(options.timeoutMs ?? 30_000);
  try {
    const response = await (options.fetch ?? fetch)(url, { method: 'POST', body: body as BodyInit, headers, signal: call.signal });
    const text = await response.text();
    return { crashId: response.ok ? (parseSubmitResponse(text)?.crashId ?? null) : null, status: response.status, body: text };
  } finally {
    call.clear();
  }
}

/** `socorrito submit`: our Breakpad-style test client. */
export async function submitCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('submit', argv, {
    url: { type: 'string' },
    field: { type: 'string', multiple: true },
    file: { type: 'string', multiple: true },
    gzip: { type: 'boolean' },
  });
  if (!values.url) throw new UsageError('submit: --url is required, e.g. --url http://127.0.0.1:8000/submit');
  const url = withSubmitPath(receiverUrl('submit', values.url)).href;
  const fields: Record<string, string> = {};
  for (const pair of values.field ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`submit: --field wants Key=Value, got ${JSON.stringify(pair)}`);
    fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const files: SubmitFile[] = [];
  for (const pair of values.file ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`submit: --file wants name=path, got ${JSON.stringify(pair)}`);
    const path = pair.slice(eq + 1);
    let data: Uint8Array;
    try {
      data = await readFile(path);
    } catch (err) {
      throw new UsageError(`submit: cannot read ${path}: ${(err as Error).message}`);
    }
    files.push({ name: pair.slice(0, eq), filename: basename(path), data });
  }
  let result;
  try {
    result = await submitCrash(url, fields, files, { gzip: values.gzip });
  } catch (err) {
    io.err(unreachable('submit', url, err));
    return 1;
  }
  if (result.crashId) {
    io.out(result.crashId);
    return 0;
  }
  io.err(`socorrito submit: ${url} answered ${result.status}: ${clipText(result.body.trim(), 300)}`);
  return 1;
}
