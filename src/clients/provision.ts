/**
 * What `apply` provisions for the clients the config names (`clients`, --client): the CIMD client_id domains of the
 * named clients that use CIMD, and the hosts their documents name (redirect URIs), so that a client named in the
 * config is admitted when CIMD is on. ChatGPT is left out: Keycloak refuses its document whatever the domains
 * (keycloak#51039), and the config schema refuses naming it with CIMD on.
 */
import { CLIENT_CATALOGUE, type CatalogueClient } from './catalogue.js';

export interface ClientCimdDomains {
  clientIdDomains: string[];
  documentDomains: string[];
}

/** The named clients (`all`: every catalogued one); none when the config names none. */
export function namedClients(ids: readonly string[] | undefined): CatalogueClient[] {
  if (!ids) return [];
  return ids.includes('all') ? [...CLIENT_CATALOGUE] : CLIENT_CATALOGUE.filter((client) => ids.includes(client.id));
}

/** A client whose CIMD document Keycloak's executor refuses whatever the realm permits. */
export const cimdDocumentRefused = (client: CatalogueClient) => client.cimd?.authMethod === 'private_key_jwt';

/** The hosts of http(s) URIs (private-use schemes such as cursor:// are no domain to permit). */
function hostsOf(uris: readonly string[]): string[] {
  return uris.flatMap((uri) => {
    const match = /^https?:\/\/([^/:?#]+)/i.exec(uri.replace('{port}', '1'));
    return match ? [match[1]!.toLowerCase()] : [];
  });
}

/** The client_id and document domains the named clients' CIMD documents need. */
export function cimdDomainsOfClients(ids: readonly string[] | undefined): ClientCimdDomains {
  const clientIdDomains: string[] = [];
  const documentDomains: string[] = [];
  for (const client of namedClients(ids)) {
    const url = client.cimd?.clientId;
    if (!url || url === 'user-hosted' || cimdDocumentRefused(client)) continue;
    clientIdDomains.push(new URL(url).hostname);
    documentDomains.push(...hostsOf(client.redirectUris));
  }
  return { clientIdDomains, documentDomains };
}
