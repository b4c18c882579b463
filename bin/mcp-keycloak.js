#!/usr/bin/env node
// Tiny shim: all wiring lives in dist/cli.js (built by `npm run build`, run by `prepare` on install).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv);
