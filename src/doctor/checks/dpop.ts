/**
 * `dpop.ends`: DPoP (RFC 9449) must be agreed by both ends. The realm decides whether a client's tokens are bound to
 * its key (`apply --require-dpop`: the mcp-keycloak-pkce profile with dpop-bind-enforcer, so every anonymously
 * created client must send a proof); the MCP server says in its Protected Resource Metadata whether it accepts DPoP
 * (`dpop_signing_alg_values_supported`) and whether it requires it (`dpop_bound_access_tokens_required`, RFC 9728
 * §2). A realm that binds tokens in front of a server that knows only Bearer locks every client out after sign-in;
 * a server that requires DPoP on a realm that does not bind leaves clients without DPoP to sign in and be refused.
 * What this finds also tells `doctor --e2e` to send proofs (state.dpop).
 */
import { applyCommand } from '../fixes.js';
import { blocked, fail, pass, warn, type Finding } from '../../findings.js';
import { DPOP_EXECUTOR, type ClientPolicy, type ClientProfile } from '../../realm/cimd.js';
import { command } from '../../ui/invocation.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';

const ID = 'dpop.ends';
const TITLE = 'DPoP: the realm and the MCP server agree on sender-constrained tokens';

/** What each end says about DPoP. */
export interface DpopEnds {
  /** The realm makes (anonymously created) clients bind their tokens to a DPoP key. */
  realmRequires: boolean;
  /** Where that came from: the live client policies (admin credentials), or the config's requireDpop. */
  realmSource: 'realm' | 'config';
  /** The proof algorithms the PRM lists: the server accepts DPoP-bound tokens when there are any. */
  serverAlgs: string[];
  serverRequires: boolean;
}

/** Whether an enabled client policy of the realm runs a profile with dpop-bind-enforcer. */
export function policiesRequireDpop(profiles: ClientProfile[], policies: ClientPolicy[]): boolean {
  const binding = new Set(
    profiles.filter((p) => p.executors?.some((e) => e.executor === DPOP_EXECUTOR)).map((p) => p.name),
  );
  return policies.some((policy) => policy.enabled && policy.profiles?.some((name) => binding.has(name)));
}

async function realmRequiresDpop(input: DoctorInput): Promise<Pick<DpopEnds, 'realmRequires' | 'realmSource'>> {
  if (!input.admin) return { realmRequires: input.config.requireDpop === true, realmSource: 'config' };
  const realm = encodeURIComponent(input.config.realm);
  const [profiles, policies] = await Promise.all([
    input.admin.read<{ profiles?: ClientProfile[] }>(
      `${realm}/client-policies/profiles`,
      'reading the client profiles',
    ),
    input.admin.read<{ policies?: ClientPolicy[] }>(`${realm}/client-policies/policies`, 'reading the client policies'),
  ]);
  return {
    realmRequires: policiesRequireDpop(profiles?.profiles ?? [], policies?.policies ?? []),
    realmSource: 'realm',
  };
}

/** What the PRM says about DPoP. */
export function serverDpop(prm: Record<string, unknown>): Pick<DpopEnds, 'serverAlgs' | 'serverRequires'> {
  const algs = prm.dpop_signing_alg_values_supported;
  return {
    serverAlgs: Array.isArray(algs) ? algs.filter((a): a is string => typeof a === 'string') : [],
    serverRequires: prm.dpop_bound_access_tokens_required === true,
  };
}

function describeEnds(ends: DpopEnds): string {
  const realm = ends.realmRequires
    ? `the realm binds the tokens of anonymously created clients to a DPoP key (dpop-bind-enforcer${ends.realmSource === 'config' ? ', per the config: without admin credentials the realm was not read' : ''})`
    : `the realm does not require DPoP${ends.realmSource === 'config' ? ' (per the config: without admin credentials the realm was not read)' : ''}`;
  const server =
    ends.serverAlgs.length === 0
      ? 'the PRM advertises no DPoP (no dpop_signing_alg_values_supported): the server accepts Bearer tokens only'
      : `the PRM advertises DPoP (${ends.serverAlgs.join(' ')}), ${ends.serverRequires ? 'required' : 'allowed beside Bearer'}`;
  return `${realm}; ${server}`;
}

/** The verdict on both ends (pure: the unit tests and the check share it). */
export function dpopEndsFinding(
  ends: DpopEnds,
  input: Pick<DoctorInput, 'config' | 'configFile' | 'overrides' | 'resource'>,
): Finding {
  const actual = describeEnds(ends);
  if (ends.realmRequires && ends.serverAlgs.length === 0)
    return fail(ID, TITLE, {
      expected: 'an MCP server that accepts DPoP-bound tokens, since the realm binds them',
      actual,
      why: 'Keycloak issues token_type DPoP to every client it binds, and clients present them as `Authorization: DPoP` with a proof: a server that knows only Bearer refuses every call after a successful sign-in.',
      fix: `Accept DPoP at the MCP server: \`${command('serve --dpop allowed')}\` (or \`--dpop required\`; in your own server the library's \`dpop: { mode: 'allowed' }\`), or stop requiring it: \`${applyCommand(input)}\` without --require-dpop (requireDpop).`,
    });
  if (ends.serverRequires && !ends.realmRequires)
    return warn(ID, TITLE, {
      expected: 'a realm that binds tokens to a DPoP key, since the MCP server requires DPoP-bound tokens',
      actual,
      why: 'Keycloak binds a token only when the client sends a proof: a client without DPoP signs in, gets a Bearer token and only then is refused by the server, instead of being told at the token endpoint.',
      fix: `Make the realm require DPoP of anonymously created clients: \`${applyCommand(input, ['--require-dpop'])}\` (or requireDpop: true in the config).`,
    });
  return pass(ID, TITLE, { actual });
}

/** What each end says, for doctor --e2e: send proofs when either requires DPoP. */
function remember(state: DoctorState, ends: DpopEnds): void {
  state.dpop = { realmRequires: ends.realmRequires, serverRequires: ends.serverRequires };
}

export const dpopCheck: Check = {
  id: 'dpop',
  title: 'Comparing what the realm and the MCP server say about DPoP',
  async run(input, state) {
    const prm = state.prm?.document;
    if (!prm) {
      if (input.config.requireDpop) state.dpop = { realmRequires: true, serverRequires: false };
      return [blocked(ID, TITLE, 'prm.found', 'not run: no Protected Resource Metadata says what the server accepts')];
    }
    const ends: DpopEnds = { ...(await realmRequiresDpop(input)), ...serverDpop(prm) };
    remember(state, ends);
    return [dpopEndsFinding(ends, input)];
  },
};
