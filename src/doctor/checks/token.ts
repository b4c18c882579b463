/**
 * Check 6: the token, given (`--token -`, MCP_KEYCLOAK_TOKEN) or obtained for `--test-user`. Decoded for
 * display (never the signature), verified against the JWKS of the realm the server trusts, then each
 * claim compared with what the server expects.
 */
import { DpopSession } from '@modelcontextprotocol/client';
import { SECRET_ENV } from '../../config/secrets.js';
import { blocked, fail, pass, skip, type Finding } from '../../findings.js';
import { keycloakOnlyFetch, keycloakOnlyRequest, untrustedDestination } from '../trust.js';
import { cleanupFailed } from '../verdicts.js';
import { applyCommand } from '../fixes.js';
import { asString, describeResult, request, type HttpRequest } from '../http.js';
import { compareClaims } from '../token/claims.js';
import { decodeToken } from '../token/decode.js';
import { obtainTestUserToken, ObtainError } from '../token/obtain.js';
import { verifySignature } from '../token/signature.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';

/** The token findings and their titles (the same titles `compareClaims` uses), for skips. */
const TOKEN_CHECKS: Record<string, string> = {
  'token.obtain': 'A token can be obtained for the test user',
  'token.decode': 'Token is a JWT',
  'token.signature': 'Signature verifies against the realm keys',
  'token.iss': 'Token iss is this realm',
  'token.aud': 'Token aud contains the MCP URL',
  'token.scope': 'Token scope contains the required scope',
  'token.exp': 'Token is not expired',
  'token.nbf': 'Token is already valid (nbf)',
  'token.typ': 'It is an access token',
  'token.azp': 'Token names the client it was issued to (azp)',
};
const HOW = `Pass a token with --token - (stdin) or MCP_KEYCLOAK_TOKEN, or use --test-user NAME with ${SECRET_ENV.testUserPassword}.`;

export const tokenCheck: Check = {
  id: 'token',
  title: 'Analysing the access token',
  async run(input, state) {
    const findings: Finding[] = [];
    const realmMetadata = await (input.request ?? request)(`${input.expectedIssuer}/.well-known/openid-configuration`);
    if (input.token) {
      state.token = { value: input.token.value, source: input.token.source };
    } else if (input.config.testUser) {
      const obtained = await obtain(input, state, realmMetadata.json);
      findings.push(obtained.finding);
      if (obtained.token)
        state.token = { value: obtained.token, source: 'test-user', ...(obtained.dpop ? { dpop: obtained.dpop } : {}) };
    }
    if (!state.token) {
      state.tokenMissing = input.config.testUser ? 'no token could be obtained for the test user' : 'no token given';
      const skipped = Object.entries(TOKEN_CHECKS).filter(([id]) => id !== 'token.obtain' || !input.config.testUser);
      return [...findings, ...skipped.map(([id, title]) => skip(id, title, state.tokenMissing!, HOW))];
    }
    return [...findings, ...(await analyse(input, state, realmMetadata.json))];
  },
};

async function obtain(
  input: DoctorInput,
  state: DoctorState,
  metadata: Record<string, unknown> | undefined,
): Promise<{ finding: Finding; token?: string; dpop?: DpopSession }> {
  const name = input.config.testUser!.username;
  const title = `A token can be obtained for test user ${name}`;
  const password = input.secrets.testUserPassword;
  if (!password)
    return {
      finding: skip(
        'token.obtain',
        title,
        `${SECRET_ENV.testUserPassword} is not set`,
        `Export ${SECRET_ENV.testUserPassword}.`,
      ),
    };
  // The password goes only to the configured Keycloak (trust.ts); Keycloak's own metadata is read from there.
  const untrusted = untrustedDestination(input, {});
  if (untrusted) return { finding: blocked('token.obtain', title, untrusted.blockedBy, untrusted.why) };
  if (!metadata)
    return {
      finding: fail('token.obtain', title, {
        actual: `${input.expectedIssuer} metadata unreadable`,
        why: 'The realm is not reachable.',
      }),
    };
  // A realm that binds tokens (apply --require-dpop) refuses a token request without a DPoP proof (checks/dpop.ts).
  const dpop = input.config.requireDpop || state.dpop?.realmRequires ? await DpopSession.create() : undefined;
  try {
    const got = await obtainTestUserToken({
      metadata,
      realm: input.config.realm,
      username: name,
      password,
      scopes: input.resource.scopes,
      resource: input.resource.url,
      ...(input.admin ? { admin: input.admin } : {}),
      request: keycloakOnlyRequest(input),
      signInFetch: keycloakOnlyFetch(input.config, input.resource.url),
      ...(dpop ? { dpop } : {}),
    });
    const detail = `signed in through a temporary DCR client (deleted) with scope ${input.resource.scopes.join(' ')}${dpop ? ', the token bound to a DPoP key (the realm requires DPoP)' : ''}`;
    const finding = got.leftovers.length
      ? cleanupFailed('token.obtain', title, 'a token was obtained', got.leftovers.join('; '))
      : pass('token.obtain', title, { actual: detail });
    return { finding, token: got.accessToken, ...(dpop ? { dpop } : {}) };
  } catch (error) {
    return { finding: obtainFailure(input, state, title, error) };
  }
}

