/**
 * Gets a real token for the test user the way VS Code does: register a throwaway public client through
 * the anonymous DCR endpoint (with the scope VS Code would ask for), sign in through the authorization-code
 * flow with PKCE on Keycloak's own login and consent pages (headless, see src/oauth/sign-in.ts), exchange the
 * code. Afterwards it ends the login session and deletes the client with its registration access token,
 * so nothing is left behind. The password, code and tokens never leave this module except the access
 * token, which the caller analyses and never prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DpopSession } from '@modelcontextprotocol/client';
import { signIn, SignInError, type SignInOptions } from '../../oauth/sign-in.js';
import type { AdminSession } from '../../keycloak/session.js';
import { deleteClient, registerClient } from '../dcr.js';
import { request, type HttpRequest } from '../http.js';

export interface ObtainOptions {
  /** The realm's OIDC metadata (authorization, token, registration and end-session endpoints). */
  metadata: Record<string, unknown>;
  realm: string;
  username: string;
  password: string;
  scopes: string[];
  resource: string;
  admin?: AdminSession;
  /** How to reach the registration, token and end-session endpoints (default: real requests). */
  request?: HttpRequest;
  /** How the sign-in reaches Keycloak's pages (default `sendToKeycloak`); doctor passes its Keycloak-only fetch (trust.ts). */
  signInFetch?: SignInOptions['fetch'];
  /** A DPoP key to bind the token to (RFC 9449): the realm requires it (`apply --require-dpop`). */
  dpop?: DpopSession;
}

export interface Obtained {
  accessToken: string;
  clientId: string;
  /** Sentences about clean-up that did not work (a client left behind). */
  leftovers: string[];
}

/** A failure to get a token, with the step that failed; the message is safe to print. */
export class ObtainError extends Error {
  constructor(
    readonly step: 'register' | 'sign-in' | 'token',
    message: string,
  ) {
    super(message);
    this.name = 'ObtainError';
  }
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

/** Registers a throwaway client, signs the test user in with PKCE, redeems the code, then cleans up (see above). */
export async function obtainTestUserToken(options: ObtainOptions): Promise<Obtained> {
  const { metadata } = options;
  const send = options.request ?? request;
  const endpoint = (key: string) => {
    const value = metadata[key];
    if (typeof value !== 'string') throw new ObtainError('register', `the realm metadata has no ${key}`);
    return value;
  };
  // Nothing listens on this port: the code is read from the redirect's Location header.
  const redirectUri = 'http://127.0.0.1:33418/';
  const registration = {
    client_name: 'mcp-keycloak doctor (temporary)',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    scope: options.scopes.join(' '),
  };
  const registered = await registerClient(endpoint('registration_endpoint'), registration, undefined, send);
  if (!registered.ok) {
    throw new ObtainError(
      'register',
      `registering a temporary client failed (${registered.policy ? `policy "${registered.policy}": ` : ''}${registered.reason})`,
    );
  }
  const client = registered.client;
  const leftovers: string[] = [];
  try {
    const verifier = b64url(randomBytes(32));
    const authorize = new URL(endpoint('authorization_endpoint'));
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: redirectUri,
      scope: options.scopes.join(' '),
      state: b64url(randomBytes(16)),
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      // RFC 8707, as MCP clients send it; Keycloak without the resource-indicators feature ignores it.
      resource: options.resource,
    }).toString();
    let code: string;
    try {
      ({ code } = await signIn({
        authorizationUrl: authorize,
        redirectUri,
        username: options.username,
        password: options.password,
        ...(options.signInFetch ? { fetch: options.signInFetch } : {}),
      }));
    } catch (error) {
      const message =
        error instanceof SignInError
          ? `${error.step}: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
      throw new ObtainError('sign-in', `signing in as ${options.username} failed at ${message}`);
    }
    const tokenEndpoint = endpoint('token_endpoint');
    const proof: Record<string, string> = options.dpop
      ? { dpop: await options.dpop.buildProof({ htm: 'POST', htu: tokenEndpoint }) }
      : {};
    const tokens = await send(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...proof },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: client.clientId,
        code_verifier: verifier,
        resource: options.resource,
      }),
    });
    const accessToken = tokens.json?.access_token;
    if (tokens.status !== 200 || typeof accessToken !== 'string') {
      const description =
        tokens.json?.error_description ?? tokens.json?.error ?? tokens.error ?? `HTTP ${tokens.status}`;
      throw new ObtainError('token', `the token request failed: ${String(description)}`);
    }
    const refresh = tokens.json?.refresh_token;
    const endSession = metadata.end_session_endpoint;
    if (typeof refresh === 'string' && typeof endSession === 'string') {
      // Ends the user session the sign-in created (OIDC RP-initiated logout with the refresh token, Keycloak's way).
      await send(endSession, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: client.clientId, refresh_token: refresh }),
      });
    }
    return { accessToken, clientId: client.clientId, leftovers };
  } finally {
    const leftover = await deleteClient(client, options.realm, options.admin, send);
    if (leftover) leftovers.push(leftover);
  }
}
