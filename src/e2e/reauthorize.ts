/**
 * A 401 in the middle of a session, as a host should answer it (MCP 2026-07-28, SEP-2352): the server may
 * have moved to another authorization server, so the client reads the Protected Resource Metadata again
 * instead of trusting what it discovered before, registers anew where the authorization server changed
 * (the SDK discards a client stamped with another issuer), signs the user in once more and retries on a new
 * connection. Both SDK lines keep their discovery state and reuse it on such a 401, so the flow forgets it
 * first. Bounded: one re-authorization per run; its failure is thrown in words and becomes the step's finding.
 */
import type { SignInResult } from '../oauth/sign-in.js';
import type { ClientStore, E2eOAuthProvider } from './provider.js';
import { checkResponseIssuer } from './responses.js';
import type { McpSession, SdkClient } from './sdk.js';

export interface ReauthorizeContext {
  sdk: SdkClient;
  provider: E2eOAuthProvider;
  store: ClientStore;
  serverUrl: string;
  fetchFn: typeof fetch;
  signIn(authorizationUrl: URL): Promise<SignInResult>;
  /** Whether the AS advertises RFC 9207 iss, as the flow saw it (v1's schema drops the field from OpenID discovery). */
  issAdvertised: () => boolean;
}

/** The new session and what happened, for the finding of the step that met the 401. */
export async function reauthorizeAfter401(ctx: ReauthorizeContext): Promise<{ session: McpSession; note: string }> {
  const { sdk, provider, store } = ctx;
  const before = store.discovery?.authorizationServerUrl;
  const registrationsBefore = store.registrations;
  // Forget the discovery and the refused token: the SDK then reads the PRM and the AS metadata again.
  delete store.discovery;
  delete store.tokens;
  const outcome = await sdk.connect(new URL(ctx.serverUrl), provider, ctx.fetchFn);
  // Read through a function: TypeScript would keep the property narrowed to undefined after the delete.
  const discovered = () => store.discovery;
  const after = discovered()?.authorizationServerUrl;
  const moved =
    before !== undefined && after !== undefined && before !== after
      ? `the authorization server moved from ${before} to ${after}`
      : `the same authorization server ${after ?? before ?? ''}`.trim();
  if (outcome.kind === 'connected')
    return {
      session: outcome.session,
      note: `a 401 in the middle of the session: discovered again (${moved}); connected without a new sign-in`,
    };

  const url = provider.authorizationUrl;
  if (!url)
    throw new Error(
      'a 401 in the middle of the session: after discovering again the SDK asked for a sign-in but built no authorization URL',
    );
  const { callback } = await ctx.signIn(url);
  if (!provider.stateMatches(callback.get('state')))
    throw new Error(
      'a 401 in the middle of the session: the new sign-in\u2019s redirect carried a different `state` than the request',
    );
  if (!sdk.checksResponseIssuer) {
    const metadata = discovered()?.authorizationServerMetadata;
    const verdict = checkResponseIssuer(
      callback.get('iss') ?? undefined,
      metadata?.issuer,
      metadata?.authorization_response_iss_parameter_supported === true || ctx.issAdvertised(),
    );
    if (!verdict.ok)
      throw new Error(
        `a 401 in the middle of the session: the new sign-in\u2019s redirect has ${verdict.problem === 'missing' ? 'no iss' : 'an iss that is not the issuer'} (expected ${verdict.expected}); the code was not redeemed`,
      );
  }
  await outcome.finishAuth(callback);
  const again = await sdk.connect(new URL(ctx.serverUrl), provider, ctx.fetchFn);
  if (again.kind !== 'connected')
    throw new Error('a 401 in the middle of the session: the server refused the token of the new sign-in as well');
  const registered =
    store.registrations > registrationsBefore
      ? `, registered a new client (${store.clientInformation?.client_id ?? '?'})`
      : '';
  return {
    session: again.session,
    note: `a 401 in the middle of the session: discovered again (${moved})${registered}, signed in again`,
  };
}
