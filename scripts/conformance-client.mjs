#!/usr/bin/env node
/**
 * The e2e flow as a client under test for `@modelcontextprotocol/conformance client`: the suite starts a
 * scenario's MCP server and authorization server and appends the server URL to this command. The user
 * step is the same headless user; the suite's authorization endpoint redirects without a login page.
 * SDK line from MCP_E2E_SDK (v1 | v2, default v2). Needs `npm run build` first.
 */
import { runE2e } from '../dist/e2e/index.js';

const serverUrl = process.argv.at(-1);
const report = await runE2e({ serverUrl, username: 'conformance', password: 'conformance', sdk: process.env.MCP_E2E_SDK ?? 'v2' });
for (const check of report.checks) process.stderr.write(`${check.status.padEnd(4)} ${check.id}: ${check.actual}\n`);
process.exitCode = report.ok ? 0 : 1;
