/**
 * What reaches the terminal from a server (src/ui/terminal-text.ts, issue #19): every control character a
 * terminal acts on is shown as a visible escape; ordinary text, including non-ASCII, is left alone.
 */
import { describe, expect, it } from 'vitest';
import { escapeControl, escapeStrings } from '../../src/ui/terminal-text.js';

describe('escapeControl', () => {
  it.each([
    ['clear screen', '\u001b[2J', '\\x1b[2J'],
    ['carriage return', 'a\rb', 'a\\rb'],
    ['newline and tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['NUL', 'a\u0000b', 'a\\0b'],
    [
      'BEL ending an OSC 8 link',
      '\u001b]8;;https://evil.example/\u0007x\u001b]8;;\u0007',
      '\\x1b]8;;https://evil.example/\\x07x\\x1b]8;;\\x07',
    ],
    ['C1 CSI', '\u009b2J', '\\x9b2J'],
    ['DEL', '\u007f', '\\x7f'],
    ['right-to-left override', 'a\u202eb', 'a\\u202eb'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
  ])('shows %s escaped', (_what, input, shown) => {
    expect(escapeControl(input)).toBe(shown);
  });

  it('leaves printable text alone, non-ASCII included', () => {
    const text = '✔ Réalm "mcp-demo" → http://127.0.0.1:8000/mcp (ü, 日本)';
    expect(escapeControl(text)).toBe(text);
  });
});

describe('escapeStrings', () => {
  it('escapes every string of a report, keys included, and keeps numbers, booleans and the input as they were', () => {
    const report = { ok: true, n: 2, checks: [{ id: 'prm.resource', actual: 'x\u001b[2J' }], claims: { 'k\r': 'v\r' } };
    expect(escapeStrings(report)).toEqual({
      ok: true,
      n: 2,
      checks: [{ id: 'prm.resource', actual: 'x\\x1b[2J' }],
      claims: { 'k\\r': 'v\\r' },
    });
    expect(report.checks[0]!.actual).toBe('x\u001b[2J');
  });
});
