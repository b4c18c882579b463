/**
 * `doctor --e2e`: the e2e flow as one more doctor check, run after the outside-in checks. A real MCP client
 * (the v2 SDK) signs the test user in and calls tools; each step becomes a finding, so a user sees which
 * link of the chain breaks. The client it registers is deleted afterwards (RFC 7592), so repeated runs
 * leave nothing behind in the realm.
 */
import { redact, SECRET_ENV } from '../../config/secrets.js';
import {
  ClientStore,
  deleteRegistration,
  runE2e,
  type DpopChoice,
  type E2eReport,
  type StepUpTool,
} from '../../e2e/index.js';
import { blocked, fail, type Finding } from '../../findings.js';
import { command } from '../../ui/invocation.js';
import { applyCommand } from '../fixes.js';
import { boundedFetch } from '../http.js';
import { keycloakOnlyFetch, untrustedDestination } from '../trust.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';
import { cleanupFailed } from '../verdicts.js';
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
function asDoctorFinding(step: Finding, input: DoctorInput, firstFailure?: string): Finding {
  const finding: Finding = { ...step };
  if (step.actual !== undefined) finding.actual = redact(step.actual, input.secrets);
  // A skipped step says why it did not run (doctor's skips carry the reason in `why`), and which step stopped it.
  if (step.status === 'skip' && finding.actual !== undefined) {
    finding.why = finding.actual;
    if (firstFailure && finding.actual.startsWith('not run: an earlier step failed')) finding.blockedBy = firstFailure;
  }
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
 * DPoP when either end requires it (checks/dpop.ts): a realm made with --require-dpop refuses a token request
 * without a proof, and it does not advertise that; a server's PRM requirement the flow also sees by itself.
 */
function requiresDpop(input: DoctorInput, state: DoctorState): boolean {
  return input.config.requireDpop === true || state.dpop?.realmRequires === true || state.dpop?.serverRequires === true;
}

/** e2e.cleanup: the client the run registered, deleted with its registration access token (RFC 7592), or a failure naming it. */
async function cleanupFinding(store: ClientStore, send: typeof fetch, report: E2eReport): Promise<Finding> {
  const clientId = store.management?.clientId ?? report.clientId ?? '(unknown client_id)';
  const cleanup = await deleteRegistration(store, send);
  const timing = `the chain took ${(report.durationMs / 1000).toFixed(1)} s${report.signInMs ? ` (sign-in ${(report.signInMs / 1000).toFixed(1)} s)` : ''}`;
  if (!cleanup.deleted)
    return cleanupFailed(
      'e2e.cleanup',
      'Temporary client removed',
      `the chain ran (${timing})`,
      `client ${clientId} ("Visual Studio Code") was left in the realm: ${cleanup.detail}`,
    );
  return {
    id: 'e2e.cleanup',
    title: 'Temporary client removed',
    status: 'pass',
    actual: `${cleanup.detail}; ${timing}`,
    why: 'Each --e2e run registers a client as VS Code would; deleting it keeps the realm clean.',
  };
}

/**
 * The step-up once more, as a client that registers with the 401's scope (e2e-challenge-scope.ts): a second
 * registration and sign-in through the same guarded fetch, removed afterwards; a cleanup that fails makes the
 * finding fail, naming the client left behind.
 */
async function runChallengeScope(
  input: DoctorInput,
  send: typeof fetch,
  run: { username: string; password: string; stepUpTool: StepUpTool; dpop: DpopChoice },
): Promise<Finding> {
  const store = new ClientStore();
  const report = await runE2e({
    serverUrl: input.resource.url,
    sdk: 'v2',
    store,
    registration: 'challenge',
    fetch: send,
    ...run,
  });
  const finding = challengeScopeFinding(report);
  const cleanup = await deleteRegistration(store, send);
  if (!report.registered || cleanup.deleted) return finding;
  return { ...finding, status: 'fail', actual: `${finding.actual}; ${cleanup.detail}` };
}

export const e2eCheck: Check = {
  id: 'e2e',
  title: 'End to end: a real MCP client signs the test user in and calls a tool',
  async run(input, state) {
    const username = input.config.testUser?.username;
    const password = input.secrets.testUserPassword;
    if (!username || !password) {
      // --e2e was asked for: without the means to sign in, it fails (verdicts.ts), it is not skipped.
      const missing = !username ? 'no test user (--test-user NAME)' : `${SECRET_ENV.testUserPassword} is not set`;
      return [
        fail('e2e', this.title, {
          expected: 'a test user and its password, to sign in as a real client would',
          actual: missing,
          why: `--e2e signs a user in: ${missing}, so the end-to-end chain did not run.`,
          fix: `Create one with \`${applyCommand(input, ['--test-user', 'NAME'])}\` and run \`${SECRET_ENV.testUserPassword}=… ${command('doctor --e2e --test-user NAME')}\`.`,
        }),
      ];
    }
    // The SDK client signs in wherever the PRM points: only when that is the configured Keycloak (trust.ts).
    const untrusted = untrustedDestination(input, state);
    if (untrusted) return [blocked('e2e', this.title, untrusted.blockedBy, untrusted.why)];
    // Every request of the flow (the SDK's, the sign-in's, the cleanup's) under --timeout, the run's deadline and the
    // body cap, and none with a secret to any origin but the configured Keycloak's.
    const keycloakOnly = keycloakOnlyFetch(input.config, input.resource.url, boundedFetch);
    const store = new ClientStore();
    const stepUpTool = stepUpToolOf(input);
    const dpop: DpopChoice = requiresDpop(input, state) ? true : 'auto';
    const report = await runE2e({
      serverUrl: input.resource.url,
      username,
      password,
      sdk: 'v2',
      store,
      fetch: keycloakOnly,
      dpop,
      ...(stepUpTool ? { stepUpTool } : {}),
    });
    const firstFailure = report.checks.find((step) => step.status === 'fail')?.id;
    const findings = report.checks.map((step) => asDoctorFinding(step, input, firstFailure));
    if (stepUpTool && report.ok && !report.stepUp?.skipped)
      findings.push(
        asDoctorFinding(
          await runChallengeScope(input, keycloakOnly, { username, password, stepUpTool, dpop }),
          input,
          firstFailure,
        ),
      );
    if (report.registered) findings.push(await cleanupFinding(store, keycloakOnly, report));
    return findings;
  },
};
