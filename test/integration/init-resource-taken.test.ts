/**
 * A second project set up on an MCP URL that another realm's server already answers: init says so
 * before changing anything (which realm, and what to do), instead of verifying against the wrong
 * server and failing in doctor. A server for the same realm is reused, as before.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';
import { serveRealm } from '../support/tokens.js';

const realmA = uniqueRealm('served');
const realmB = uniqueRealm('second');
let server: RunningServer;
let resource: string;
let port: number;

beforeAll(async () => {
  ({ server, resource, port } = await serveRealm(realmA));
});
afterAll(async () => {
  await server?.close();
  await Promise.all([deleteRealm(realmA), deleteRealm(realmB)]);
});

it('refuses, naming the other realm and a free port, and writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-taken-'));
  const result = await runCli(['init', '--yes', '--realm', realmB, '--resource', resource], {
    cwd: dir,
    env: { MCP_KEYCLOAK_STATE: join(dir, '.state') },
  });
  expect(result.code).toBe(64);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toContain(`Another MCP server already answers at ${resource}, for realm "${realmA}"`);
  expect(result.stderr).toContain(`not for realm "${realmB}"`);
  expect(result.stderr).toMatch(new RegExp(`init --resource http://127\\.0\\.0\\.1:(\\d+)/mcp`));
  const suggested = Number(/init --resource http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(result.stderr)?.[1]);
  expect(suggested).toBeGreaterThan(port);
  expect(result.stderr).toContain('Nothing was written.');
  expect(await readdir(dir)).toEqual([]);
  expect(await (await adminClient()).realms.findOne({ realm: realmB })).toBeFalsy();
});

it('reuses a server that answers for this very realm, and doctor is green against it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-taken-'));
  const result = await runCli(['init', '--yes', '--no-test-user', '--realm', realmA, '--resource', resource], {
    cwd: dir,
    env: { MCP_KEYCLOAK_STATE: join(dir, '.state') },
  });
  expect(result.code, result.stderr + result.stdout).toBe(0);
  expect(result.stdout).not.toContain('Starting the reference MCP server');
  // No failures; with --features=cimd before 26.8.0 the one warning is claude.ai's refused CIMD document (keycloak#50362).
  expect(result.stdout).toMatch(/All checks passed|No failures: \d+ passed, 1 warning/);
  expect(result.stdout).not.toMatch(/check\(s\) failed/);
});
