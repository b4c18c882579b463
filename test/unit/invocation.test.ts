/**
 * How printed commands spell "run mcp-keycloak": through npx as the user typed it, the bare name when
 * PATH's mcp-keycloak is this program, else node and the absolute path of this bin. Real files, links
 * and PATH folders in a temporary directory; nothing is faked but npm's environment variables.
 */
import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { invocation } from '../../src/ui/invocation.js';

let root: string;
let ownBin: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-invocation-'));
  ownBin = join(root, 'checkout', 'bin', 'mcp-keycloak.js');
  await mkdir(join(root, 'checkout', 'bin'), { recursive: true });
  await writeFile(ownBin, '#!/usr/bin/env node\n');
  await chmod(ownBin, 0o755);
});

/** A folder with an executable `mcp-keycloak` in it: a link to `target`, or a file of its own. */
async function pathDir(name: string, target?: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  if (target) await symlink(target, join(dir, 'mcp-keycloak'));
  else {
    await writeFile(join(dir, 'mcp-keycloak'), '#!/bin/sh\n');
    await chmod(join(dir, 'mcp-keycloak'), 0o755);
  }
  return dir;
}

/** npx's cache folder for one run: `<hash>/package.json` records the spec, `<hash>/node_modules/.bin` holds the link. */
async function npxCache(spec: string): Promise<string> {
  const hash = join(root, '_npx', Math.random().toString(16).slice(2));
  await mkdir(join(hash, 'node_modules', '.bin'), { recursive: true });
  await writeFile(
    join(hash, 'package.json'),
    JSON.stringify({ dependencies: { 'mcp-keycloak': spec }, _npx: { packages: [spec] } }),
  );
  await symlink(ownBin, join(hash, 'node_modules', '.bin', 'mcp-keycloak'));
  return join(hash, 'node_modules', '.bin', 'mcp-keycloak');
}

describe('started through npx or npm exec', () => {
  it('repeats the package spec the user gave npx: a checkout path, a version, the registry name', async () => {
    const checkout = join(root, 'checkout');
    for (const [spec, expected] of [
      [checkout, `npx ${checkout}`],
      ['mcp-keycloak@0.1.0', 'npx mcp-keycloak@0.1.0'],
      ['mcp-keycloak', 'npx mcp-keycloak'],
      ['/tmp/with space', "npx '/tmp/with space'"],
    ]) {
      const argv1 = await npxCache(spec!);
      expect(invocation({ env: { npm_command: 'exec', PATH: join(argv1, '..') }, argv1, ownBin, cwd: root })).toBe(
        expected,
      );
    }
  });

  it('says npx mcp-keycloak for a project install (no npx record next to node_modules)', async () => {
    const project = join(root, 'project');
    const bin = await pathDir(join('project', 'node_modules', '.bin'), ownBin);
    expect(
      invocation({ env: { npm_command: 'exec', PATH: bin }, argv1: join(bin, 'mcp-keycloak'), ownBin, cwd: project }),
    ).toBe('npx mcp-keycloak');
  });
});

describe('started some other way', () => {
  it('says mcp-keycloak when the first mcp-keycloak on PATH is this program (global install, npm link)', async () => {
    const global = await pathDir('global-bin', ownBin);
    expect(invocation({ env: { PATH: `${join(root, 'empty')}:${global}` }, ownBin, cwd: root })).toBe('mcp-keycloak');
  });

  it('says npx mcp-keycloak when that PATH entry is a node_modules/.bin (npm run adds it; the shell does not have it)', async () => {
    const bin = await pathDir(join('run-project', 'node_modules', '.bin'), ownBin);
    expect(invocation({ env: { npm_command: 'run', PATH: bin }, ownBin, cwd: root })).toBe('npx mcp-keycloak');
  });

  it('says node and the absolute path when PATH has another mcp-keycloak first, or none', async () => {
    const other = await pathDir('other-bin');
    const global = await pathDir('global-bin-2', ownBin);
    expect(invocation({ env: { PATH: `${other}:${global}` }, ownBin, cwd: root })).toBe(`node ${ownBin}`);
    expect(invocation({ env: { PATH: join(root, 'empty') }, ownBin, cwd: root })).toBe(`node ${ownBin}`);
    expect(invocation({ env: {}, ownBin, cwd: root })).toBe(`node ${ownBin}`);
  });

  it('quotes a path with spaces so the command can be pasted', async () => {
    const spaced = join(root, 'my checkout', 'bin', 'mcp-keycloak.js');
    await mkdir(join(root, 'my checkout', 'bin'), { recursive: true });
    await writeFile(spaced, '');
    expect(invocation({ env: {}, ownBin: spaced, cwd: root })).toBe(`node '${spaced}'`);
  });
});
