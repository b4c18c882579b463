/**
 * How to spell "run mcp-keycloak" in the commands we print (next steps, fixes, hints), so that a
 * pasted command runs this very program again. `npx mcp-keycloak` is only right when the user came
 * through npx: from a checkout, or before the package is published, it is an npm E404.
 *
 * The rule, first match wins:
 *  1. started by npx / `npm exec` (npm sets npm_command=exec): `npx <what the user typed>`: npx
 *     records it in its cache folder's package.json (`_npx.packages`), so a checkout path or a git
 *     spec is repeated as such; `npx mcp-keycloak` when that record is not there (a project install);
 *  2. the first `mcp-keycloak` on PATH is this program (global install, `npm link`): `mcp-keycloak`;
 *     when that PATH entry is a node_modules/.bin (added by `npm run`, or a project install), the
 *     user's own shell may not have it, so `npx mcp-keycloak`, which finds the project's copy;
 *  3. otherwise `node /absolute/path/to/bin/mcp-keycloak.js`, which works from anywhere.
 */
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's bin script (dist/ui → ../../bin, and src/ui → ../../bin under the tests). */
const OWN_BIN = fileURLToPath(new URL('../../bin/mcp-keycloak.js', import.meta.url));

export interface InvocationFacts {
  env: NodeJS.ProcessEnv;
  /** process.argv[1]: the path the program was started through (npx's .bin link, a PATH link, …). */
  argv1?: string;
  /** Absolute path of this package's bin script. */
  ownBin: string;
  /** Working directory, to make a relative npx path spec absolute. */
  cwd: string;
}

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The shell-safe spelling of one word. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./~-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The first executable `mcp-keycloak` on PATH, as the shell would find it (POSIX; Windows shims are not links). */
function onPath(env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform === 'win32') return undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'mcp-keycloak');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What the user gave npx, from `<npx cache>/<hash>/package.json` when argv1 is `<hash>/node_modules/.bin/…`. */
function npxSpec(argv1: string | undefined, cwd: string): string | undefined {
  if (!argv1) return undefined;
  const bin = dirname(argv1);
  if (basename(bin) !== '.bin' || basename(dirname(bin)) !== 'node_modules') return undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(dirname(dirname(bin)), 'package.json'), 'utf8')) as {
      _npx?: { packages?: unknown };
    };
    const packages = manifest._npx?.packages;
    if (!Array.isArray(packages) || packages.length !== 1 || typeof packages[0] !== 'string') return undefined;
    const spec = packages[0];
    // npm already records path specs as absolute paths; make sure a relative one survives a change of folder.
    return spec.startsWith('.') && !isAbsolute(spec) ? resolve(cwd, spec) : spec;
  } catch {
    return undefined; // a project install (no npx manifest), or npm changed its cache layout
  }
}

/** The command prefix that runs this program again, e.g. `npx mcp-keycloak` or `node /…/bin/mcp-keycloak.js`. */
export function invocation(facts: InvocationFacts): string {
  const { env, argv1, ownBin, cwd } = facts;
  if (env.npm_command === 'exec') return `npx ${shellWord(npxSpec(argv1, cwd) ?? 'mcp-keycloak')}`;
  const self = real(ownBin) ?? ownBin;
  const found = onPath(env);
  if (found && real(found) === self) {
    return basename(dirname(found)) === '.bin' && basename(dirname(dirname(found))) === 'node_modules'
      ? 'npx mcp-keycloak'
      : 'mcp-keycloak';
  }
  return `node ${shellWord(self)}`;
}

let cached: string | undefined;

/** `<how this program was run> <args>`: the one way every printed command is spelled. */
export function command(args: string): string {
  cached ??= invocation({
    env: process.env,
    ownBin: OWN_BIN,
    cwd: process.cwd(),
    ...(process.argv[1] ? { argv1: process.argv[1] } : {}),
  });
  return args ? `${cached} ${args}` : cached;
}

/** `command()` for separate arguments, each spelled shell-safe: `commandLine(['apply', '--config', 'my file.json'])`. */
export function commandLine(args: readonly string[]): string {
  return command(args.map(shellWord).join(' '));
}
