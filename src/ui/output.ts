/**
 * Everything that decides how output looks: colour and spinners for people on a TTY, nothing but
 * data for machines (--json) and pipes. NO_COLOR (https://no-color.org) turns colour off.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export interface Ui {
  json: boolean;
  interactive: boolean;
  color: ChalkInstance;
  /** A line for people on stdout (suppressed with --json). */
  info(line: string): void;
  /** A line on stderr (warnings, progress without a TTY). */
  warn(line: string): void;
  /** A machine-readable document on stdout. */
  data(value: unknown): void;
  /** Runs `work` under a spinner on a TTY, silently otherwise. */
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
}

export interface UiOptions {
  json?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/** The output of one command run: text or JSON, colour and spinners only on a terminal without NO_COLOR. */
export function createUi(options: UiOptions = {}): Ui {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const json = Boolean(options.json);
  const tty = Boolean(stdout.isTTY) && !json;
  const colorOn = tty && !env.NO_COLOR && env.TERM !== 'dumb';
  const color = new Chalk({ level: colorOn ? 1 : 0 });
  // A terminal that reports no width (some CI ptys) would make the spinner redraw garbage.
  const spinners = Boolean(stderr.isTTY) && tty && !env.CI && (stderr.columns ?? 0) > 0;
  return {
    json,
    interactive: Boolean(process.stdin.isTTY) && tty,
    color,
    info: (line) => {
      if (!json) stdout.write(`${line}\n`);
    },
    warn: (line) => {
      stderr.write(`${line}\n`);
    },
    data: (value) => {
      stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    step: async (label, work) => {
      if (!spinners) return work();
      const { default: ora } = await import('ora');
      const spinner = ora({ text: label, stream: stderr, color: colorOn ? 'cyan' : false }).start();
      try {
        const result = await work();
        spinner.stop();
        return result;
      } catch (error) {
        spinner.stop();
        throw error;
      }
    },
  };
}
