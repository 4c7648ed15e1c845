import { jsCrashFields } from '../test/helpers/submit.ts';

/** The size the issue names for a typical JavaScript crash submission. */
const TYPICAL_BYTES = 10 * 1024;

/** A typical JavaScript crash submission (10 KB, most of it the stack) as multipart bytes. */
export function multipartBody(): { body: Buffer; contentType: string } {
  const boundary = '----socorritobench7f3a';
  const frames = jsCrashFields().JSStack!.split('\n');
  const encode = (stack: string[]): Buffer => {
    const fields = jsCrashFields({ JSStack: stack.join('\n') });
    const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    return Buffer.from(`${parts.join('')}--${boundary}--\r\n`);
  };
  // Frames are added (the app's own, then again) until the body reaches the typical size.
  const stack: string[] = [];
  let body = encode(stack);
  while (body.length < TYPICAL_BYTES) {
    stack.push(frames[stack.length % frames.length]!);
    body = encode(stack);
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
