/**
 * What `npm pack` produces installs and runs on a machine without this repository: the tarball holds
 * the built CLI, templates, schema and docs (and no sources or tests), installs from the npm cache, and
 * answers `--help` and `init --help` both as an installed bin and through `npx --package <tarball>`.
 * Packs the current build (`npm test` builds first) with --ignore-scripts, so a half-edited source
 * tree elsewhere cannot break packing. `--help` and `--version` read nothing but the package's own
 * files: commander is inlined into dist/cli.js, and every dependency waits for the command that needs it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let root: string;
let tarball: string;
let app: string;
let files: string[];

function sh(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A clean environment, as on a fresh machine: no KEYCLOAK_* or MCP_* settings leak in.
    const clean = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      npm_config_cache: process.env.npm_config_cache ?? '',
      ...env,
    };
    if (!clean.npm_config_cache) delete (clean as Record<string, string>).npm_config_cache;
    execFile(
      command,
      args,
      { cwd, env: clean, timeout: 180_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-pack-'));
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
  for (const path of [
    'bin/mcp-keycloak.js',
    'dist/cli.js',
    'dist/commands/init.js',
    'templates/mcp-keycloak.json',
    'templates/vscode/mcp.json',
    'templates/env',
    'schema/mcp-keycloak.schema.json',
  ]) {
    expect(files).toContain(path);
  }
  expect(files.filter((f) => /^(src|test|bench|scripts)\/|(^|\/)\.env$/.test(f))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  // The README links into docs/: without it every such link is dead in the published package.
  for (const path of ['docs/README.md', 'docs/configuration.md', 'docs/commands/doctor.md'])
    expect(files).toContain(path);
  // commander is inlined into dist/cli.js: its MIT notice travels with it.
  expect(files).toContain('dist/THIRD-PARTY-LICENSES.txt');
});

/** Runs the installed CLI under a module-loader hook and returns every file it loaded as an ES module. */
async function loadedFiles(args: string[]): Promise<{ code: number; stdout: string; loaded: string[] }> {
  const trace = join(root, `trace-${args.join('-')}.txt`);
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(trace)}, url + '\\n');
  return next(url, context);
}`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  await rm(trace, { force: true });
  const bin = join(app, 'node_modules', 'mcp-keycloak', 'bin', 'mcp-keycloak.js');
  const result = await sh(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(register)}`, bin, ...args],
    app,
  );
  const loaded = (await readFile(trace, 'utf8'))
    .trim()
    .split('\n')
    .map((url) => fileURLToPath(url));
  return { code: result.code, stdout: result.stdout, loaded };
}

it("--help and --version load only the package's own files, no dependency", async () => {
  const own = await realpath(join(app, 'node_modules', 'mcp-keycloak'));
  const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  for (const args of [['--help'], ['--version'], ['init', '--help']]) {
    const { code, stdout, loaded } = await loadedFiles(args);
    expect(code).toBe(0);
    if (args[0] === '--version') expect(stdout.trim()).toBe(version);
    expect(loaded).toContain(join(own, 'dist', 'cli.js'));
    // Not the admin client, the MCP SDKs, jose, zod, chalk or ora; and no command module.
    expect(
      loaded.filter((file) => !file.startsWith(`${own}/`) || file.slice(own.length).includes('node_modules')),
    ).toEqual([]);
    expect(loaded.filter((file) => file.includes(`${join(own, 'dist', 'commands')}/`))).toEqual([]);
  }
  // The same trace sees dependencies once a command runs (so the check above can fail).
  const { loaded } = await loadedFiles(['keycloak', 'status']);
  expect(loaded).toContain(join(own, 'dist', 'commands', 'keycloak.js'));
  expect(loaded.some((file) => file.includes('/node_modules/chalk/'))).toBe(true);
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
  const result = await sh(
    'npx',
    ['--yes', '--prefer-offline', '--package', tarball, 'mcp-keycloak', 'init', '--help'],
    app,
  );
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Usage: mcp-keycloak init');
});

it('exports the library entry mcp-keycloak/server, with its types, to an installed app', async () => {
  expect(files).toContain('dist/server/library.js');
  expect(files).toContain('dist/types/server/library.d.ts');
  const probe =
    "const lib = await import('mcp-keycloak/server'); console.log(Object.keys(lib).filter((k) => ['keycloakAuth', 'createJwtVerifier', 'checkDpopProof'].includes(k)).sort().join(','));";
  const result = await sh(process.execPath, ['--input-type=module', '-e', probe], app);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout.trim()).toBe('checkDpopProof,createJwtVerifier,keycloakAuth');
  // Only the entry is public: deep imports of dist/ are closed by "exports".
  const deep = await sh(
    process.execPath,
    ['--input-type=module', '-e', "await import('mcp-keycloak/dist/cli.js')"],
    app,
  );
  expect(deep.code).not.toBe(0);
});
