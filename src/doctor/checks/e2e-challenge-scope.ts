/**
 * `doctor --e2e`'s second step-up run, as the clients that follow the MCP spec's scope selection register: with
 * the 401's `scope` (plus `offline_access`), not with the PRM's `scopes_supported` as VS Code and doctor's first
 * run do. The Python SDK (`mcp` 2.x) and both TypeScript SDK lines register that way, and with Keycloak the
 * registration's scope decides the step-up: it becomes the client's only optional client scopes, so a later
 * request for the step-up scope gets `invalid_scope`. One finding, `e2e.step-up.challenge-scope`, says what such
 * a client lives through, so doctor is never green for a step-up it tried only one way.
 */
import { fail, pass, skip, warn, type Finding } from '../../findings.js';
import type { E2eReport } from '../../e2e/index.js';

export const CHALLENGE_SCOPE_ID = 'e2e.step-up.challenge-scope';
const TITLE =
  "Step-up for clients that register with the 401's scope (MCP scope selection: Python SDK mcp 2.x, TypeScript SDK)";
const WHY =
  "Keycloak makes a registration's `scope` the client's only optional client scopes (26.7; 26.8's keycloak#50807 fix adds the realm's default scopes, not its optional ones), and no registration policy or client-policy executor adds one later: such a client may never ask for a step-up scope it did not register with.";
const FIX =
  "No realm setting lets these clients step up on Keycloak. Either the MCP server names the step-up scopes in its 401 `scope` as well (such clients then register with them and ask for them at the first sign-in: no step-up), or the tool's scope moves into the resource's `scopes`. Clients that register with the PRM's scopes_supported (VS Code) step up as the e2e.step-up checks show.";

const stepUpIds = new Set(['e2e.step-up.challenge', 'e2e.step-up.reauthorize', 'e2e.step-up.call']);

function registeredScope(report: E2eReport): string {
  const register = report.checks.find((c) => c.id === 'e2e.register')?.actual ?? '';
  return /registered with the SDK's own scope "([^"]*)"/.exec(register)?.[1] ?? '(unknown)';
}

/**
 * The verdict of the challenge-scope run: pass when it stepped up (or needed not), a warning when Keycloak refused
 * the step-up scope with invalid_scope (the realm is right; these clients cannot step up here), a failure for any
 * other broken link (this way of registering fails where the VS Code way did not).
 */
export function challengeScopeFinding(report: E2eReport): Finding {
  const registered = `registered with "${registeredScope(report)}"`;
  const broken = report.checks.find((c) => c.status === 'fail');
  if (broken && !stepUpIds.has(broken.id))
    return fail(CHALLENGE_SCOPE_ID, TITLE, {
      actual: `${broken.id} failed for a client registered with the 401's scope: ${broken.actual ?? ''}`,
      why: 'The first run (registered with the PRM’s scopes) got further: the difference is the registration scope.',
    });
  const reauthorize = report.checks.find((c) => c.id === 'e2e.step-up.reauthorize');
  const call = report.checks.find((c) => c.id === 'e2e.step-up.call');
  if (reauthorize?.status === 'fail' && /error=invalid_scope\b/.test(reauthorize.actual ?? ''))
    return warn(CHALLENGE_SCOPE_ID, TITLE, {
      actual: `cannot step up on this Keycloak: ${registered}, the re-authorization for "${report.stepUp?.authorizationScopes.at(-1) ?? ''}" got invalid_scope`,
      why: WHY,
      fix: FIX,
    });
  if (broken) return fail(CHALLENGE_SCOPE_ID, TITLE, { actual: `${registered}; ${broken.id}: ${broken.actual ?? ''}` });
  if (call?.status === 'pass')
    return pass(CHALLENGE_SCOPE_ID, TITLE, {
      actual: `${registered}; ${reauthorize?.status === 'pass' ? `stepped up (${reauthorize.actual ?? ''}); ` : ''}${call.actual ?? ''}`,
    });
  return skip(CHALLENGE_SCOPE_ID, TITLE, `${registered}; ${call?.actual ?? 'the step-up did not run'}`);
}