/** token.obtain's failure, named after what Keycloak said: a refused login, invalid_target, or 26.7's HTTP 500. */
function obtainFailure(input: DoctorInput, state: DoctorState, title: string, error: unknown): Finding {
  const name = input.config.testUser!.username;
  const message =
    error instanceof ObtainError
      ? error.message
      : `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
  const badLogin = /invalid username or password|not fully set up/i.test(message);
  // Keycloak's words for invalid_target (RFC 8707), which it answers only with its resource-indicators feature on.
  const badTarget = /invalid_target|requested resource is (invalid|not matching)/i.test(message);
  // Keycloak 26.7's resource indicators fail with a NullPointerException (HTTP 500, "consult the server
  // log") when a resource is sent and the token would carry no aud at all: the audience mapper is gone.
  const indicatorsMaybeOn = !state.server || state.server.features.includes('resource-indicators');
  if (indicatorsMaybeOn && /token request failed: .*consult the server log/i.test(message)) {
    return fail('token.obtain', title, {
      actual: message,
      why:
        'Keycloak failed with an internal error at the token endpoint. With resource indicators on, Keycloak 26.7 does that (a NullPointerException in ResourceIndicatorsPostProcessor) ' +
        `when a client sends resource and the token would have no aud at all, i.e. the scope has no Audience mapper for ${input.resource.url}; its log says more.`,
      fix: `${applyCommand(input)} (puts the Audience mapper back)`,
      fixable: true,
    });
  }
  if (badTarget) {
    return fail('token.obtain', title, {
      actual: message,
      why:
        `Keycloak runs with resource indicators (RFC 8707): it answers invalid_target unless a client named in the token's aud has resource_url = ${input.resource.url}. ` +
        'Every MCP client sends that resource (the 2025-06-18 spec and later), so every sign-in ends here.',
      fix: `${applyCommand(input)} (keeps the audience mapper on the exact URL and creates the resource client: clientId and resource_url = ${input.resource.url})`,
      fixable: true,
    });
  }
  return fail('token.obtain', title, {
    actual: message,
    why: badLogin
      ? `Keycloak refused the sign-in of ${name}.`
      : 'The flow a client like VS Code goes through fails at this step.',
    fix: badLogin
      ? applyCommand(input, ['--test-user', name]) +
        ` (creates or repairs the user and sets the password from ${SECRET_ENV.testUserPassword})`
      : 'See the registration and realm findings above.',
  });
}

async function analyse(
  input: DoctorInput,
  state: DoctorState,
  metadata: Record<string, unknown> | undefined,
): Promise<Finding[]> {
  const token = state.token!.value;
  const decoded = decodeToken(token);
  if (!decoded) {
    return [
      fail('token.decode', 'Token is a JWT', {
        expected: 'a signed JWT (header.payload.signature)',
        actual: `not a JWT (${token.split('.').length} dot-separated parts)`,
        why: 'Keycloak access tokens are JWTs; this looks like an opaque or truncated token, or not a token at all.',
        fix: 'Copy the whole access_token value (check for lost characters or quotes).',
      }),
    ];
  }
  state.decodedToken = decoded;
  const { header, claims } = decoded;
  const findings: Finding[] = [
    pass('token.decode', 'Token is a JWT', {
      actual: `alg ${String(header.alg)}, kid ${String(header.kid ?? '(none)')}, source ${state.token!.source}`,
    }),
  ];
  const jwksUri = asString(metadata?.jwks_uri);
  if (!jwksUri) {
    findings.push(
      skip(
        'token.signature',
        'Signature verifies against the realm keys',
        `the realm metadata at ${input.expectedIssuer} could not be read`,
      ),
    );
  } else {
    const signature = await verifySignature(token, jwksUri);
    findings.push(
      signature.ok
        ? pass('token.signature', 'Signature verifies against the realm keys', {
            actual: `${signature.alg} with key ${signature.kid ?? '(no kid)'} from ${jwksUri}`,
          })
        : fail('token.signature', 'Signature verifies against the realm keys', {
            expected: `a signature by a key in ${jwksUri}`,
            actual: signature.reason,
            why: 'The server verifies against this realm\u2019s keys and will reject the token.',
            fix: 'Use a token issued by this realm (see token.iss).',
          }),
    );
  }
  findings.push(
    ...compareClaims(claims, {
      issuer: input.expectedIssuer,
      resource: input.resource.url,
      scopes: input.resource.scopes,
      applyFix: applyCommand(input),
    }),
  );
  return findings;
}

/**
 * Used by the MCP call check to explain a refusal: the server's answer to tools/list with the token, presented as
 * the call presented it (a DPoP-bound token as `DPoP` with a fresh proof: as Bearer it would be refused for that alone).
 */
export async function explainRefusal(
  url: string,
  token: string,
  send: HttpRequest = request,
  dpop?: DpopSession,
): Promise<string> {
  const proof: Record<string, string> = dpop
    ? { dpop: await dpop.buildProof({ htm: 'POST', htu: url, accessToken: token }) }
    : {};
  const result = await send(url, {
    method: 'POST',
    headers: {
      authorization: `${dpop ? 'DPoP' : 'Bearer'} ${token}`,
      ...proof,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  const header = result.headers?.get('www-authenticate');
  return header ? `${describeResult(result)}, WWW-Authenticate: ${header}` : describeResult(result);
}
