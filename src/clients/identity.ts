/**
 * How a catalogued client identifies itself to a realm, derived from the catalogue row and what the realm
 * advertises: its Client ID Metadata Document when Keycloak offers CIMD and the client prefers it, else Dynamic
 * Client Registration. Pure; `verdict.ts` builds the per-client verdict on it.
 */
import type { CatalogueClient } from './catalogue.js';

/** What the realm's metadata and setup say, as far as identity goes. */
export interface IdentityFacts {
  /** AS metadata `client_id_metadata_document_supported` (Keycloak advertises it in every realm with --features=cimd). */
  cimdAdvertised: boolean;
  /** `none` among `token_endpoint_auth_methods_supported` (Claude clients use CIMD only then). */
  noneAdvertised: boolean;
  /** The client_id domains the realm's CIMD policy admits; undefined when CIMD is not set up. */
  cimdDomains?: string[];
  /** The realm's CIMD objects differ from the configuration (doctor's realm.cimd failed): apply restores them. */
  cimdDrifted?: boolean;
  /** The Keycloak version, when serverinfo was read (admin credentials). */
  keycloakVersion?: string;
}

export type Identity =
  | { way: 'cimd'; clientId: string; domain: string }
  | { way: 'dcr'; confirmed: boolean }
  /** Neither: it would use CIMD, which this Keycloak does not offer, and it is not known to register. */
  | { way: 'cimd-not-offered'; clientId: string; domain: string };

/** A client with a fixed client_id URL of its own (not a document the user hosts). */
function fixedCimdUrl(client: CatalogueClient): string | undefined {
  const id = client.cimd?.clientId;
  return id && id !== 'user-hosted' ? id : undefined;
}

/** Whether the client sends its document URL as client_id to an AS with these facts. */
function prefersCimdHere(client: CatalogueClient, facts: IdentityFacts): boolean {
  if (!facts.cimdAdvertised) return false;
  if (client.prefersCimd === 'when-advertised') return true;
  if (client.prefersCimd === 'when-advertised-with-none') return facts.noneAdvertised;
  return false;
}

/** Which way the client identifies itself to this realm. */
export function identityOf(client: CatalogueClient, facts: IdentityFacts): Identity {
  const url = fixedCimdUrl(client);
  if (url && prefersCimdHere(client, facts)) return { way: 'cimd', clientId: url, domain: new URL(url).hostname };
  if (client.dcr.registers === false && url)
    return { way: 'cimd-not-offered', clientId: url, domain: new URL(url).hostname };
  // A client whose DCR is unconfirmed but whose CIMD is known, on a Keycloak without CIMD: it needs CIMD.
  if (client.dcr.registers === 'unknown' && url)
    return { way: 'cimd-not-offered', clientId: url, domain: new URL(url).hostname };
  return { way: 'dcr', confirmed: client.dcr.registers === true };
}

/** Whether a CIMD policy with these client_id domains admits `host` (exact, or `*.parent` for subdomains). */
export function domainAdmitted(host: string, domains: readonly string[]): boolean {
  const lower = host.toLowerCase();
  return domains.some((domain) =>
    domain.startsWith('*.') ? lower.endsWith(domain.slice(1)) && lower !== domain.slice(2) : lower === domain,
  );
}
