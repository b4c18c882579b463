/**
 * What `apply` provisions for the clients the config names (`clients`, --client), and the combination it refuses:
 * the CIMD domains of named CIMD clients (src/clients/provision.ts → desiredCimd), and chatgpt with CIMD on
 * (keycloak#51039). No Keycloak; the integration test client-verdicts.test.ts applies them to a real realm.
 */
import { describe, expect, it } from 'vitest';
import { cimdDomainsOfClients } from '../../src/clients/provision.js';
import { loadConfig, mergeSources } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { desiredRealm } from '../../src/realm/desired.js';

const parse = (raw: Record<string, unknown>) => configSchema.parse(raw);

describe('clients the config names', () => {
  it('--client takes comma-separated and repeated ids into clients, replacing the file’s list', () => {
    expect(mergeSources({ clients: ['cursor'] }, {}, { client: ['zed,goose', 'zed'] }).clients).toEqual([
      'zed',
      'goose',
    ]);
    expect(mergeSources({ clients: ['cursor'] }, {}, {}).clients).toEqual(['cursor']);
  });

  it('refuses an id the catalogue does not know, in one line naming the ids it knows', async () => {
    await expect(loadConfig({ client: ['vscode,netscape'] }, {}, '/nonexistent')).rejects.toThrow(
      /clients\[1\].*must be a client of the catalogue \(vscode, vscode-insiders, .*\) or all/,
    );
  });

  it('with CIMD on, the named clients’ client_id domains and document hosts are permitted; without, nothing changes', () => {
    expect(cimdDomainsOfClients(['zed', 'vscode-insiders', 'cursor', 'inspector'])).toEqual({
      clientIdDomains: ['insiders.vscode.dev', 'zed.dev'],
      documentDomains: ['127.0.0.1', 'insiders.vscode.dev', '127.0.0.1'],
    });
    const cimd = desiredRealm(parse({ cimd: { enabled: true, clients: ['vscode'] }, clients: ['zed'] })).cimd!;
    expect(cimd.clientIdDomains).toEqual(['vscode.dev', 'zed.dev']);
    expect(cimd.permittedDomains).toEqual(['127.0.0.1', 'code.visualstudio.com', 'vscode.dev', 'zed.dev']);
    expect(desiredRealm(parse({ clients: ['zed'] })).cimd).toBeUndefined();
    // Without named clients the CIMD setup is what it was.
    expect(desiredRealm(parse({ cimd: { enabled: true, clients: ['vscode'] } })).cimd!.clientIdDomains).toEqual([
      'vscode.dev',
    ]);
  });

  it('all: every catalogued client with a CIMD document of its own but ChatGPT’s, which Keycloak refuses anyway', () => {
    expect(cimdDomainsOfClients(['all']).clientIdDomains).toEqual([
      'vscode.dev',
      'insiders.vscode.dev',
      'claude.ai',
      'claude.ai',
      'goose-docs.ai',
      'github.com',
      'zed.dev',
    ]);
  });

  it('refuses chatgpt with CIMD on (keycloak#51039), and accepts it without, or under all', () => {
    const refused = configSchema.safeParse({ cimd: { enabled: true }, clients: ['cursor', 'chatgpt'] });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({
      path: ['clients', 1],
      message: expect.stringMatching(/^chatgpt cannot sign in with CIMD on: .*private_key_jwt.*keycloak#51039/),
    });
    expect(configSchema.safeParse({ clients: ['chatgpt'] }).success).toBe(true);
    expect(configSchema.safeParse({ cimd: { enabled: true }, clients: ['all'] }).success).toBe(true);
  });
});
