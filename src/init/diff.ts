/** A small line diff (LCS) for showing what `init` would change in a file the user already has. */

export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // Files init writes are a few dozen lines: the quadratic table is fine.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ sign: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ sign: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ sign: '-', line: a[i]! });
      i++;
    } else {
      ops.push({ sign: '+', line: b[j]! });
      j++;
    }
  }
  // Keep only changed lines and `context` lines around them.
  const keep = ops.map((op, index) =>
    ops.slice(Math.max(0, index - context), index + context + 1).some((o) => o.sign !== ' '),
  );
  const out: string[] = [];
  ops.forEach((op, index) => {
    if (keep[index]) out.push(`${op.sign} ${op.line}`);
    else if (keep[index - 1]) out.push('  …');
  });
  return out;
}
