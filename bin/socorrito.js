#!/usr/bin/env node
// The `socorrito` command. The sources are TypeScript run through tsx, so there is no build step
// between a clone and a running receiver.

// Crash writes, journal flushes and processing all wait on libuv's thread pool; with its default
// of 4 threads, a few slow fsyncs would hold up every other file operation. Set before the pool
// starts (it starts on first use), hence before any other import.
process.env.UV_THREADPOOL_SIZE ??= '16';

// V8 allocates an allocation site's objects straight in the old generation once nearly all of
// them outlive a young collection. Under a burst of submissions a site in the request path got
// that treatment in about two runs of three, and each request's short-lived objects then
// outlived their request, kept by those old ones until the next full collection: four times the
// bytes promoted per scavenge, scavenges half again as long, three times the full collections.
// Set before any of our code runs.
(await import('node:v8')).setFlagsFromString('--no-allocation-site-pretenuring');

const { fileURLToPath } = await import('node:url');
const { register } = await import('tsx/esm/api');
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../receiver/src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Commands have finished their work here; a stray timer or idle socket must not keep the
// process (and a service manager waiting on it) alive. stdout and stderr are synchronous for
// files and pipes on Linux, so nothing printed is lost.
process.exit(code);
