#!/usr/bin/env node
// Tiny shim: all wiring lives in dist/cli.js (built by `npm run build`, run by `prepare` on install).
import { main } from '../dist/cli.js';

// `mcp-keycloak doctor --help | head`: the reader went away; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
