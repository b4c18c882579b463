/**
 * The verdict of doctor's challenge-scope step-up run (src/doctor/checks/e2e-challenge-scope.ts), from fixture
 * reports: a warning only for Keycloak's invalid_scope (such clients cannot step up there), a failure for any
 * other broken link, a pass when the step-up worked. test/e2e/challenge-scope-step-up.test.ts runs it for real.
 */
import { describe, expect, it } from 'vitest';
import { challengeScopeFinding, CHALLENGE_SCOPE_ID } from '../../src/doctor/checks/e2e-challenge-scope.js';
import type { E2eReport } from '../../src/e2e/index.js';
import type { Finding } from '../../src/findings.js';

const REGISTER: Finding = {
  id: 'e2e.register',
  title: 'register',
  status: 'pass',
  actual: `HTTP 201; registered with the SDK's own scope "mcp:run offline_access" (the 401's scope: MCP scope selection, as the Python SDK registers)`,
};

function report(checks: Finding[], lastScope = 'offline_access mcp:run mcp:admin'): E2eReport {
  return {
    ok: checks.every((c) => c.status !== 'fail'),
    sdk: 'v2',
    serverUrl: 'http://127.0.0.1:8000/mcp',
    checks: [REGISTER, ...checks],
    durationMs: 1,
    registered: true,
    signedIn: true,
    authorizationScopes: [],
    stepUp: { tool: 'divide_numbers', authorizationScopes: [lastScope], reauthorizations: 1 },
  };
}

const step = (id: string, status: Finding['status'], actual: string): Finding => ({ id, title: id, status, actual });

describe('challengeScopeFinding', () => {
  it('warns that such clients cannot step up when Keycloak refuses the scope with invalid_scope', () => {
    const finding = challengeScopeFinding(
      report([
        step('e2e.step-up.reauthorize', 'fail', 'Keycloak refused the re-authorization request: error=invalid_scope'),
        step('e2e.step-up.call', 'skip', 'not run'),
      ]),
    );
    expect(finding).toMatchObject({
      id: CHALLENGE_SCOPE_ID,
      status: 'warn',
      actual:
        'cannot step up on this Keycloak: registered with "mcp:run offline_access", the re-authorization for "offline_access mcp:run mcp:admin" got invalid_scope',
    });
    expect(finding.fix).toMatch(/^No realm setting lets these clients step up/);
  });

  it('fails for any other broken link, naming it', () => {
    expect(challengeScopeFinding(report([step('e2e.sign-in', 'fail', 'HTTP 400')]))).toMatchObject({
      status: 'fail',
      actual: "e2e.sign-in failed for a client registered with the 401's scope: HTTP 400",
    });
    expect(
      challengeScopeFinding(report([step('e2e.step-up.reauthorize', 'fail', 'finishAuth failed: boom')])),
    ).toMatchObject({
      status: 'fail',
      actual: 'registered with "mcp:run offline_access"; e2e.step-up.reauthorize: finishAuth failed: boom',
    });
  });

  it('passes when the retried call returned, and skips when the step-up did not run', () => {
    expect(
      challengeScopeFinding(
        report([
          step('e2e.step-up.reauthorize', 'pass', 'requested …'),
          step('e2e.step-up.call', 'pass', 'divide_numbers(6, 3) = 2'),
        ]),
      ),
    ).toMatchObject({
      status: 'pass',
      actual: 'registered with "mcp:run offline_access"; stepped up (requested …); divide_numbers(6, 3) = 2',
    });
    expect(challengeScopeFinding(report([]))).toMatchObject({ status: 'skip' });
  });
});
