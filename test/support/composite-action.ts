/**
 * Runs the repository's composite GitHub Action (action.yml) as a runner would: each step's `run:` script
 * with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`), the step's `env:` with its
 * `${{ inputs.* }}` and `${{ github.action_path }}` filled in, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY
 * files per step, and the first failing step ending the run. Only what action.yml uses is supported; any
 * other expression, a `uses:` step or an `if:` throws, so the action cannot grow a step the tests skip.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ACTION_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ActionStep {
  name?: string;
  id?: string;
  shell?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
  'working-directory'?: string;
}

interface ActionDefinition {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export interface ActionRun {
  /** The exit code of the first step that failed, or 0. */
  code: number;
  stdout: string;
  stderr: string;
  /** The action's outputs, as a later step of the workflow reads them. */
  outputs: Record<string, string>;
  /** What the steps appended to their step summaries. */
  stepSummary: string;
}

export function loadAction(): ActionDefinition {
  const action = parse(readFileSync(join(ACTION_ROOT, 'action.yml'), 'utf8')) as ActionDefinition;
  if (action.runs.using !== 'composite') throw new Error(`action.yml: runs.using is ${action.runs.using}`);
  return action;
}

/** `${{ expr }}` replaced through `lookup`, which throws for what it does not know. */
function expand(text: string, lookup: (expression: string) => string): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expression: string) => lookup(expression));
}

function inputValues(action: ActionDefinition, given: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(given)) if (!(name in action.inputs)) throw new Error(`no input ${name}`);
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, input]) => {
      if (input.required && given[name] === undefined) throw new Error(`input ${name} is required`);
      return [name, given[name] ?? input.default ?? ''];
    }),
  );
}

/** Lines `name=value` of a $GITHUB_OUTPUT file (the action writes no multi-line values). */
function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 0) throw new Error(`unsupported $GITHUB_OUTPUT line: ${line}`);
    outputs[line.slice(0, at)] = line.slice(at + 1);
  }
  return outputs;
}

function runScript(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<Omit<ActionRun, 'outputs' | 'stepSummary'>> {
  const file = join(env.RUNNER_TEMP!, `step-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  return new Promise((done) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { env, cwd, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end();
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * Runs the action's steps in order with `inputs`, the job's `env` and `cwd` as the workspace; the runner's
 * temp folder (where the outputs' files are) goes under `tempRoot`, for the caller to delete.
 */
export async function runAction(
  given: Record<string, string>,
  options: { env: Record<string, string>; cwd: string; tempRoot?: string },
): Promise<ActionRun> {
  const action = loadAction();
  const inputs = inputValues(action, given);
  const runnerTemp = mkdtempSync(join(options.tempRoot ?? tmpdir(), 'runner-temp-'));
  const lookup = (expression: string): string => {
    if (expression === 'github.action_path') return ACTION_ROOT;
    const input = /^inputs\.([\w-]+)$/.exec(expression)?.[1];
    if (input !== undefined && input in inputs) return inputs[input]!;
    throw new Error(`action.yml: unsupported expression \${{ ${expression} }}`);
  };
  const result: ActionRun = { code: 0, stdout: '', stderr: '', outputs: {}, stepSummary: '' };
  const stepOutputs: Record<string, Record<string, string>> = {};
  for (const [index, step] of action.runs.steps.entries()) {
    if (step.uses !== undefined || step.if !== undefined || step.shell !== 'bash' || step.run === undefined)
      throw new Error(`action.yml step ${index}: only \`shell: bash\` run steps without if: are supported`);
    if (step.run.includes('${{')) throw new Error(`action.yml step ${index}: an expression inside run: (use env:)`);
    const files = {
      GITHUB_OUTPUT: join(runnerTemp, `output-${index}`),
      GITHUB_STEP_SUMMARY: join(runnerTemp, `summary-${index}`),
    };
    for (const file of Object.values(files)) writeFileSync(file, '');
    const stepEnv = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([name, value]) => [name, expand(String(value), lookup)]),
    );
    const env = { ...options.env, CI: 'true', GITHUB_ACTIONS: 'true', RUNNER_TEMP: runnerTemp, ...files, ...stepEnv };
    const cwd = resolve(options.cwd, expand(step['working-directory'] ?? '.', lookup));
    const { code, stdout, stderr } = await runScript(step.run, env, cwd);
    result.stdout += stdout;
    result.stderr += stderr;
    result.stepSummary += readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    if (step.id !== undefined) stepOutputs[step.id] = readOutputs(files.GITHUB_OUTPUT);
    if (code !== 0) {
      result.code = code;
      break;
    }
  }
  for (const [name, output] of Object.entries(action.outputs)) {
    const value = expand(output.value, (expression) => {
      const [, id, key] = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression) ?? [];
      if (id === undefined) throw new Error(`action.yml output ${name}: unsupported expression ${expression}`);
      return stepOutputs[id]?.[key!] ?? '';
    });
    result.outputs[name] = value;
  }
  return result;
}
