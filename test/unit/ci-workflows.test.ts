/**
 * The example workflows of docs/ci.md against action.yml: each parses as YAML, gives the action only inputs it
 * declares (and every required one), reads only outputs it declares, and keeps `${{ }}` out of `run:` scripts.
 * No Keycloak: ci-recipe.test.ts runs the action itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTION_ROOT, loadAction } from '../support/composite-action.js';

interface WorkflowStep {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Workflow {
  on: unknown;
  jobs: Record<string, { steps: WorkflowStep[] }>;
}

const page = readFileSync(join(ACTION_ROOT, 'docs', 'ci.md'), 'utf8');
const workflows = Array.from(page.matchAll(/```yaml\n([\s\S]*?)```/g), (match) => parse(match[1]!) as Workflow).filter(
  (document) => typeof document === 'object' && document !== null && 'jobs' in document,
);
const action = loadAction();
const isOurs = (step: WorkflowStep) => /^OWNER\/mcp-keycloak@/.test(step.uses ?? '');

describe('the example workflows of docs/ci.md', () => {
  it('are three: plan on pull requests, apply on main, a scheduled drift check', () => {
    const commands = workflows.flatMap((workflow) =>
      Object.values(workflow.jobs).flatMap((job) => job.steps.filter(isOurs).map((step) => step.with?.command)),
    );
    expect(commands).toEqual(['plan', 'apply', 'drift']);
    expect(workflows.map((workflow) => Object.keys(workflow.on as object))).toEqual([
      ['pull_request'],
      ['push', 'workflow_dispatch'],
      ['schedule', 'workflow_dispatch'],
    ]);
  });

  it.each(workflows.map((workflow, index) => [index, workflow] as const))(
    'workflow %i uses only what action.yml declares',
    (_, workflow) => {
      for (const job of Object.values(workflow.jobs)) {
        const ours = job.steps.filter(isOurs);
        for (const step of ours) {
          expect(Object.keys(step.with ?? {}).filter((name) => !(name in action.inputs))).toEqual([]);
          for (const [name, input] of Object.entries(action.inputs))
            if (input.required) expect(step.with?.[name], name).toBeDefined();
        }
        const ids = new Set(ours.map((step) => step.id).filter(Boolean));
        const text = JSON.stringify(job.steps);
        for (const [, id, output] of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          expect(ids.has(id), `steps.${id}`).toBe(true);
          expect(Object.keys(action.outputs)).toContain(output);
        }
        for (const step of job.steps) expect(step.run ?? '').not.toContain('${{');
      }
    },
  );
});
