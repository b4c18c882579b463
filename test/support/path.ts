/**
 * A PATH on which `mcp-keycloak` is NOT this checkout's CLI, for tests that expect printed commands
 * spelled `node <path>/bin/mcp-keycloak.js`. Dropping every folder that holds an `mcp-keycloak` (a
 * developer's `npm link`, as the README's quickstart does) would also drop node, java and sleep when npm's
 * global bin is /usr/bin; instead a stand-in `mcp-keycloak` that is another program comes first.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const stand = mkdtempSync(join(tmpdir(), 'mcp-keycloak-other-bin-'));
writeFileSync(join(stand, 'mcp-keycloak'), '#!/bin/sh\necho "not the mcp-keycloak under test" >&2\nexit 99\n');
chmodSync(join(stand, 'mcp-keycloak'), 0o755);

/** process.env.PATH with a stand-in `mcp-keycloak` (another program) in front. */
export const PATH_WITHOUT_THIS_CLI = [stand, process.env.PATH ?? ''].join(delimiter);
