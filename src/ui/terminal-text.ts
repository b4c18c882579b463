/**
 * Text from servers, made safe to print. doctor reports what the MCP server and the documents it names
 * say, and a terminal acts on control characters: `\x1b[2J` clears the screen, `\r` returns to the line's
 * start so that later text covers earlier text, an OSC 8 sequence makes a link whose target is hidden.
 * A server could so erase the report and print a fake "✔ All checks passed" (issue #19). Every such
 * character is shown as a visible escape instead; `--json` needs none of this (JSON escapes them).
 */

/**
 * C0 controls (NUL, BEL, BS, TAB, LF, CR, ESC…), DEL, C1 controls (0x9B is a one-byte CSI in many
 * terminals), the Unicode line and paragraph separators, and the bidirectional controls that reorder
 * what is shown (the "Trojan Source" characters, CVE-2021-42574).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

function visible(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character shown as an escape: ESC as `\x1b`, CR as `\r`, U+202E as `\u202e`. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, visible);
}

/** A copy of `value` (a report: strings, numbers, arrays, plain objects) with every string escaped. */
export function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((item) => escapeStrings(item)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[escapeControl(key)] = escapeStrings(item);
    return copy as T;
  }
  return value;
}
