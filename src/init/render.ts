/**
 * Renders the files in `templates/`. Placeholders are `{{name}}`; the caller decides how each value
 * is encoded (JSON-quoted for JSON templates, raw for .env lines), and a placeholder left unfilled is
 * a bug caught here rather than a file with `{{...}}` in it.
 */
import { readFile } from 'node:fs/promises';

/** templates/ sits next to dist/ in the package (and next to src/ in the repository). */
const TEMPLATES_DIR = new URL('../../templates/', import.meta.url);

/** The text of a file in templates/. */
export async function loadTemplate(name: string): Promise<string> {
  return readFile(new URL(name, TEMPLATES_DIR), 'utf8');
}

/** Replaces each `{{name}}` in `template` with its value; a placeholder without a value is a bug and throws. */
export function fill(template: string, values: Record<string, string>): string {
  const out = template.replace(/\{\{(\w+)\}\}/g, (match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template placeholder ${match} has no value`);
    return value;
  });
  return out;
}

/** Fills a JSON template with JSON-encoded values and parses the result. */
export function fillJson(template: string, values: Record<string, unknown>): Record<string, unknown> {
  const encoded = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, JSON.stringify(value)]));
  return JSON.parse(fill(template, encoded)) as Record<string, unknown>;
}

/** .env values: quoted when they hold anything a shell or dotenv parser could misread. */
export function envValue(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** A .env value as the shell would read it: surrounding quotes removed, escapes undone. */
function unquoteEnv(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2)
    return trimmed.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  if (trimmed.startsWith("'") && trimmed.endsWith("'") && trimmed.length >= 2) return trimmed.slice(1, -1);
  return trimmed;
}

/** KEY=VALUE lines of a .env file (comments and blank lines skipped). */
export function parseEnv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (match) values.set(match[1]!, unquoteEnv(match[2]!));
  }
  return values;
}

/**
 * Sets `updates` in an existing .env text: changed keys are rewritten in place, new ones appended,
 * every other line (the user's) kept as it was.
 */
export function mergeEnv(existing: string, updates: Map<string, string>): string {
  const pending = new Map(updates);
  const lines = existing
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      const key = match?.[1];
      if (key && pending.has(key)) {
        const value = pending.get(key)!;
        pending.delete(key);
        return `${key}=${envValue(value)}`;
      }
      return line;
    });
  for (const [key, value] of pending) lines.push(`${key}=${envValue(value)}`);
  return `${lines.join('\n')}\n`;
}
