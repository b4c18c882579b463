/**
 * The per-client verdict (src/clients/verdict.ts): from what a client does (the catalogue) and what a realm shows,
 * `works`, `works after <fix>` or `cannot on this Keycloak (keycloak#N, fixed in X)`. No Keycloak: the facts are
 * given; the integration test (client-verdicts.test.ts) gathers them from a real realm.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_CATALOGUE, catalogueClient, type CatalogueClient } from '../../src/clients/catalogue.js';
import { domainAdmitted } from '../../src/clients/identity.js';
import { derivedBody } from '../../src/clients/registration-body.js';
import { clientVerdict, verdictLine, type RegistrationResult, type VerdictFacts } from '../../src/clients/verdict.js';

const client = (id: string): CatalogueClient => catalogueClient(id)!;
const accepted: RegistrationResult = { ok: true, body: 'probe' };

/** A realm as `apply` makes it on Keycloak 26.7.3 started with --features=cimd, without `apply --cimd`. */
function facts(over: Partial<VerdictFacts> = {}): VerdictFacts {
  return {
    cimdAdvertised: true,
    noneAdvertised: true,
    keycloakVersion: '26.7.3',
    challengeScopes: ['mcp:run'],
    prmScopes: ['mcp:run'],
    asScopes: ['openid', 'mcp:run', 'offline_access'],
    stepUpScopes: [],
    dcrMode: 'anonymous',
    ...over,
  };
}

const line = (id: string, f: VerdictFacts, r: RegistrationResult = accepted) =>
  verdictLine(clientVerdict(client(id), f, r));

describe('per-client verdicts', () => {
  it('CIMD clients on a realm without a CIMD policy: works after apply --cimd; DCR-only clients work', () => {
    expect(line('vscode', facts())).toBe('works after apply --cimd');
    expect(line('claude-code', facts())).toBe('works after apply --cimd');
    expect(line('cursor', facts())).toBe('works');
    // Without --features=cimd nothing is advertised: VS Code and Claude Code fall back to DCR.
    expect(line('vscode', facts({ cimdAdvertised: false }))).toBe('works');
    expect(clientVerdict(client('vscode'), facts({ cimdAdvertised: false }), accepted).identity).toBe('DCR');
  });

  it('Claude clients use CIMD only when none is among the token endpoint auth methods', () => {
    expect(clientVerdict(client('claude-code'), facts({ noneAdvertised: false }), accepted).identity).toBe('DCR');
    expect(clientVerdict(client('vscode'), facts({ noneAdvertised: false }), accepted).identity).toMatch(/^CIMD /);
  });

  it('a CIMD policy admits a client by its client_id domain, or names the domain to add', () => {
    const cimd = facts({ cimdDomains: ['vscode.dev', 'claude.ai'] });
    expect(line('vscode', cimd)).toBe('works');
    expect(line('claude-code', cimd)).toBe('works');
    expect(line('vscode-insiders', cimd)).toBe('works after apply --cimd-domain insiders.vscode.dev');
    expect(line('zed', cimd)).toBe('works after apply --cimd-domain zed.dev');
    // The configuration admits it, the realm does not hold it (realm.cimd failed): apply restores it.
    expect(line('vscode', { ...cimd, cimdDrifted: true })).toBe('works after apply');
    expect(domainAdmitted('insiders.vscode.dev', ['*.vscode.dev'])).toBe(true);
    expect(domainAdmitted('vscode.dev', ['*.vscode.dev'])).toBe(false);
    expect(domainAdmitted('evilvscode.dev', ['*.vscode.dev'])).toBe(false);
  });

  it('claude.ai cannot through CIMD before 26.8.0 (keycloak#50362); ChatGPT cannot at all (keycloak#51039)', () => {
    const cimd = facts({ cimdDomains: ['claude.ai', 'chatgpt.com'] });
    expect(line('claude-ai', cimd)).toMatch(/^cannot on this Keycloak \(keycloak#50362, fixed in 26\.8\.0\)/);
    expect(line('claude-ai', { ...cimd, keycloakVersion: '26.8.0' })).toBe('works');
    expect(line('chatgpt', { ...cimd, keycloakVersion: '26.8.0' })).toMatch(
      /^cannot on this Keycloak \(keycloak#51039, no fixed version known\)/,
    );
    // Without CIMD advertised both register with DCR, which the probe decides.
    expect(line('claude-ai', facts({ cimdAdvertised: false }))).toBe('works');
    expect(line('chatgpt', facts({ cimdAdvertised: false }))).toBe('works');
  });

  it('a registration refused by Trusted Hosts: works after --trusted-host in trusted-hosts mode, after apply when drifted', () => {
    const refused: RegistrationResult = {
      ok: false,
      policy: 'Trusted Hosts',
      reason: 'Host not trusted',
      body: 'probe',
    };
    expect(line('cursor', facts({ dcrMode: 'trusted-hosts' }), refused)).toBe(
      'works after apply --trusted-host <the host it registers from>',
    );
    expect(line('cursor', facts(), refused)).toBe('works after apply');
  });

  it('a client that would use CIMD on a Keycloak without it, and is not known to register: works after the cimd feature', () => {
    expect(line('copilot-cli', facts({ cimdAdvertised: false }))).toBe(
      'works after Keycloak runs with --features=cimd and apply --cimd',
    );
  });

  it('step-up: clients registering with the PRM scopes step up; those registering with the 401 scope cannot', () => {
    const stepUp = facts({ prmScopes: ['mcp:run', 'mcp:admin'], stepUpScopes: ['mcp:admin'], cimdAdvertised: false });
    expect(line('vscode', stepUp)).toBe('works');
    expect(clientVerdict(client('vscode'), stepUp, accepted).stepUp).toMatch(/^re-authorizes for mcp:admin/);
    const python = clientVerdict(client('sdk-python'), stepUp, accepted);
    expect(verdictLine(python)).toMatch(/^cannot on this Keycloak \(keycloak#50807, not fixed in 26\.8\.0/);
    expect(python.stepUp).toBe(
      'registers with "mcp:run offline_access", so Keycloak answers invalid_scope to mcp:admin',
    );
    // A client that registers without scope gets the realm's optional scopes: Cursor's step-up is simply unconfirmed.
    expect(line('cursor', stepUp)).toBe('works');
    expect(clientVerdict(client('cursor'), stepUp, accepted).unconfirmed).toContain('how it steps up');
  });

  it('offline_access: asked for when the AS lists it, by the clients that add it', () => {
    expect(clientVerdict(client('sdk-python'), facts(), accepted).signInScope).toBe('mcp:run offline_access');
    expect(clientVerdict(client('sdk-python'), facts({ asScopes: [] }), accepted).signInScope).toBe('mcp:run');
    expect(clientVerdict(client('sdk-ts-v1'), facts(), accepted).signInScope).toBe('mcp:run');
    expect(derivedBody(client('sdk-python'), facts())).toMatchObject({ scope: 'mcp:run offline_access' });
    expect(derivedBody(client('sdk-ts-v1'), facts())).toMatchObject({ scope: 'mcp:run' });
  });

  it('every catalogued client gets exactly one of the three verdicts on every kind of realm', () => {
    const realms = [facts(), facts({ cimdAdvertised: false }), facts({ cimdDomains: ['vscode.dev'] })];
    for (const realm of realms)
      for (const entry of CLIENT_CATALOGUE)
        expect(verdictLine(clientVerdict(entry, realm, accepted)), entry.id).toMatch(
          /^(works|works after .+|cannot on this Keycloak \(keycloak#\d+, .+\).*)$/,
        );
  });
});
