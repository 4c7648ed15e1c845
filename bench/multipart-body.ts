import { jsCrashFields } from '../test/helpers/submit.ts';

/** A typical JavaScript crash submission (about 10 KB) as multipart bytes. */
export function multipartBody(): { body: Buffer; contentType: string } {
  const boundary = '----socorritobench7f3a';
  const fields = jsCrashFields({ JSStack: jsCrashFields().JSStack!.repeat(2) });
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}
