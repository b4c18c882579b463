/**
 * The HTTPS download path of the Keycloak distribution, against a loopback "Maven repository"
 * (MCP_KEYCLOAK_MAVEN_REPO): the published checksum is verified before anything is unpacked, progress
 * is reported, and a mismatch leaves neither archive nor distribution behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureDistribution } from '../../src/local/distribution.js';
import { run } from '../../src/local/process.js';

const version = '99.0.1-test';
const path = `/org/keycloak/keycloak-quarkus-dist/${version}/keycloak-quarkus-dist-${version}.tar.gz`;
let archive: Buffer;
let checksum: string;
let server: Server;
let repo: string;

beforeAll(async () => {
  const build = await mkdtemp(join(tmpdir(), 'mcp-keycloak-fake-dist-'));
  await mkdir(join(build, `keycloak-${version}`, 'bin'), { recursive: true });
  await writeFile(join(build, `keycloak-${version}`, 'bin', 'kc.sh'), '#!/bin/sh\n', { mode: 0o755 });
  // Incompressible padding, so the download spans several progress steps.
  await writeFile(join(build, `keycloak-${version}`, 'padding.bin'), randomBytes(1_500_000));
  await run('tar', ['-czf', join(build, 'dist.tar.gz'), '-C', build, `keycloak-${version}`]);
  archive = await readFile(join(build, 'dist.tar.gz'));
  checksum = createHash('sha512').update(archive).digest('hex');
  server = createServer((req, res) => {
    if (req.url === path) {
      res.writeHead(200, { 'content-length': archive.length });
      res.end(archive);
    } else if (req.url === `${path}.sha512`) res.end(`${checksum}  keycloak.tar.gz\n`);
    else if (req.url === `/bad${path}`) res.end(archive);
    else if (req.url === `/bad${path}.sha512`) res.end(`${'0'.repeat(128)}\n`);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  repo = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('downloads, verifies the sha512, reports progress and unpacks into the cache', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'mcp-keycloak-cache-'));
  const progress: string[] = [];
  const home = await ensureDistribution({
    version,
    env: { MCP_KEYCLOAK_CACHE: cache, MCP_KEYCLOAK_MAVEN_REPO: repo },
    onProgress: (m) => progress.push(m),
  });
  expect(home).toBe(join(cache, `keycloak-${version}`));
  expect(existsSync(join(home, 'bin', 'kc.sh'))).toBe(true);
  const steps = progress.filter((m) => m.startsWith(`downloading Keycloak ${version}: `));
  expect(steps.length).toBeGreaterThan(1);
  expect(steps.at(-1)).toBe(`downloading Keycloak ${version}: 100% of 2 MB`);
  expect(progress.some((m) => m.startsWith('unpacking'))).toBe(true);
  // Cached: a second call downloads nothing.
  const again: string[] = [];
  expect(
    await ensureDistribution({
      version,
      env: { MCP_KEYCLOAK_CACHE: cache, MCP_KEYCLOAK_MAVEN_REPO: repo },
      onProgress: (m) => again.push(m),
    }),
  ).toBe(home);
  expect(again).toEqual([]);
});

it('refuses an archive whose checksum does not match, leaving nothing behind', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'mcp-keycloak-cache-'));
  await expect(
    ensureDistribution({ version, env: { MCP_KEYCLOAK_CACHE: cache, MCP_KEYCLOAK_MAVEN_REPO: `${repo}/bad` } }),
  ).rejects.toThrow(/Checksum mismatch .*\(sha512\): the download is corrupt or tampered with; nothing was unpacked/);
  expect(await readdir(cache)).toEqual([]);
});
