/**
 * The official Python MCP SDK as a test client: a virtual environment with a pinned `mcp`, made once and cached
 * outside the repo like the Keycloak distribution (MCP_KEYCLOAK_CACHE, else $XDG_CACHE_HOME/mcp-keycloak, else
 * ~/.cache/mcp-keycloak), in `python-venv-mcp-<version>`. It is built in a temporary folder and renamed into place
 * when complete, so parallel test files and an interrupted install never see half a venv.
 *
 * Without a usable Python (3.10+, with venv and pip) the tests that need it say so: outside CI they skip with
 * that reason, with CI=true they fail (a CI machine must run them).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Python SDK the tests pin: the newest 2.x on PyPI when written (December 2026). */
export const PYTHON_MCP_VERSION = '2.3.0';
/** The interpreter that builds the venv: MCP_KEYCLOAK_PYTHON, else `python3` on PATH. */
const PYTHON = process.env.MCP_KEYCLOAK_PYTHON || 'python3';
const MARKER = '.mcp-keycloak-complete';

function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  // The same rule as src/local/distribution.ts, where the Keycloak distribution is cached.
  if (env.MCP_KEYCLOAK_CACHE) return env.MCP_KEYCLOAK_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-keycloak');
}

/** The venv's folder for the pinned version. */
export function pythonVenvDir(): string {
  return join(cacheRoot(), `python-venv-mcp-${PYTHON_MCP_VERSION}`);
}

/** Why the Python SDK tests cannot run here, or undefined when Python 3.10+ with venv and pip is available. */
export async function pythonUnavailable(): Promise<string | undefined> {
  if (existsSync(join(pythonVenvDir(), MARKER))) return undefined;
  try {
    await run(PYTHON, ['-c', 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 3)']);
    return undefined;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') return `${PYTHON} is not installed (set MCP_KEYCLOAK_PYTHON to a Python 3.10+)`;
    if (code === 3) return `${PYTHON} is older than 3.10, which mcp ${PYTHON_MCP_VERSION} needs`;
    return `${PYTHON} lacks venv or ensurepip (pip): on Debian, apt-get install python3-venv`;
  }
}

/**
 * The venv's python with `mcp==PYTHON_MCP_VERSION`, creating it when missing (pip needs the package index once;
 * about 20 s). Throws with pip's last lines when the install fails.
 */
export async function ensurePythonSdk(): Promise<string> {
  const dir = pythonVenvDir();
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, MARKER))) return python;
  await mkdir(cacheRoot(), { recursive: true });
  const building = `${dir}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await run(PYTHON, ['-m', 'venv', building]);
    await run(
      join(building, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `mcp==${PYTHON_MCP_VERSION}`],
      { timeout: 300_000, maxBuffer: 8 * 1024 * 1024 },
    ).catch((error: { stderr?: string; message: string }) => {
      const tail = (error.stderr ?? error.message).trim().split('\n').slice(-3).join(' ');
      throw new Error(`pip install mcp==${PYTHON_MCP_VERSION} failed: ${tail}`);
    });
    await writeFile(join(building, MARKER), `mcp==${PYTHON_MCP_VERSION}\n`);
    // A venv's python finds its packages through pyvenv.cfg next to it, so the folder may move once complete.
    await rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
      if (!existsSync(join(dir, MARKER))) throw error; // another test file finished first: use its venv
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return python;
}
