/**
 * The authorization-code flow exactly as an MCP client runs it, through the SDK's own OAuth functions
 * (startAuthorization, exchangeAuthorization) and the headless sign-in: for tests that pin what Keycloak
 * answers to a given client, scope and `resource`. `iss` from the callback is passed on, as RFC 9207 clients do.
 */
import {
  exchangeAuthorization,
  startAuthorization,
  type AuthorizationServerMetadata,
  type OAuthClientInformation,
  type OAuthTokens,
} from '@modelcontextprotocol/client';
import { signIn } from '../../src/oauth/sign-in.js';

export interface CodeFlow {
  issuer: string;
  metadata: AuthorizationServerMetadata;
  client: OAuthClientInformation;
  redirectUri: string;
  username: string;
  password: string;
  scope?: string;
  /** Sent on both requests when given (RFC 8707). */
  resource?: string;
}

/** Signs `username` in and redeems the code; throws what the SDK or the sign-in throws. */
export async function codeFlowTokens(flow: CodeFlow): Promise<OAuthTokens> {
  const resource = flow.resource ? { resource: new URL(flow.resource) } : {};
  const { authorizationUrl, codeVerifier } = await startAuthorization(flow.issuer, {
    metadata: flow.metadata,
    clientInformation: flow.client,
    redirectUrl: flow.redirectUri,
    ...(flow.scope ? { scope: flow.scope } : {}),
    ...resource,
  });
  const { code, callback } = await signIn({
    authorizationUrl,
    redirectUri: flow.redirectUri,
    username: flow.username,
    password: flow.password,
  });
  const iss = callback.get('iss');
  return exchangeAuthorization(flow.issuer, {
    metadata: flow.metadata,
    clientInformation: flow.client,
    authorizationCode: code,
    ...(iss ? { iss } : {}),
    codeVerifier,
    redirectUri: flow.redirectUri,
    ...resource,
  });
}
