/**
 * Reads `./.env` (the file `init` writes for `serve` and `doctor`) into process.env, for variables
 * the environment does not already set: the shell and CI always win, flags win over both.
 * Synchronous and dependency-free, because it runs on every start, `--help` included.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from './render.js';

/** Loads `<cwd>/.env` into `env` where a variable is not already set; returns the names it set. */
export function loadDotenv(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string[] {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return []; // unreadable (permissions): behave as if absent rather than fail every command
  }
  const loaded: string[] = [];
  for (const [key, value] of parseEnv(text)) {
    if (env[key] === undefined) {
      env[key] = value;
      loaded.push(key);
    }
  }
  return loaded;
}
