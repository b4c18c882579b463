/**
 * `doctor --e2e`: the e2e flow as one more doctor check, run after the outside-in checks. A real MCP client
 * (the v2 SDK) signs the test user in and calls tools; each step becomes a finding, so a user sees which
 * link of the chain breaks. The client it registers is deleted afterwards (RFC 7592), so repeated runs
 * leave nothing behind in the realm.
 */
import { redact, SECRET_ENV } from '../../config/secrets.js';
import { ClientStore, deleteRegistration, runE2e, type StepUpTool } from '../../e2e/index.js';
import type { Finding } from '../../findings.js';
import { command } from '../../ui/invocation.js';
import { applyCommand } from '../fixes.js';
import type { Check, DoctorInput } from '../types.js';
import { challengeScopeFinding } from './e2e-challenge-scope.js';

/**
 * Steps `mcp-keycloak apply` (and so `doctor --fix`) repairs when they fail. A failed step-up re-authorization
 * of the client doctor registers (with the PRM's scopes) comes from the realm: the step-up scope missing, not
 * in the token's scope, or not allowed for registration, all of which apply sets up from `toolScopes`.
 */
const FIXABLE = new Set(['e2e.register', 'e2e.claims', 'e2e.step-up.reauthorize']);

/**
 * The step's finding as doctor reports it: the secrets redacted from what was seen, the bare `apply` of the
 * flow's fixes spelled for this target, and marked fixable when apply repairs it (the listed steps, and a
 * token request refused with invalid_target because the realm lacks the resource client apply creates).
 */
function asDoctorFinding(step: Finding, input: DoctorInput): Finding {
  const finding: Finding = { ...step };
  if (step.actual !== undefined) finding.actual = redact(step.actual, input.secrets);
  const bareApply = `\`${command('apply')}\``;
  const runsApply = step.fix?.includes(bareApply) ?? false;
  if (runsApply) finding.fix = step.fix!.replace(bareApply, `\`${applyCommand(input)}\``);
  if (step.status === 'fail' && (FIXABLE.has(step.id) || (step.id === 'e2e.token' && runsApply)))
    finding.fixable = true;
  return finding;
}

/** The operands doctor passes to the step-up tool: the reference server's tools all take {a, b}. */
export const STEP_UP_ARGUMENTS = { a: 6, b: 3 };

/**
 * The step-up tool of the examined resource: the first tool in its `toolScopes` that needs a scope, called with
 * STEP_UP_ARGUMENTS; undefined when the resource has no step-up.
 */
export function stepUpToolOf(input: DoctorInput): StepUpTool | undefined {
  const entry = Object.entries(input.resource.toolScopes ?? {}).find(([, scopes]) => scopes.length > 0);
  return entry ? { name: entry[0], arguments: { ...STEP_UP_ARGUMENTS }, scopes: [...entry[1]] } : undefined;
}

/**
 * The step-up once more, as a client that registers with the 401's scope (e2e-challenge-scope.ts): a second
 * registration and sign-in, removed afterwards; a cleanup that fails makes the finding fail.
 */
async function runChallengeScope(
  input: DoctorInput,
  run: { username: string; password: string; stepUpTool: StepUpTool },
): Promise<Finding> {
  const store = new ClientStore();
  const report = await runE2e({ serverUrl: input.resource.url, sdk: 'v2', store, registration: 'challenge', ...run });
  const finding = challengeScopeFinding(report);
  const cleanup = await deleteRegistration(store);
  if (!report.registered || cleanup.deleted) return finding;
  // A client left behind in the realm is a failure of this probe (issue 19: green means cleaned up too).
  return { ...finding, status: 'fail', actual: `${finding.actual}; ${cleanup.detail}` };
}

export const e2eCheck: Check = {
  id: 'e2e',
  title: 'End to end: a real MCP client signs the test user in and calls a tool',
  async run(input) {
    const username = input.config.testUser?.username;
    const password = input.secrets.testUserPassword;
    if (!username || !password) {
      const missing = !username ? 'no test user (--test-user NAME)' : `${SECRET_ENV.testUserPassword} is not set`;
      return [
        {
          id: 'e2e',
          title: this.title,
          status: 'skip',
          why: `--e2e signs a user in: ${missing}.`,
          fix: `Create one with \`${applyCommand(input, ['--test-user', 'NAME'])}\` and run \`${SECRET_ENV.testUserPassword}=… ${command('doctor --e2e --test-user NAME')}\`.`,
        },
      ];
    }
    const store = new ClientStore();
    const stepUpTool = stepUpToolOf(input);
    const report = await runE2e({
      serverUrl: input.resource.url,
      username,
      password,
      sdk: 'v2',
      store,
      ...(stepUpTool ? { stepUpTool } : {}),
    });
    const findings = report.checks.map((step) => asDoctorFinding(step, input));
    const cleanup = await deleteRegistration(store);
    if (stepUpTool && report.ok && !report.stepUp?.skipped)
      findings.push(asDoctorFinding(await runChallengeScope(input, { username, password, stepUpTool }), input));
    const timing = `the chain took ${(report.durationMs / 1000).toFixed(1)} s${report.signInMs ? ` (sign-in ${(report.signInMs / 1000).toFixed(1)} s)` : ''}`;
    if (report.registered) {
      findings.push({
        id: 'e2e.cleanup',
        title: 'Temporary client removed',
        status: cleanup.deleted ? 'pass' : 'warn',
        actual: `${cleanup.detail}; ${timing}`,
        why: 'Each --e2e run registers a client as VS Code would; deleting it keeps the realm clean.',
        ...(cleanup.deleted
          ? {}
          : { fix: 'Delete the client named "Visual Studio Code" with this client_id in the admin console.' }),
      });
    }
    return findings;
  },
};
