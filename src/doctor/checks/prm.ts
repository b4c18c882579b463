/**
 * Check 2: the Protected Resource Metadata (RFC 9728), found the way clients find it: the URL from the
 * challenge, then the path-inserted well-known URL, then the root one. Its `resource` must equal the MCP
 * URL exactly (VS Code compares strictly) and its `authorization_servers` must name this realm's issuer.
 */
import { explainUrlDifference, realmOf } from '../url-diff.js';
import { fail, pass, skip, warn, type Finding } from '../../findings.js';
import { command } from '../../ui/invocation.js';
import { asStrings, asString, describeResult, request } from '../http.js';
import type { Check } from '../types.js';

const PRM = '/.well-known/oauth-protected-resource';

/** Candidate PRM URLs in the order clients try them (MCP spec 2025-11-25, "Protected Resource Metadata Discovery"). */
export function prmCandidates(resource: string, fromHeader?: string): string[] {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  const urls = [fromHeader, `${url.origin}${PRM}${path}`, `${url.origin}${PRM}`].filter((u): u is string => Boolean(u));
  return [...new Set(urls)];
}

export const prmCheck: Check = {
  id: 'prm',
  title: 'Reading the Protected Resource Metadata',
  async run(input, state) {
    const resource = input.resource.url;
    const tried: string[] = [];
    let found: { url: string; document: Record<string, unknown> } | undefined;
    const send = input.request ?? request;
    for (const url of prmCandidates(resource, state.challenge?.resourceMetadata)) {
      const result = await send(url, { headers: { accept: 'application/json' } });
      if (result.status === 200 && result.json) {
        found = { url, document: result.json };
        break;
      }
      tried.push(`${url} → ${describeResult(result)}`);
    }
    if (!found) {
      state.authorizationServer = input.expectedIssuer;
      return [
        fail('prm.found', 'Protected Resource Metadata is served', {
          expected: 'a JSON document at one of the URLs clients try',
          actual: tried.join('; '),
          why: 'Without it clients do not know which authorization server to use (RFC 9728).',
          fix: `Serve {"resource":"${resource}","authorization_servers":["${input.expectedIssuer}"],"scopes_supported":${JSON.stringify(input.resource.scopes)}} at ${prmCandidates(resource)[0]}.`,
        }),
        skip('prm.resource', 'PRM resource equals the MCP URL', 'no Protected Resource Metadata was found'),
        skip(
          'prm.authorization_servers',
          'PRM names this realm as authorization server',
          'no Protected Resource Metadata was found',
        ),
        skip('prm.scopes_supported', 'PRM lists the required scope', 'no Protected Resource Metadata was found'),
      ];
    }
    state.prm = found;
    const doc = found.document;
    const header = state.challenge?.resourceMetadata;
    const findings: Finding[] = [];
    if (header && found.url !== header) {
      // MCP spec: a client MUST use the challenge's URL when there is one; VS Code tries nothing else.
      findings.push(
        fail('prm.found', 'Protected Resource Metadata is served', {
          expected: `the metadata at ${header} (the challenge's resource_metadata)`,
          actual: `${tried.join('; ')}; found only at ${found.url}`,
          why: 'Clients fetch the URL the challenge names and do not fall back to well-known URLs when it fails (VS Code, MCP spec 2025-06-18).',
          fix: `Serve the metadata at ${header}, or put resource_metadata="${found.url}" in the challenge.`,
        }),
      );
    } else {
      findings.push(
        pass('prm.found', 'Protected Resource Metadata is served', {
          actual: tried.length ? `${found.url} (after ${tried.join('; ')})` : found.url,
        }),
      );
    }

    const declared = asString(doc.resource);
    const difference = declared === undefined ? 'missing' : explainUrlDifference(declared, resource);
    findings.push(
      difference === undefined
        ? pass('prm.resource', 'PRM resource equals the MCP URL', { actual: declared! })
        : fail('prm.resource', 'PRM resource equals the MCP URL', {
            expected: resource,
            actual: declared ?? '(no resource field)',
            why:
              declared === undefined
                ? 'RFC 9728 requires `resource`; clients reject the document without it.'
                : `PRM resource is ${declared} but the MCP URL is ${resource}: ${difference}. Clients compare them byte for byte (RFC 9728 §3.3) and refuse to continue.`,
            fix: `Make the server publish "resource": "${resource}" (the exact URL clients connect to), or point clients and --resource at ${declared ?? 'the URL it publishes'}.`,
          }),
    );

    const servers = asStrings(doc.authorization_servers) ?? [];
    const expected = input.expectedIssuer;
    state.authorizationServer = servers[0] ?? expected;
    if (servers.length === 0) {
      findings.push(
        fail('prm.authorization_servers', 'PRM names this realm as authorization server', {
          expected: `authorization_servers: ["${expected}"]`,
          actual: 'no authorization_servers',
          why: 'Clients find Keycloak only through this list.',
          fix: `Add "authorization_servers": ["${expected}"] to the metadata.`,
        }),
      );
    } else if (servers.includes(expected)) {
      findings.push(
        pass('prm.authorization_servers', 'PRM names this realm as authorization server', {
          actual: servers.join(', '),
        }),
      );
      state.authorizationServer = expected;
    } else if (input.keycloakProblem) {
      // Our own idea of the issuer is unconfirmed: do not blame the server for a wrong --keycloak-url.
      findings.push(
        warn('prm.authorization_servers', 'PRM names this realm as authorization server', {
          expected: expected,
          actual: servers.join(', '),
          why: `Cannot confirm: ${input.keycloakProblemKind === 'realm-missing' ? `realm "${input.config.realm}" does not exist at` : 'Keycloak did not answer at'} ${input.config.keycloakUrl} (see keycloak.realm); the PRM points clients at ${servers[0]}.`,
          fix: `If ${servers[0]} is right, run doctor with the Keycloak URL and realm it names.`,
        }),
      );
    } else {
      const first = servers[0]!;
      const otherRealm = realmOf(first);
      const why =
        otherRealm && otherRealm !== input.config.realm
          ? `PRM names realm "${otherRealm}" (${first}) but this setup uses realm "${input.config.realm}" (${expected}): clients will sign in to the wrong realm and the server will reject the tokens.`
          : `PRM names ${first} but Keycloak's issuer is ${expected}: ${explainUrlDifference(first, expected)}. Clients compare the issuer byte for byte.`;
      findings.push(
        fail('prm.authorization_servers', 'PRM names this realm as authorization server', {
          expected,
          actual: servers.join(', '),
          why,
          fix: `Configure the MCP server with the issuer ${expected} (for the reference server: \`${command(`serve --keycloak-url ${input.config.keycloakUrl} --realm ${input.config.realm}`)}\`).`,
        }),
      );
    }

    const scopes = asStrings(doc.scopes_supported);
    const required = input.resource.scopes;
    if (!scopes) {
      findings.push(
        warn('prm.scopes_supported', 'PRM lists the required scope', {
          expected: `scopes_supported containing ${required.join(', ')}`,
          actual: 'no scopes_supported',
          why: 'Without it (and without scope in the challenge) VS Code requests no scope at all.',
          fix: `Add "scopes_supported": ${JSON.stringify(required)}.`,
        }),
      );
    } else if (!required.some((s) => scopes.includes(s))) {
      findings.push(
        fail('prm.scopes_supported', 'PRM lists the required scope', {
          expected: `scopes_supported containing ${required.join(' or ')}`,
          actual: JSON.stringify(scopes),
          why: 'Clients request the scopes listed here; without the required one their token lacks the audience and the scope.',
          fix: `Publish "scopes_supported": ${JSON.stringify(required)}.`,
        }),
      );
    } else {
      findings.push(pass('prm.scopes_supported', 'PRM lists the required scope', { actual: JSON.stringify(scopes) }));
    }
    return findings;
  },
};
