/**
 * What `npm pack` produces installs and runs on a machine without this repository: the tarball holds
 * the built CLI, templates and schema (and no sources or tests), installs from the npm cache, and
 * answers `--help` and `init --help` both as an installed bin and through `npx --package <tarball>`.
 * Packs the current build (`npm test` builds first) with --ignore-scripts, so a half-edited source
 * tree elsewhere cannot break packing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let tarball: string;
let app: string;
let files: string[];

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A clean environment, as on a fresh machine: no KEYCLOAK_* or MCP_* settings leak in.
    const clean = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_cache: process.env.npm_config_cache ?? '', ...env };
    if (!clean.npm_config_cache) delete (clean as Record<string, string>).npm_config_cache;
    execFile(command, args, { cwd, env: clean, timeout: 180_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-pack-'));
  const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], repo);
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(root, info!.filename);
  files = info!.files.map((f) => f.path);
  app = join(root, 'app');
  await sh('mkdir', ['-p', app], root);
  await writeFile(join(app, 'package.json'), '{"name": "fresh-app", "private": true}\n');
  const installed = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
  expect(installed.code, installed.stderr).toBe(0);
}, 240_000);

it('ships the CLI, its templates and schema, and nothing of the workspace', () => {
  for (const path of ['bin/mcp-keycloak.js', 'dist/cli.js', 'dist/commands/init.js', 'templates/mcp-keycloak.json', 'templates/vscode/mcp.json', 'templates/env', 'schema/mcp-keycloak.schema.json']) {
    expect(files).toContain(path);
  }
  expect(files.filter((f) => /^(src|test|bench|scripts)\/|(^|\/)\.env$/.test(f))).toEqual([]);
});

it('runs --help and init --help from the installed package', async () => {
  const bin = join(app, 'node_modules', '.bin', 'mcp-keycloak');
  const help = await sh(bin, ['--help'], app);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/init \[options\]/);
  const initHelp = await sh(bin, ['init', '--help'], app);
  expect(initHelp.code).toBe(0);
  expect(initHelp.stdout).toContain('Usage: mcp-keycloak init');
  expect(initHelp.stdout).toContain('Example');
});

it('runs through npx with the tarball', { timeout: 180_000 }, async () => {
  const result = await sh('npx', ['--yes', '--prefer-offline', '--package', tarball, 'mcp-keycloak', 'init', '--help'], app);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Usage: mcp-keycloak init');
});
