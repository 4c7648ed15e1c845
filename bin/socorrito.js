#!/usr/bin/env node
// The `socorrito` command. The sources are TypeScript run through tsx, so there is no build step
// between a clone and a running receiver.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../receiver/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
