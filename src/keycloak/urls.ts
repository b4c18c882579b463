/**
 * Where a Keycloak realm's endpoints live, built in one place. Keycloak derives every one of them from
 * the issuer, `<base>/realms/<realm>`; building them by hand elsewhere is how a missing `/auth` or a
 * doubled slash ends up in one command and not in another.
 */

/** The base URL without trailing slashes: `http://h:8080/` and `http://h:8080` are the same Keycloak. */
export function trimBase(keycloakUrl: string): string {
  return keycloakUrl.replace(/\/+$/, '');
}

/** The realm's issuer: what tokens carry in `iss` and what every other realm URL starts with. */
export function realmIssuer(keycloakUrl: string, realm: string): string {
  return `${trimBase(keycloakUrl)}/realms/${encodeURIComponent(realm)}`;
}

/** Every URL a realm serves that this tool reads or hands to clients. */
export interface RealmUrls {
  issuer: string;
  /** OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`). */
  discovery: string;
  /** RFC 8414 metadata: the well-known segment goes between the host and the issuer's path. */
  oauthMetadata: string;
  token: string;
  authorization: string;
  /** Dynamic Client Registration (RFC 7591), Keycloak's OIDC flavour. */
  registration: string;
  jwks: string;
  introspection: string;
  /** The admin API's representation of the realm (`<base>/admin/realms/<realm>`). */
  admin: string;
}

/** All of a realm's URLs from the Keycloak base URL (as given by --keycloak-url) and the realm name. */
export function realmUrls(keycloakUrl: string, realm: string): RealmUrls {
  const issuer = realmIssuer(keycloakUrl, realm);
  const parsed = new URL(issuer);
  return {
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    oauthMetadata: `${parsed.origin}/.well-known/oauth-authorization-server${parsed.pathname}`,
    token: `${issuer}/protocol/openid-connect/token`,
    authorization: `${issuer}/protocol/openid-connect/auth`,
    registration: `${issuer}/clients-registrations/openid-connect`,
    jwks: `${issuer}/protocol/openid-connect/certs`,
    introspection: `${issuer}/protocol/openid-connect/token/introspect`,
    admin: `${trimBase(keycloakUrl)}/admin/realms/${encodeURIComponent(realm)}`,
  };
}
