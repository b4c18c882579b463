/**
 * The readings behind doctor's `dpop.ends` and the e2e flow's DPoP switch, without a network: which client
 * policies make a realm bind tokens, what a PRM says, the verdict for each pair of ends, and when the flow
 * sends proofs. The same code runs against the real Keycloak in doctor-dpop.test.ts and test/e2e/dpop.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { dpopEndsFinding, policiesRequireDpop, serverDpop, type DpopEnds } from '../../src/doctor/checks/dpop.js';
import { dpopWanted, offersDpop } from '../../src/e2e/dpop.js';
import type { ClientPolicy, ClientProfile } from '../../src/realm/cimd.js';

const config = configSchema.parse({
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resources: [{ url: 'http://localhost:8000/mcp', scopes: ['mcp:tools'] }],
});
const input = { config, resource: config.resources[0]! };

const binding: ClientProfile = {
  name: 'mcp-keycloak-pkce',
  executors: [
    { executor: 'pkce-enforcer', configuration: {} },
    { executor: 'dpop-bind-enforcer', configuration: { 'auto-configure': true } },
  ],
};
const policy = (enabled: boolean): ClientPolicy => ({
  name: 'mcp-keycloak-pkce',
  enabled,
  conditions: [],
  profiles: ['mcp-keycloak-pkce'],
});

describe('policiesRequireDpop', () => {
  it('is true only for an enabled policy that runs a profile with dpop-bind-enforcer', () => {
    expect(policiesRequireDpop([binding], [policy(true)])).toBe(true);
    expect(policiesRequireDpop([binding], [policy(false)])).toBe(false);
    expect(policiesRequireDpop([{ ...binding, executors: [binding.executors[0]!] }], [policy(true)])).toBe(false);
    expect(policiesRequireDpop([binding], [])).toBe(false);
  });
});

describe('dpopEndsFinding', () => {
  const ends = (realmRequires: boolean, prm: Record<string, unknown>): DpopEnds => ({
    realmRequires,
    realmSource: 'realm',
    ...serverDpop(prm),
  });
  const allowed = { dpop_signing_alg_values_supported: ['ES256'], dpop_bound_access_tokens_required: false };
  const required = { ...allowed, dpop_bound_access_tokens_required: true };

  it('fails a binding realm in front of a Bearer-only server, with serve --dpop allowed', () => {
    const finding = dpopEndsFinding(ends(true, {}), input);
    expect(finding.status).toBe('fail');
    expect(finding.fix).toContain('serve --dpop allowed');
  });

  it('warns when the server requires DPoP and the realm does not bind, with apply --require-dpop', () => {
    const finding = dpopEndsFinding(ends(false, required), input);
    expect(finding.status).toBe('warn');
    expect(finding.fix).toMatch(/apply .*--require-dpop/);
  });

  it('passes when the ends agree, or neither uses DPoP', () => {
    expect(dpopEndsFinding(ends(true, allowed), input).status).toBe('pass');
    expect(dpopEndsFinding(ends(true, required), input).status).toBe('pass');
    expect(dpopEndsFinding(ends(false, allowed), input).status).toBe('pass');
    expect(dpopEndsFinding(ends(false, {}), input).actual).toMatch(/does not require DPoP.*Bearer tokens only/);
  });

  it('says when the realm side comes from the config (no admin credentials)', () => {
    const finding = dpopEndsFinding({ ...ends(true, {}), realmSource: 'config' }, input);
    expect(finding.actual).toContain('per the config');
  });
});

describe('dpopWanted (the e2e flow)', () => {
  const discovery = (prm: Record<string, unknown>) =>
    ({ authorizationServerUrl: 'http://kc', resourceMetadata: { resource: 'http://mcp', ...prm } }) as never;
  it('auto follows the PRM; true and false are fixed', () => {
    expect(dpopWanted('auto', undefined)).toBe(false);
    expect(dpopWanted('auto', discovery({ dpop_bound_access_tokens_required: false }))).toBe(false);
    expect(dpopWanted('auto', discovery({ dpop_bound_access_tokens_required: true }))).toBe(true);
    expect(dpopWanted(true, undefined)).toBe(true);
    expect(dpopWanted(false, discovery({ dpop_bound_access_tokens_required: true }))).toBe(false);
    expect(dpopWanted('auto', undefined, true)).toBe(true);
    expect(dpopWanted(false, undefined, true)).toBe(false);
  });

  it("offersDpop reads the MCP endpoint's 401 challenges, alone or beside Bearer", () => {
    const mcp = 'http://127.0.0.1:1/mcp';
    const entry = (challenge: string, url = mcp, status = 401) => ({
      method: 'POST',
      url,
      status,
      challenge,
      bearer: false,
    });
    expect(offersDpop([entry('DPoP resource_metadata="x"')], mcp)).toBe(true);
    expect(offersDpop([entry('Bearer resource_metadata="x", DPoP algs="ES256"')], mcp)).toBe(true);
    expect(offersDpop([entry('Bearer resource_metadata="x", error_description="no DPoP here"')], mcp)).toBe(false);
    expect(offersDpop([entry('DPoP algs="ES256"', 'http://127.0.0.1:1/other')], mcp)).toBe(false);
    expect(offersDpop([entry('DPoP algs="ES256"', mcp, 403)], mcp)).toBe(false);
  });
});
