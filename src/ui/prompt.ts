/** Minimal terminal prompts (yes/no, text, hidden text) on node:readline: no extra dependency needed. */
import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from '../errors.js';

function interrupted(): never {
  throw new CliError('Interrupted: nothing was written.', ExitCode.interrupted);
}

/** Asks one question on the terminal (stderr) and returns the answer, or `fallback` for an empty one; Ctrl-C aborts. */
export async function ask(question: string, fallback = ''): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Ctrl-C in a raw-mode readline is an event, not a signal: without aborting the pending question,
  // its promise would never settle and Node would exit with 13 ("unsettled top-level await").
  const abort = new AbortController();
  rl.on('SIGINT', () => {
    process.stderr.write('\n');
    abort.abort();
  });
  try {
    const suffix = fallback ? ` (${fallback})` : '';
    const answer = await rl.question(`${question}${suffix}: `, { signal: abort.signal }).catch(() => interrupted());
    if (abort.signal.aborted) interrupted();
    return answer.trim() || fallback;
  } finally {
    rl.close();
  }
}

/** A yes/no question; an empty answer is `fallback`. */
export async function confirm(question: string, fallback = false): Promise<boolean> {
  const answer = (await ask(`${question} [${fallback ? 'Y/n' : 'y/N'}]`)).toLowerCase();
  if (!answer) return fallback;
  return answer === 'y' || answer === 'yes';
}

/** Reads a secret without echoing it; Ctrl-C aborts. */
export async function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    // Raw mode before the prompt appears: a Ctrl-C typed right after it must reach us as a key,
    // not as SIGINT from a terminal still in cooked mode.
    stdin.setRawMode?.(true);
    process.stderr.write(`${question}: `);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode?.(wasRaw ?? false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\u0003') return done(new CliError('Interrupted: nothing was written.', ExitCode.interrupted));
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
